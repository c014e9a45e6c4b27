//! `RenderedTree`: a rendered child held in memory, '/'-separated relative path -> bytes and executable bit, or a
//! symlink and its target.
//! It is what spawn writes to disk and what update turns into git trees to merge.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// One file of a rendered child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The bytes, or a symlink's target.
    pub contents: Vec<u8>,
    pub executable: bool,
    /// A symlink (git mode 120000), written as a link and never followed.
    pub link: bool,
}

impl RenderedFile {
    pub fn new(contents: impl Into<Vec<u8>>, executable: bool) -> Self {
        Self {
            contents: contents.into(),
            executable,
            link: false,
        }
    }

    /// A symlink to `target`.
    pub fn link(target: impl Into<Vec<u8>>) -> Self {
        Self {
            contents: target.into(),
            executable: false,
            link: true,
        }
    }

    /// The git file mode: 120000 for a link, 100755 executable, 100644 otherwise.
    pub fn git_mode(&self) -> git2::FileMode {
        match (self.link, self.executable) {
            (true, _) => git2::FileMode::Link,
            (false, true) => git2::FileMode::BlobExecutable,
            (false, false) => git2::FileMode::Blob,
        }
    }
}

/// A whole rendered child, sorted by path. Paths are relative, '/'-separated, without `.` or `..` segments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedTree {
    pub files: BTreeMap<String, RenderedFile>,
}

impl RenderedTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file, returning the one it replaced at the same path, if any.
    pub fn insert(&mut self, path: impl Into<String>, file: RenderedFile) -> Option<RenderedFile> {
        self.files.insert(path.into(), file)
    }

    pub fn get(&self, path: &str) -> Option<&RenderedFile> {
        self.files.get(path)
    }

    pub fn remove(&mut self, path: &str) -> Option<RenderedFile> {
        self.files.remove(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &RenderedFile)> {
        self.files.iter()
    }

    /// Every file as git takes it: path, bytes, mode.
    pub fn git_files(&self) -> impl Iterator<Item = (&str, &[u8], git2::FileMode)> {
        self.iter()
            .map(|(path, file)| (path.as_str(), file.contents.as_slice(), file.git_mode()))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Writes every file under `root` (which must exist), creating folders and setting the executable bit.
    /// `before_each` runs before each file and may stop the write (e.g. on Ctrl-C).
    pub fn write_to(
        &self,
        root: &Path,
        mut before_each: impl FnMut() -> io::Result<()>,
    ) -> io::Result<()> {
        let mut created_folders = std::collections::HashSet::new();
        for (path, file) in &self.files {
            before_each()?;
            let target = root.join(path);
            if let Some(parent) = target.parent()
                && created_folders.insert(parent.to_path_buf())
            {
                fs::create_dir_all(parent)?;
            }
            if file.link {
                write_link(&target, &file.contents)?;
            } else {
                write_file(&target, &file.contents, file.executable)?;
            }
        }
        Ok(())
    }
}

impl FromIterator<(String, RenderedFile)> for RenderedTree {
    fn from_iter<I: IntoIterator<Item = (String, RenderedFile)>>(iter: I) -> Self {
        Self {
            files: iter.into_iter().collect(),
        }
    }
}

/// Creates a symlink to `target` (where there are none, a file holding the target, as git does).
#[cfg(unix)]
fn write_link(path: &Path, target: &[u8]) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)
}

#[cfg(not(unix))]
fn write_link(path: &Path, target: &[u8]) -> io::Result<()> {
    fs::write(path, target)
}

/// Creates a file with its mode set at creation (0o777 or 0o666, less the umask, as any program would).
#[cfg(unix)]
fn write_file(path: &Path, contents: &[u8], executable: bool) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if executable { 0o777 } else { 0o666 };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_file(path: &Path, contents: &[u8], _executable: bool) -> io::Result<()> {
    fs::write(path, contents)
}

/// Whether a file on disk has an executable bit set (always false where there is none).
#[cfg(unix)]
pub fn is_executable(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub fn is_executable(_metadata: &fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_to_creates_folders_and_keeps_the_executable_bit() {
        let folder = tempfile::tempdir().unwrap();
        let tree: RenderedTree = [
            ("a/b/c.txt".to_string(), RenderedFile::new("c", false)),
            ("run.sh".to_string(), RenderedFile::new("#!/bin/sh\n", true)),
        ]
        .into_iter()
        .collect();
        tree.write_to(folder.path(), || Ok(())).unwrap();
        assert_eq!(fs::read(folder.path().join("a/b/c.txt")).unwrap(), b"c");
        let run = fs::metadata(folder.path().join("run.sh")).unwrap();
        assert_eq!(is_executable(&run), cfg!(unix));
        let plain = fs::metadata(folder.path().join("a/b/c.txt")).unwrap();
        assert!(!is_executable(&plain));
    }

    #[test]
    fn write_to_stops_when_asked() {
        let folder = tempfile::tempdir().unwrap();
        let tree: RenderedTree = [("a.txt".to_string(), RenderedFile::new("a", false))]
            .into_iter()
            .collect();
        let result = tree.write_to(folder.path(), || Err(io::Error::other("interrupted")));
        assert!(result.is_err());
        assert!(!folder.path().join("a.txt").exists());
    }
}

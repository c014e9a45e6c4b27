//! The child as doctor sees it: its record, the list of its files, and reading a file safely
//! (size cap, text only, no special files, no following of symlink loops).

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;
use walkdir::WalkDir;

pub use crate::record::{ChildRecord, RECORD_FILE};

/// Doctor never reads more than this from one file: a config larger than this is itself a finding.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Folders that are never part of what deploys or what doctor checks.
const SKIPPED_FOLDERS: &[&str] = &[
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".vercel",
    "target",
];

/// Walking stops here, so a child with a huge tree (or a deep symlinked one) cannot stall doctor.
const MAX_WALKED_ENTRIES: usize = 20_000;
const MAX_WALK_DEPTH: usize = 16;

/// Why doctor could not run at all (exit status 2).
#[derive(Debug, Error)]
pub enum ChildError {
    #[error("`{}` is not an osorganic child: it has no `{RECORD_FILE}`", .0.display())]
    NotAChild(PathBuf),
    #[error("cannot read `{}`: {message}", .path.display())]
    UnreadableRecord { path: PathBuf, message: String },
}

/// Why a file's text could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    Missing,
    NotAFile,
    TooLarge(u64),
    NotText,
    Unreadable(String),
}

impl FileProblem {
    /// A message naming the file: "`vercel.json` is not a text file".
    pub fn describe(&self, path: &str) -> String {
        match self {
            FileProblem::Missing => format!("`{path}` is missing"),
            FileProblem::NotAFile => format!("`{path}` is not a regular file"),
            FileProblem::TooLarge(size) => format!(
                "`{path}` is {}, more than the {} doctor reads",
                HumanBytes(*size),
                HumanBytes(MAX_FILE_BYTES)
            ),
            FileProblem::NotText => format!("`{path}` is not a UTF-8 text file"),
            FileProblem::Unreadable(reason) => format!("`{path}` cannot be read: {reason}"),
        }
    }

    /// A fix that never throws away the user's version of `path`.
    pub fn fix_keeping_your_work(&self, path: &str) -> String {
        match self {
            FileProblem::Missing => format!(
                "bring back the committed copy: `git restore --source=HEAD -- {path}` (the file is gone, so nothing of yours is lost)"
            ),
            FileProblem::NotAFile => format!(
                "move what is there aside (`mv {path} {path}.aside`), then bring back the committed copy: `git restore --source=HEAD -- {path}`"
            ),
            FileProblem::TooLarge(_) | FileProblem::NotText => format!(
                "compare it with the committed copy (`git diff -- {path}`; `git show HEAD:{path}` prints that copy without touching yours)"
            ),
            FileProblem::Unreadable(_) => {
                format!("give yourself read access (`chmod u+r {path}`), then run doctor again")
            }
        }
    }
}

/// The outcome of reading one file of the child.
pub type FileText = Result<String, FileProblem>;

struct HumanBytes(u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0 as f64;
        if bytes >= 1024.0 * 1024.0 {
            write!(f, "{:.1} MB", bytes / (1024.0 * 1024.0))
        } else if bytes >= 1024.0 {
            write!(f, "{:.1} kB", bytes / 1024.0)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

/// A path inside the child that could not be followed (a symlink loop or a dangling link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub path: String,
    pub reason: String,
}

/// The child folder, its record and its files ('/'-separated, relative, sorted).
#[derive(Debug)]
pub struct Child {
    pub root: PathBuf,
    pub record: ChildRecord,
    pub files: Vec<String>,
    pub broken_links: Vec<BrokenLink>,
    /// The walk stopped at its limit; some files were not looked at.
    pub walk_truncated: bool,
}

impl Child {
    /// Reads the record and lists the files. Fails when `root` is not a child.
    pub fn open(root: &Path) -> Result<Self, ChildError> {
        let record_path = root.join(RECORD_FILE);
        if !record_path.exists() {
            return Err(ChildError::NotAChild(root.to_path_buf()));
        }
        let record_text =
            read_capped(&record_path).map_err(|problem| ChildError::UnreadableRecord {
                path: record_path.clone(),
                message: problem.describe(RECORD_FILE),
            })?;
        let record =
            ChildRecord::parse(&record_text).map_err(|message| ChildError::UnreadableRecord {
                path: record_path.clone(),
                message,
            })?;
        let walk = walk(root);
        Ok(Self {
            root: root.to_path_buf(),
            record,
            files: walk.files,
            broken_links: walk.broken_links,
            walk_truncated: walk.truncated,
        })
    }

    /// A recorded answer as text (strings as they are, other values as TOML writes them).
    pub fn answer(&self, name: &str) -> Option<String> {
        self.record.answers.get(name).map(|value| match value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    /// The text of a file of the child, by relative path.
    pub fn read(&self, relative: &str) -> FileText {
        read_capped(&self.root.join(relative))
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.files
            .binary_search_by(|file| file.as_str().cmp(relative))
            .is_ok()
    }

    /// Files directly inside `folder` (relative, no trailing slash), sorted.
    pub fn files_in<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.files.iter().map(String::as_str).filter(move |file| {
            file.strip_prefix(folder)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| !name.contains('/'))
        })
    }

    /// Files anywhere under `folder`, sorted.
    pub fn files_under<'a>(&'a self, folder: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.files.iter().map(String::as_str).filter(move |file| {
            file.strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// Reads a regular file as UTF-8 text, refusing special files, oversized files and binary content.
pub fn read_capped(path: &Path) -> FileText {
    // `metadata` follows links: a loop or a dangling link fails here instead of hanging later.
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error)
            if error.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_err() =>
        {
            return Err(FileProblem::Missing);
        }
        Err(error) => return Err(FileProblem::Unreadable(error.to_string())),
    };
    if !metadata.is_file() {
        return Err(FileProblem::NotAFile);
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(FileProblem::TooLarge(metadata.len()));
    }
    let file = fs::File::open(path).map_err(|error| FileProblem::Unreadable(error.to_string()))?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| FileProblem::Unreadable(error.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(FileProblem::TooLarge(bytes.len() as u64));
    }
    if bytes.contains(&0) {
        return Err(FileProblem::NotText);
    }
    String::from_utf8(bytes).map_err(|_| FileProblem::NotText)
}

struct Walk {
    files: Vec<String>,
    broken_links: Vec<BrokenLink>,
    truncated: bool,
}

/// Lists the child's files without following symlinks, skipping tool and cache folders, bounded in
/// depth and count.
fn walk(root: &Path) -> Walk {
    let mut walk = Walk {
        files: Vec::new(),
        broken_links: Vec::new(),
        truncated: false,
    };
    let entries = WalkDir::new(root)
        .follow_links(false)
        .max_depth(MAX_WALK_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !(entry.file_type().is_dir()
                    && SKIPPED_FOLDERS.contains(&entry.file_name().to_string_lossy().as_ref()))
        });
    for (count, entry) in entries.enumerate() {
        if count >= MAX_WALKED_ENTRIES {
            walk.truncated = true;
            break;
        }
        // An entry that cannot be read (permissions, a vanished file) is simply not listed.
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type().is_symlink() {
            match fs::metadata(entry.path()) {
                Ok(target) if target.is_dir() => continue,
                Ok(_) => {}
                Err(error) => {
                    walk.broken_links.push(BrokenLink {
                        path: relative,
                        reason: link_reason(&error),
                    });
                    continue;
                }
            }
        }
        walk.files.push(relative);
    }
    walk.files.sort();
    walk
}

fn link_reason(error: &io::Error) -> String {
    // ELOOP on Linux and macOS.
    if matches!(error.raw_os_error(), Some(40) | Some(62)) {
        "a symlink loop".to_string()
    } else if error.kind() == io::ErrorKind::NotFound {
        "a symlink to nothing".to_string()
    } else {
        format!("a symlink that cannot be followed ({error})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_refuses_binary_and_oversized_files() {
        let folder = tempfile::tempdir().unwrap();
        fs::write(folder.path().join("binary.sql"), [0x00, 0xff, 0x10]).unwrap();
        assert_eq!(
            read_capped(&folder.path().join("binary.sql")),
            Err(FileProblem::NotText)
        );
        let big = fs::File::create(folder.path().join("big.yml")).unwrap();
        big.set_len(MAX_FILE_BYTES + 10).unwrap();
        assert!(matches!(
            read_capped(&folder.path().join("big.yml")),
            Err(FileProblem::TooLarge(_))
        ));
        assert_eq!(
            read_capped(&folder.path().join("absent")),
            Err(FileProblem::Missing)
        );
    }

    #[cfg(unix)]
    #[test]
    fn walking_reports_symlink_loops_without_following_them() {
        let folder = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("loop", folder.path().join("loop")).unwrap();
        std::os::unix::fs::symlink(".", folder.path().join("self")).unwrap();
        fs::write(folder.path().join("a.txt"), "a").unwrap();
        let walk = walk(folder.path());
        assert_eq!(walk.files, vec!["a.txt".to_string()]);
        assert_eq!(walk.broken_links.len(), 1);
        assert_eq!(walk.broken_links[0].reason, "a symlink loop");
        assert!(matches!(
            read_capped(&folder.path().join("loop")),
            Err(FileProblem::Unreadable(_))
        ));
    }
}

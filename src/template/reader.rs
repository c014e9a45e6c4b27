//! Reading a source tree, whatever holds it: the embedded `templates/`, a folder on disk, or a git tree at one
//! commit. Paths are '/'-separated and relative to the tree's top; caches and virtualenvs are never read.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use include_dir::{Dir, DirEntry};
use tempfile::TempDir;

use super::source_error::SourceError;

/// One file of a source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The bytes, or a symlink's target.
    pub contents: Cow<'static, [u8]>,
    pub executable: bool,
    /// A symlink: its target is kept as it is, never followed or read.
    pub link: bool,
}

/// Names never read from a template: byte-code, tool caches, virtualenvs, git's own folder.
const IGNORED_NAMES: &[&str] = &[
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".venv",
    ".git",
    ".DS_Store",
];

/// Whether a file or folder name is left out of every template.
pub fn is_ignored(name: &str) -> bool {
    IGNORED_NAMES.contains(&name) || name.ends_with(".pyc")
}

pub enum TreeReader {
    Embedded {
        dir: &'static Dir<'static>,
        /// '/'-separated paths of executable files, one a line (written by build.rs).
        executables: &'static str,
    },
    Disk(PathBuf),
    Git {
        repository: Repository,
        tree: Oid,
        /// Keeps a clone of a remote repository alive while it is read.
        _clone: Option<TempDir>,
    },
}

impl TreeReader {
    /// Opens a git repository (a local path, or a URL cloned bare into a temporary folder) at `rev`;
    /// returns the reader and the commit id the revision resolved to.
    pub fn open_git(url: &str, rev: Option<&str>) -> Result<(Self, String), SourceError> {
        let git_error = |what: String| move |error| SourceError::Git { what, error };
        let (repository, clone) = if Path::new(url).exists() {
            let repository = Repository::open(url)
                .map_err(git_error(format!("`{url}` is not a git repository")))?;
            (repository, None)
        } else {
            let folder = tempfile::Builder::new()
                .prefix("osorganic-template-")
                .tempdir()
                .map_err(|error| SourceError::Io {
                    path: "a temporary folder".to_string(),
                    error,
                })?;
            let repository = git2::build::RepoBuilder::new()
                .bare(true)
                .clone(url, folder.path())
                .map_err(git_error(format!("could not clone `{url}`")))?;
            (repository, Some(folder))
        };
        let commit = resolve_commit(&repository, rev.unwrap_or("HEAD")).map_err(git_error(
            format!("revision `{}` not found in `{url}`", rev.unwrap_or("HEAD")),
        ))?;
        let tree = commit.tree_id();
        let commit_id = commit.id().to_string();
        drop(commit);
        Ok((
            Self::Git {
                repository,
                tree,
                _clone: clone,
            },
            commit_id,
        ))
    }

    pub fn is_file(&self, path: &str) -> bool {
        match self {
            Self::Embedded { dir, .. } => dir.get_file(path).is_some(),
            Self::Disk(root) => root.join(path).is_file(),
            Self::Git { .. } => self.git_entry_kind(path) == Some(ObjectType::Blob),
        }
    }

    pub fn is_folder(&self, path: &str) -> bool {
        match self {
            Self::Embedded { dir, .. } => path.is_empty() || dir.get_dir(path).is_some(),
            Self::Disk(root) => root.join(path).is_dir(),
            Self::Git { .. } => {
                path.is_empty() || self.git_entry_kind(path) == Some(ObjectType::Tree)
            }
        }
    }

    pub fn read_file(&self, path: &str) -> Result<Cow<'static, [u8]>, SourceError> {
        let missing = || SourceError::Io {
            path: path.to_string(),
            error: std::io::ErrorKind::NotFound.into(),
        };
        match self {
            Self::Embedded { dir, .. } => dir
                .get_file(path)
                .map(|file| Cow::Borrowed(file.contents()))
                .ok_or_else(missing),
            Self::Disk(root) => std::fs::read(root.join(path))
                .map(Cow::Owned)
                .map_err(|error| SourceError::Io {
                    path: root.join(path).display().to_string(),
                    error,
                }),
            Self::Git {
                repository, tree, ..
            } => {
                let tree = repository.find_tree(*tree).map_err(|_| missing())?;
                let entry = tree.get_path(Path::new(path)).map_err(|_| missing())?;
                let blob = repository.find_blob(entry.id()).map_err(|_| missing())?;
                Ok(Cow::Owned(blob.content().to_vec()))
            }
        }
    }

    /// Adds every file under `folder` (recursively) to `files`, keyed by its path in the tree.
    pub fn read_folder(
        &self,
        folder: &str,
        files: &mut BTreeMap<String, SourceFile>,
    ) -> Result<(), SourceError> {
        match self {
            Self::Embedded { dir, executables } => {
                let start = if folder.is_empty() {
                    Some(*dir)
                } else {
                    dir.get_dir(folder)
                };
                if let Some(start) = start {
                    read_embedded(start, executables, files);
                }
                Ok(())
            }
            Self::Disk(root) => read_disk(root, folder, files),
            Self::Git {
                repository, tree, ..
            } => read_git(repository, *tree, folder, files),
        }
    }

    fn git_entry_kind(&self, path: &str) -> Option<ObjectType> {
        let Self::Git {
            repository, tree, ..
        } = self
        else {
            return None;
        };
        let tree = repository.find_tree(*tree).ok()?;
        tree.get_path(Path::new(path)).ok()?.kind()
    }
}

fn resolve_commit<'r>(
    repository: &'r Repository,
    rev: &str,
) -> Result<git2::Commit<'r>, git2::Error> {
    let object = repository.revparse_single(rev).or_else(|error| {
        repository
            .revparse_single(&format!("origin/{rev}"))
            .map_err(|_| error)
    })?;
    object.peel_to_commit()
}

fn read_embedded(
    dir: &'static Dir<'static>,
    executables: &str,
    files: &mut BTreeMap<String, SourceFile>,
) {
    for entry in dir.entries() {
        let path = entry.path().to_string_lossy().replace('\\', "/");
        let name = path.rsplit('/').next().unwrap_or(&path);
        if is_ignored(name) {
            continue;
        }
        match entry {
            DirEntry::Dir(sub) => read_embedded(sub, executables, files),
            DirEntry::File(file) => {
                let executable = executables.lines().any(|line| line == path);
                files.insert(
                    path,
                    SourceFile {
                        contents: Cow::Borrowed(file.contents()),
                        executable,
                        link: false,
                    },
                );
            }
        }
    }
}

fn read_disk(
    root: &Path,
    folder: &str,
    files: &mut BTreeMap<String, SourceFile>,
) -> Result<(), SourceError> {
    // Links are never followed: a link is kept as a link (its target checked to stay in the template), so a link
    // to `/etc/passwd` or to a folder outside cannot pull their content in.
    let walker = walkdir::WalkDir::new(root.join(folder))
        .follow_links(false)
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !is_ignored(&entry.file_name().to_string_lossy())
        });
    for entry in walker {
        let entry = entry.map_err(|error| SourceError::Io {
            path: error.path().unwrap_or(root).display().to_string(),
            error: error.into(),
        })?;
        let file_type = entry.file_type();
        if !file_type.is_file() && !file_type.is_symlink() {
            continue;
        }
        let io_error = |error| SourceError::Io {
            path: entry.path().display().to_string(),
            error,
        };
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let key = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if file_type.is_symlink() {
            let target = std::fs::read_link(entry.path()).map_err(io_error)?;
            let target = target.to_string_lossy().into_owned();
            check_link(&key, &target)?;
            files.insert(
                key,
                SourceFile {
                    contents: Cow::Owned(target.into_bytes()),
                    executable: false,
                    link: true,
                },
            );
            continue;
        }
        let metadata = entry.metadata().map_err(|error| io_error(error.into()))?;
        let contents = std::fs::read(entry.path()).map_err(io_error)?;
        files.insert(
            key,
            SourceFile {
                contents: Cow::Owned(contents),
                executable: super::tree::is_executable(&metadata),
                link: false,
            },
        );
    }
    Ok(())
}

/// A link must point inside the template's source tree: relative, and never climbing above its top.
fn check_link(path: &str, target: &str) -> Result<(), SourceError> {
    let escapes = || SourceError::LinkEscapes {
        path: path.to_string(),
        target: target.to_string(),
    };
    if target.starts_with('/') || target.contains('\\') || target.contains(':') {
        return Err(escapes());
    }
    let mut depth = path.split('/').count() - 1;
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => depth = depth.checked_sub(1).ok_or_else(escapes)?,
            _ => depth += 1,
        }
    }
    Ok(())
}

fn read_git(
    repository: &Repository,
    tree: Oid,
    folder: &str,
    files: &mut BTreeMap<String, SourceFile>,
) -> Result<(), SourceError> {
    let git_error = |error| SourceError::Git {
        what: format!("could not read `{folder}` from the template repository"),
        error,
    };
    let top = repository.find_tree(tree).map_err(git_error)?;
    let start = if folder.is_empty() {
        top
    } else {
        let id = top.get_path(Path::new(folder)).map_err(git_error)?.id();
        repository.find_tree(id).map_err(git_error)?
    };
    let mut failure = None;
    let mut refused = None;
    start
        .walk(TreeWalkMode::PreOrder, |parent, entry| {
            let name = entry.name().unwrap_or_default();
            if is_ignored(name) {
                return TreeWalkResult::Skip;
            }
            if entry.kind() != Some(ObjectType::Blob) {
                return TreeWalkResult::Ok;
            }
            let path = join_tree_path(folder, &format!("{parent}{name}"));
            let link = entry.filemode() == 0o120000;
            match repository.find_blob(entry.id()) {
                Ok(blob) => {
                    if link {
                        let target = String::from_utf8_lossy(blob.content()).into_owned();
                        if let Err(error) = check_link(&path, &target) {
                            refused = Some(error);
                            return TreeWalkResult::Abort;
                        }
                    }
                    files.insert(
                        path,
                        SourceFile {
                            contents: Cow::Owned(blob.content().to_vec()),
                            executable: entry.filemode() == 0o100755,
                            link,
                        },
                    );
                    TreeWalkResult::Ok
                }
                Err(error) => {
                    failure = Some(error);
                    TreeWalkResult::Abort
                }
            }
        })
        .map_err(git_error)?;
    if let Some(error) = refused {
        return Err(error);
    }
    failure.map_or(Ok(()), |error| Err(git_error(error)))
}

/// Joins two '/'-separated paths, either of which may be empty.
pub fn join_tree_path(folder: &str, name: &str) -> String {
    match (folder.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => folder.to_string(),
        _ => format!("{folder}/{name}"),
    }
}

//! Mirroring a child's files between folders: everything but `.git` and tool caches, deletions included.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Folders that are never part of a child's content.
const SKIPPED: &[&str] = &[
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".venv",
    ".mypy_cache",
];

/// Makes `to` hold exactly the files of `from` (outside `.git` and caches): copies every file, keeps
/// executable bits, and deletes what `from` does not have.
pub fn mirror_child_files(from: &Path, to: &Path) -> Result<()> {
    let wanted = child_files(from)?;
    for stale in child_files(to)?.difference(&wanted) {
        let path = to.join(stale);
        std::fs::remove_file(&path)
            .with_context(|| format!("could not remove `{}`", path.display()))?;
    }
    for relative in &wanted {
        let (source, target) = (from.join(relative), to.join(relative));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create `{}`", parent.display()))?;
        }
        std::fs::copy(&source, &target).with_context(|| {
            format!(
                "could not copy `{}` to `{}`",
                source.display(),
                target.display()
            )
        })?;
    }
    remove_empty_folders(to)
}

/// Relative paths of the child's files.
fn child_files(root: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    if !root.exists() {
        return Ok(files);
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("could not list `{}`", folder.display()))?
        {
            let entry = entry?;
            let name = entry.file_name();
            if SKIPPED.iter().any(|skipped| name == *skipped) {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                files.insert(
                    path.strip_prefix(root)
                        .expect("walked below the root")
                        .to_path_buf(),
                );
            }
        }
    }
    Ok(files)
}

fn remove_empty_folders(root: &Path) -> Result<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir()
            && !SKIPPED.iter().any(|skipped| entry.file_name() == *skipped)
        {
            let path = entry.path();
            remove_empty_folders(&path)?;
            if std::fs::read_dir(&path)?.next().is_none() {
                std::fs::remove_dir(&path)?;
            }
        }
    }
    Ok(())
}

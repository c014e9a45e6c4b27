//! The child's repository as an update sees it: opened with a working tree, its record read, its uncommitted
//! changes listed, libgit2 tuned for a large tree.

use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::{Repository, Status, StatusOptions};

use crate::record::ChildRecord;

/// Sets libgit2 up for reading a large child: objects are read as git does, without re-hashing each one, and
/// trees are cached whatever their size (libgit2 caches no tree over 4 KiB, so every path lookup in a large folder
/// would inflate and hash that folder's tree again). Call once, before any object is read.
pub fn tune_libgit2() -> Result<()> {
    git2::opts::strict_hash_verification(false);
    // SAFETY: set once, before this process reads any object; a child's folders easily exceed the 4 KiB limit.
    unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20)? };
    Ok(())
}

/// Opens the child's repository; a child without git, or without a working tree, cannot be updated.
pub fn open_child(child: &Path) -> Result<Repository> {
    let repo = Repository::open(child).with_context(|| {
        format!(
            "`{}` is not a git repository: an update is a git merge, so the child needs git",
            child.display()
        )
    })?;
    if repo.workdir().is_none() {
        bail!(
            "`{}` is a bare repository: an update needs a working tree",
            child.display()
        );
    }
    Ok(repo)
}

/// The child's record, read from its working tree.
pub fn read_record(repo: &Repository) -> Result<ChildRecord> {
    let workdir = repo.workdir().context("the child has no working tree")?;
    Ok(ChildRecord::read(workdir)?)
}

/// Tracked files with uncommitted changes, by path: an update refuses to start over them.
pub fn dirty_files(repo: &Repository) -> Result<Vec<String>> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .filter(|entry| entry.status() != Status::CURRENT)
        .filter_map(|entry| entry.path().ok().map(str::to_owned))
        .collect())
}

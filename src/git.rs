//! Thin git2 operations on children: init on `main`, trees from files in memory, commits, the index, packs of new
//! objects, the template remote. No policy lives here, and nothing above git: callers decide what to commit where.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{
    FileMode, IndexAddOption, IndexEntry, IndexTime, Mempack, ObjectType, Odb, OdbLookupFlags, Oid,
    Repository, RepositoryInitOptions, Signature, Tree, TreeWalkMode, TreeWalkResult,
};

/// A file to put in a tree: its '/'-separated path, its bytes (a symlink's target), and its mode.
pub type FileBlob<'a> = (&'a str, &'a [u8], FileMode);

/// Where the pristine render of the template (the merge base of the next update) is kept.
pub const TEMPLATE_REF: &str = "refs/osorganic/template";
/// The branch a spawned child starts on.
pub const MAIN_BRANCH: &str = "main";
/// The remote naming a git template source.
pub const TEMPLATE_REMOTE: &str = "template";
/// The author and committer when git has no identity configured.
pub const FALLBACK_NAME: &str = "osorganic";
pub const FALLBACK_EMAIL: &str = "osorganic@localhost";

/// Creates a repository at `path` whose HEAD is the unborn `main`.
pub fn init(path: &Path) -> Result<Repository, git2::Error> {
    let mut options = RepositoryInitOptions::new();
    options.initial_head(MAIN_BRANCH);
    Repository::init_opts(path, &options)
}

/// The configured identity (user.name, user.email), or `osorganic <osorganic@localhost>` when there is none.
pub fn signature(repository: &Repository) -> Result<Signature<'static>, git2::Error> {
    repository
        .signature()
        .or_else(|_| Signature::now(FALLBACK_NAME, FALLBACK_EMAIL))
}

/// Writes every file as a blob and returns the id of the tree holding them all.
pub fn tree_from<'a>(
    repository: &Repository,
    files: impl IntoIterator<Item = FileBlob<'a>>,
) -> Result<Oid, git2::Error> {
    let mut root = Folder::default();
    for (path, contents, mode) in files {
        let blob = repository.blob(contents)?;
        root.insert(path, blob, mode);
    }
    root.write(repository)
}

/// The tree of `files` built as an edit of `base`: every file is hashed in memory and only the ones whose blob or
/// mode differ from `base` are written and changed, so the cost follows the files that changed, not the size of
/// the tree (a blob is written only when the object database lacks it).
pub fn tree_from_base<'a>(
    repository: &Repository,
    base: &Tree<'_>,
    files: impl IntoIterator<Item = FileBlob<'a>>,
) -> Result<Oid, git2::Error> {
    let mut base_entries = blob_entries(base)?;
    let odb = repository.odb()?;
    let mut changed = Vec::new();
    for (path, contents, mode) in files {
        let id = Oid::hash_object(ObjectType::Blob, contents)?;
        if base_entries.remove(path) == Some((id, i32::from(mode))) {
            continue;
        }
        // No refresh of the pack list on a miss: at worst an object is written twice.
        if !odb.exists_ext(id, OdbLookupFlags::NO_REFRESH) {
            odb.write(ObjectType::Blob, contents)?;
        }
        changed.push((path, id, mode));
    }
    // Removals first, as a tree of their own: a file that becomes a folder (or the reverse) must be gone before
    // its new entry goes in, or libgit2 refuses the edit as a directory/file conflict.
    let mut tree = base.id();
    if !base_entries.is_empty() {
        let mut removals = TreeUpdateBuilder::new();
        for path in base_entries.keys() {
            removals.remove(path.as_str());
        }
        tree = removals.create_updated(repository, base)?;
    }
    if changed.is_empty() {
        return Ok(tree);
    }
    let current = repository.find_tree(tree)?;
    let mut updates = TreeUpdateBuilder::new();
    for (path, _, _) in &changed {
        if let Ok(entry) = current.get_path(Path::new(path)) {
            // A folder where a file goes: every file under it was removed above, so only empty folders are left.
            if entry.kind() == Some(ObjectType::Tree) {
                updates.remove(*path);
            }
        }
    }
    let current = repository.find_tree(updates.create_updated(repository, &current)?)?;
    let mut updates = TreeUpdateBuilder::new();
    for (path, id, mode) in changed {
        updates.upsert(path, id, mode);
    }
    updates.create_updated(repository, &current)
}

/// Every blob of `tree` (files and symlinks) by path, with its id and mode.
fn blob_entries(tree: &Tree<'_>) -> Result<HashMap<String, (Oid, i32)>, git2::Error> {
    let mut entries = HashMap::new();
    tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
        if entry.kind() == Some(ObjectType::Blob) {
            let path = format!("{parent}{}", entry.name().unwrap_or_default());
            entries.insert(path, (entry.id(), entry.filemode()));
        }
        TreeWalkResult::Ok
    })?;
    Ok(entries)
}

/// Commits `tree` with the configured (or fallback) identity and moves `update_ref` to it when given.
pub fn commit(
    repository: &Repository,
    update_ref: Option<&str>,
    message: &str,
    tree: Oid,
    parents: &[Oid],
) -> Result<Oid, git2::Error> {
    let signature = signature(repository)?;
    let tree = repository.find_tree(tree)?;
    let parents = parents
        .iter()
        .map(|parent| repository.find_commit(*parent))
        .collect::<Result<Vec<_>, _>>()?;
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repository.commit(
        update_ref,
        &signature,
        &signature,
        message,
        &tree,
        &parent_refs,
    )
}

/// Makes the index hold `tree` with the working tree's stat data, so `git status` is clean without rehashing.
/// The working tree must already hold exactly `tree`'s files.
pub fn sync_index(repository: &Repository, tree: Oid) -> Result<(), git2::Error> {
    let mut index = repository.index()?;
    index.read_tree(&repository.find_tree(tree)?)?;
    let workdir = repository
        .workdir()
        .ok_or_else(|| git2::Error::from_str("a bare repository has no working tree"))?;
    let entries: Vec<IndexEntry> = index.iter().collect();
    for mut entry in entries {
        let path = workdir.join(String::from_utf8_lossy(&entry.path).as_ref());
        let metadata = std::fs::symlink_metadata(&path)
            .map_err(|error| git2::Error::from_str(&format!("`{}`: {error}", path.display())))?;
        fill_stat(&mut entry, &metadata);
        index.add(&entry)?;
    }
    index.write()
}

#[cfg(unix)]
fn fill_stat(entry: &mut IndexEntry, metadata: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    // The index stores 32-bit stat fields; git truncates the same way.
    entry.ctime = IndexTime::new(metadata.ctime() as i32, metadata.ctime_nsec() as u32);
    entry.mtime = IndexTime::new(metadata.mtime() as i32, metadata.mtime_nsec() as u32);
    entry.dev = metadata.dev() as u32;
    entry.ino = metadata.ino() as u32;
    entry.uid = metadata.uid();
    entry.gid = metadata.gid();
    entry.file_size = metadata.len() as u32;
}

#[cfg(not(unix))]
fn fill_stat(entry: &mut IndexEntry, metadata: &std::fs::Metadata) {
    entry.file_size = metadata.len() as u32;
}

/// Runs `write` with new objects kept in memory, then stores them all as one pack file: a spawn creates a few
/// hundred objects, and one file each (git's loose objects) costs more than the render itself. The repository
/// must not write objects after this (drop it), since the in-memory store stays attached to its object database.
pub fn write_objects_packed<T>(
    repository: &Repository,
    write: impl FnOnce() -> Result<T, git2::Error>,
) -> Result<T, git2::Error> {
    let odb = repository.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let result = write()?;
    let mut pack = git2::Buf::new();
    mempack.dump(repository, &mut pack)?;
    let mut writer = odb.packwriter()?;
    writer
        .write_all(&pack)
        .map_err(|error| git2::Error::from_str(&format!("could not write the pack: {error}")))?;
    writer.commit()?;
    mempack.reset()?;
    Ok(result)
}

/// New objects held in memory from [`PendingObjects::start`] on: [`PendingObjects::write_pack`] stores the ones
/// that matter as one pack file, and dropping it without that discards them all. An update writes a few hundred
/// objects, and one file each (git's loose objects) costs more than the merge itself. Write the pack before any
/// reference points at the new objects; the repository must not write objects after it.
pub struct PendingObjects<'odb> {
    odb: &'odb Odb<'odb>,
    mempack: Mempack<'odb>,
}

impl<'odb> PendingObjects<'odb> {
    /// Keeps every object `odb` writes from now on in memory; `odb` is the repository's (`Repository::odb`).
    pub fn start(odb: &'odb Odb<'odb>) -> Result<Self, git2::Error> {
        let mempack = odb.add_new_mempack_backend(1000)?;
        Ok(Self { odb, mempack })
    }

    /// Stores as one pack file `commits` and, for each `(new, old)` pair of trees, the trees and blobs of `new`
    /// that `old` does not hold at the same place: the objects written since [`PendingObjects::start`] that the
    /// caller keeps. Only what differs is visited, so the cost follows the change, not the size of the trees.
    pub fn write_pack(
        self,
        repository: &Repository,
        commits: &[Oid],
        trees: &[(Oid, Option<Oid>)],
    ) -> Result<(), git2::Error> {
        let mut builder = repository.packbuilder()?;
        builder.set_threads(1);
        for commit in commits {
            builder.insert_object(*commit, None)?;
        }
        for (new, old) in trees {
            let new = repository.find_tree(*new)?;
            let old = old.map(|old| repository.find_tree(old)).transpose()?;
            insert_tree_changes(repository, &mut builder, &new, old.as_ref())?;
        }
        let mut pack = git2::Buf::new();
        builder.write_buf(&mut pack)?;
        let mut writer = self.odb.packwriter()?;
        writer.write_all(&pack).map_err(|error| {
            git2::Error::from_str(&format!("could not write the pack: {error}"))
        })?;
        writer.commit()?;
        self.mempack.reset()
    }
}

/// Inserts `new` and what it holds that `old` lacks at the same path, descending only into changed subtrees.
fn insert_tree_changes(
    repository: &Repository,
    builder: &mut git2::PackBuilder<'_>,
    new: &Tree<'_>,
    old: Option<&Tree<'_>>,
) -> Result<(), git2::Error> {
    if old.is_some_and(|old| old.id() == new.id()) {
        return Ok(());
    }
    builder.insert_object(new.id(), None)?;
    for entry in new.iter() {
        let old_entry = old.and_then(|old| old.get_name_bytes(entry.name_bytes()));
        if old_entry.as_ref().is_some_and(|old| old.id() == entry.id()) {
            continue;
        }
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let subtree = repository.find_tree(entry.id())?;
                let old_subtree = match old_entry {
                    Some(old) if old.kind() == Some(ObjectType::Tree) => {
                        Some(repository.find_tree(old.id())?)
                    }
                    _ => None,
                };
                insert_tree_changes(repository, builder, &subtree, old_subtree.as_ref())?;
            }
            Some(ObjectType::Blob) => builder.insert_object(entry.id(), None)?,
            _ => {}
        }
    }
    Ok(())
}

/// Stages every file of the working tree, ignored ones included, and returns the index's tree.
pub fn stage_all(repository: &Repository) -> Result<Oid, git2::Error> {
    let mut index = repository.index()?;
    index.add_all(["*"], IndexAddOption::FORCE, None)?;
    index.write()?;
    index.write_tree()
}

/// Adds the remote `template` pointing at a git template source.
pub fn add_template_remote(repository: &Repository, url: &str) -> Result<(), git2::Error> {
    repository.remote(TEMPLATE_REMOTE, url).map(|_| ())
}

/// A folder of a tree being built: sub-folders and blobs by name.
#[derive(Default)]
struct Folder {
    folders: BTreeMap<String, Folder>,
    blobs: BTreeMap<String, (Oid, FileMode)>,
}

impl Folder {
    fn insert(&mut self, path: &str, blob: Oid, mode: FileMode) {
        match path.split_once('/') {
            Some((first, rest)) => self
                .folders
                .entry(first.to_string())
                .or_default()
                .insert(rest, blob, mode),
            None => {
                self.blobs.insert(path.to_string(), (blob, mode));
            }
        }
    }

    fn write(&self, repository: &Repository) -> Result<Oid, git2::Error> {
        let mut builder = repository.treebuilder(None)?;
        for (name, folder) in &self.folders {
            builder.insert(name, folder.write(repository)?, i32::from(FileMode::Tree))?;
        }
        for (name, (blob, mode)) in &self.blobs {
            builder.insert(name, *blob, i32::from(*mode))?;
        }
        builder.write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{RenderedFile, RenderedTree};

    /// Reads a git tree back into memory (symlinks and submodules are left out).
    fn read_tree(repository: &Repository, tree: Oid) -> Result<RenderedTree, git2::Error> {
        let tree = repository.find_tree(tree)?;
        let mut files = RenderedTree::new();
        let mut failure = None;
        tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() != Some(ObjectType::Blob)
                || entry.filemode() == i32::from(FileMode::Link)
            {
                return TreeWalkResult::Ok;
            }
            match repository.find_blob(entry.id()) {
                Ok(blob) => {
                    let path = format!("{parent}{}", entry.name().unwrap_or_default());
                    let executable = entry.filemode() == i32::from(FileMode::BlobExecutable);
                    files.insert(path, RenderedFile::new(blob.content(), executable));
                    TreeWalkResult::Ok
                }
                Err(error) => {
                    failure = Some(error);
                    TreeWalkResult::Abort
                }
            }
        })?;
        failure.map_or(Ok(files), Err)
    }

    fn sample_tree() -> RenderedTree {
        [
            ("README.md".to_string(), RenderedFile::new("hello\n", false)),
            (
                ".github/workflows/ci.yml".to_string(),
                RenderedFile::new("on: push\n", false),
            ),
            (
                "bin/run".to_string(),
                RenderedFile::new("#!/bin/sh\n", true),
            ),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn trees_round_trip_with_the_executable_bit() {
        let folder = tempfile::tempdir().unwrap();
        let repository = init(folder.path()).unwrap();
        let tree = sample_tree();
        let id = tree_from(&repository, tree.git_files()).unwrap();
        assert_eq!(read_tree(&repository, id).unwrap(), tree);
    }

    #[test]
    fn a_tree_built_on_a_base_equals_one_built_from_scratch() {
        let folder = tempfile::tempdir().unwrap();
        let repository = init(folder.path()).unwrap();
        let base = tree_from(&repository, sample_tree().git_files()).unwrap();
        let base = repository.find_tree(base).unwrap();
        let mut files = sample_tree();
        files.insert("README.md", RenderedFile::new("hello again\n", false));
        files.insert("bin/run", RenderedFile::new("#!/bin/sh\n", false));
        files.remove(".github/workflows/ci.yml");
        files.insert("docs/new.md", RenderedFile::new("new\n", false));
        let edited = tree_from_base(&repository, &base, files.git_files()).unwrap();
        assert_eq!(edited, tree_from(&repository, files.git_files()).unwrap());
        assert_eq!(read_tree(&repository, edited).unwrap(), files);
        let unchanged = tree_from_base(&repository, &base, sample_tree().git_files()).unwrap();
        assert_eq!(unchanged, base.id());
    }

    #[test]
    fn commits_land_on_main_with_an_identity() {
        let folder = tempfile::tempdir().unwrap();
        let repository = init(folder.path()).unwrap();
        let tree = tree_from(&repository, sample_tree().git_files()).unwrap();
        let base = commit(&repository, Some(TEMPLATE_REF), "base", tree, &[]).unwrap();
        let head = commit(&repository, Some("HEAD"), "main", tree, &[base]).unwrap();
        let main = repository.find_reference("refs/heads/main").unwrap();
        assert_eq!(main.target(), Some(head));
        assert_eq!(repository.refname_to_id(TEMPLATE_REF).unwrap(), base);
        let author = repository
            .find_commit(head)
            .unwrap()
            .author()
            .name()
            .unwrap_or_default()
            .to_string();
        assert!(!author.is_empty());
    }

    #[test]
    fn packed_objects_are_readable_after_the_pack_is_written() {
        let folder = tempfile::tempdir().unwrap();
        let tree = {
            let repository = init(folder.path()).unwrap();
            write_objects_packed(&repository, || {
                let tree = tree_from(&repository, sample_tree().git_files())?;
                commit(&repository, Some("HEAD"), "main", tree, &[])?;
                Ok(tree)
            })
            .unwrap()
        };
        let repository = Repository::open(folder.path()).unwrap();
        assert_eq!(read_tree(&repository, tree).unwrap(), sample_tree());
        let packs = std::fs::read_dir(folder.path().join(".git/objects/pack"))
            .unwrap()
            .count();
        assert_eq!(packs, 2, "one .pack and its .idx");
    }

    #[test]
    fn pending_objects_reach_the_repository_only_with_their_pack() {
        let folder = tempfile::tempdir().unwrap();
        let repository = init(folder.path()).unwrap();
        let dropped = {
            let odb = repository.odb().unwrap();
            let _pending = PendingObjects::start(&odb).unwrap();
            repository.blob(b"dropped\n").unwrap()
        };
        let (tree, kept) = {
            let repository = Repository::open(folder.path()).unwrap();
            let odb = repository.odb().unwrap();
            let pending = PendingObjects::start(&odb).unwrap();
            let base = tree_from(&repository, sample_tree().git_files()).unwrap();
            let base = repository.find_tree(base).unwrap();
            let mut files = sample_tree();
            files.insert("bin/kept", RenderedFile::new("kept\n", false));
            let tree = tree_from_base(&repository, &base, files.git_files()).unwrap();
            let commit = commit(&repository, None, "kept", tree, &[]).unwrap();
            pending
                .write_pack(&repository, &[commit], &[(tree, Some(base.id()))])
                .unwrap();
            let kept = Oid::hash_object(ObjectType::Blob, b"kept\n").unwrap();
            (tree, kept)
        };
        let repository = Repository::open(folder.path()).unwrap();
        assert!(repository.find_blob(dropped).is_err());
        assert!(repository.find_blob(kept).is_ok());
        assert!(repository.find_tree(tree).is_ok());
        let untouched = Oid::hash_object(ObjectType::Blob, b"hello\n").unwrap();
        assert!(
            repository.find_blob(untouched).is_err(),
            "only the change is packed"
        );
    }

    #[test]
    fn index_synced_to_the_written_tree_is_clean() {
        let folder = tempfile::tempdir().unwrap();
        let repository = init(folder.path()).unwrap();
        let files = sample_tree();
        files.write_to(folder.path(), || Ok(())).unwrap();
        let tree = tree_from(&repository, files.git_files()).unwrap();
        commit(&repository, Some("HEAD"), "main", tree, &[]).unwrap();
        sync_index(&repository, tree).unwrap();
        let statuses = repository.statuses(None).unwrap();
        assert!(statuses.is_empty(), "{} paths differ", statuses.len());
    }
}

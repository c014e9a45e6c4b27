//! The three-way template merge: base (the pristine render the child last took), ours (the child), theirs (the new
//! render).
//!
//! git2's `merge_trees` does the structural work (renames, add/add, modify/delete, clean text merges). This module
//! adds the policy osorganic promises on top of it:
//! - trivial cases are resolved by blob id before any text merge (ours == base: theirs; theirs == base: ours;
//!   ours == theirs);
//! - binary files are never text-merged: both sides changed is a conflict that keeps the child's bytes on disk and
//!   saves the template's beside them;
//! - files the child keeps with CRLF endings or a UTF-8 BOM are merged as plain LF text, line by line, and get the
//!   child's conventions back;
//! - the outcome lists every file that changes, and holds real conflict stages (1 base, 2 child, 3 template).
//!
//! Only the paths either side changed since base are merged: `merge_trees` sees trees holding just those (unless a
//! change turns a file into a folder or back, where it sees the whole trees), so the time follows the changes, not
//! the size of the child. Every other path of the result is the child's as it is.
//!
//! Computing a merge writes only objects (blobs, trees) to the object database; [`write`] puts an outcome into the
//! index, the working tree and git's merge state.

mod endings;
mod resolve;
pub mod write;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use git2::build::TreeUpdateBuilder;
use git2::{
    DiffFindOptions, DiffOptions, FileMode, MergeOptions, ObjectType, Oid, Repository, Tree,
};
use serde::Serialize;

use endings::TextStyle;

/// The three trees of a template update. `ours` is the child's tree without `.osorganic.toml`.
pub struct ThreeTrees<'repo> {
    pub base: Tree<'repo>,
    pub ours: Tree<'repo>,
    pub theirs: Tree<'repo>,
}

/// Names of the sides, as they appear in conflict markers, and the suffix of saved template copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub base: String,
    pub ours: String,
    pub theirs: String,
    /// Appended to a binary file's path to save the template's version beside the child's: `logo.png.template-0.2.0`.
    pub copy_suffix: String,
}

impl Labels {
    /// `template@OLD`, `child`, `template@NEW`.
    pub fn new(old_version: &str, new_version: &str) -> Self {
        Self {
            base: format!("template@{old_version}"),
            ours: "child".to_owned(),
            theirs: format!("template@{new_version}"),
            copy_suffix: format!("template-{new_version}"),
        }
    }
}

/// What an update does to one file of the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileChange {
    /// New from the template.
    Added,
    /// The template's new version replaces a file the child never changed.
    Updated,
    /// The child's and the template's changes combined without conflict.
    Merged,
    /// Deleted by the template from a file the child never changed.
    Removed,
    /// Left for the user to resolve.
    Conflict,
}

/// Why a file is in conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConflictKind {
    /// Both changed the same lines: inline markers in the file.
    #[serde(rename = "content")]
    Content,
    /// The template deleted a file the child changed: the child's file stays on disk.
    #[serde(rename = "modify/delete")]
    ModifyDelete,
    /// The child deleted a file the template changed: the template's version is left on disk.
    #[serde(rename = "delete/modify")]
    DeleteModify,
    /// Both added a file at this path with different content.
    #[serde(rename = "add/add")]
    AddAdd,
    /// Both changed a binary file: the child's bytes stay, the template's are saved beside them.
    #[serde(rename = "binary")]
    Binary,
    /// One side has a file where the other has a folder: the folder's files take the path, the child's file is
    /// saved beside it as `PATH~child`.
    #[serde(rename = "file/folder")]
    FileFolder,
}

impl fmt::Display for ConflictKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Content => "content",
            Self::ModifyDelete => "modify/delete: deleted by the template, changed in the child",
            Self::DeleteModify => "delete/modify: deleted in the child, changed by the template",
            Self::AddAdd => "add/add",
            Self::Binary => "binary",
            Self::FileFolder => "file/folder: a file on one side, a folder on the other",
        })
    }
}

/// One line of the per-file report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub path: String,
    pub change: FileChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictKind>,
    /// Where the template's version of a binary conflict was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_copy: Option<String>,
    /// Where the child's file of a file/folder conflict was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_copy: Option<String>,
}

/// A blob and its file mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: Oid,
    pub mode: u32,
}

/// One side of a conflict, as git records it in stages 1 (base), 2 (child) and 3 (template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEntry {
    pub path: String,
    pub entry: Entry,
}

/// A file left for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    pub kind: ConflictKind,
    pub ancestor: Option<StageEntry>,
    pub ours: Option<StageEntry>,
    pub theirs: Option<StageEntry>,
    /// What is left on disk at `path`: the text with markers, or one side's bytes.
    pub worktree: Entry,
    /// Binary conflicts: the template's version, saved at this path beside the child's.
    pub template_copy: Option<(String, Oid)>,
    /// File/folder conflicts: the child's file, saved at this path (untracked) where the folder cannot hold it.
    pub child_copy: Option<String>,
}

impl Conflict {
    /// The untracked files this conflict leaves beside the child's: the template's copy, the child's copy.
    pub fn saved_copies(&self) -> impl Iterator<Item = &str> {
        let template = self.template_copy.as_ref().map(|(path, _)| path.as_str());
        template.into_iter().chain(self.child_copy.as_deref())
    }
}

/// The merge, computed and not yet written.
#[derive(Debug, Default)]
pub struct MergeOutcome {
    /// The paths either side changed since base: the only ones the update may touch.
    pub changed_paths: BTreeSet<String>,
    /// The resolved paths of the result (stage 0) among the changed ones (all of them but for conflicts and
    /// removals); every other path of the child stays as it is.
    pub entries: BTreeMap<String, Entry>,
    pub conflicts: Vec<Conflict>,
    /// Every file that changes or conflicts, sorted by path.
    pub files: Vec<FileReport>,
}

impl MergeOutcome {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }

    /// True when the update changes nothing in the child.
    pub fn is_unchanged(&self) -> bool {
        self.files.is_empty()
    }

    pub fn count(&self, change: FileChange) -> usize {
        self.files
            .iter()
            .filter(|file| file.change == change)
            .count()
    }
}

/// Merges the three trees in memory; see the module documentation for the policy.
pub fn three_way(
    repo: &Repository,
    trees: &ThreeTrees<'_>,
    labels: &Labels,
) -> Result<MergeOutcome, git2::Error> {
    let changes = ChangedPaths::between(repo, trees)?;
    let scoped = if changes.cross_a_folder(trees) {
        None
    } else {
        Some(changes.scope(repo, trees)?)
    };
    let normalised = NormalisedTrees::build(repo, scoped.as_ref().unwrap_or(trees), &changes)?;
    let mut options = MergeOptions::new();
    options.find_renames(true);
    let index = repo.merge_trees(
        &normalised.base,
        &normalised.ours,
        &normalised.theirs,
        Some(&options),
    )?;

    let resolver = resolve::Resolver {
        repo,
        trees,
        changes: &changes,
        normalised: &normalised,
        labels,
    };
    let mut outcome = MergeOutcome {
        changed_paths: changes.paths.clone(),
        ..MergeOutcome::default()
    };
    // Only the changed paths: every other path of the result is the child's, left as it is (a merge of the whole
    // trees lists them all, and a name that is not UTF-8 would not survive a round trip through a `String`).
    for entry in index.iter().filter(|entry| stage_of(entry.flags) == 0) {
        let Ok(path) = std::str::from_utf8(&entry.path) else {
            continue;
        };
        if !changes.paths.contains(path) {
            continue;
        }
        let merged = Entry {
            id: entry.id,
            mode: entry.mode,
        };
        let restored = resolver.restore(path, merged)?;
        outcome.entries.insert(path.to_owned(), restored);
    }
    for conflict in index.conflicts()? {
        match resolver.resolve(&conflict?)? {
            resolve::Resolution::Take(path, entry) => {
                outcome.entries.insert(path, entry);
            }
            resolve::Resolution::Remove => {}
            resolve::Resolution::Conflict(conflict) => outcome.conflicts.push(*conflict),
        }
    }
    drop_rename_sources(&mut outcome, &changes);
    set_file_folder_copies(&mut outcome, &trees.ours);
    outcome.files = report(trees, &changes, &outcome)?;
    Ok(outcome)
}

/// A template rename in conflict is one conflict at the new path, holding all three sides: the modify/delete
/// `merge_trees` also reports at the old path is dropped (only when the new path is in conflict, so a rename
/// libgit2 did not see keeps its modify/delete).
fn drop_rename_sources(outcome: &mut MergeOutcome, changes: &ChangedPaths) {
    let conflicted: BTreeSet<String> = outcome
        .conflicts
        .iter()
        .map(|conflict| conflict.path.clone())
        .collect();
    let carried: BTreeSet<&String> = changes
        .theirs_renames
        .iter()
        .filter(|(new, _)| conflicted.contains(*new))
        .map(|(_, old)| old)
        .collect();
    outcome.conflicts.retain(|conflict| {
        !(conflict.kind == ConflictKind::ModifyDelete && carried.contains(&conflict.path))
    });
}

/// A conflicted file whose path is a folder of the result, or lies under a file of the result, cannot stay at its
/// path: it is saved beside it, as `PATH~child` (or `FOLDER~child/REST` under a file), and the conflict becomes a
/// file/folder one.
fn set_file_folder_copies(outcome: &mut MergeOutcome, ours: &Tree<'_>) {
    for conflict in &mut outcome.conflicts {
        let folder_prefix = format!("{}/", conflict.path);
        let is_folder = outcome
            .entries
            .range(folder_prefix.clone()..)
            .next()
            .is_some_and(|(path, _)| path.starts_with(&folder_prefix));
        let copy = if is_folder {
            Some(format!("{}~child", conflict.path))
        } else {
            Path::new(&conflict.path)
                .ancestors()
                .skip(1)
                .filter_map(|folder| folder.to_str())
                .find(|folder| !folder.is_empty() && outcome.entries.contains_key(*folder))
                .map(|file| format!("{file}~child{}", &conflict.path[file.len()..]))
        };
        if let Some(copy) = copy {
            conflict.kind = ConflictKind::FileFolder;
            conflict.child_copy = Some(free_path(ours, copy));
        }
    }
}

/// `wanted`, or `wanted.1`, `wanted.2`... : the first name the child does not track, for a copy saved beside a
/// conflict, so a file of the child's own is never overwritten by one.
pub(crate) fn free_path(ours: &Tree<'_>, wanted: String) -> String {
    let taken = |path: &str| ours.get_path(Path::new(path)).is_ok();
    if !taken(&wanted) {
        return wanted;
    }
    (1..)
        .map(|number| format!("{wanted}.{number}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or(wanted)
}

/// A path as text, when it is UTF-8.
fn utf8_path(bytes: Option<&[u8]>) -> Option<&str> {
    bytes.and_then(|bytes| std::str::from_utf8(bytes).ok())
}

/// The stage of an index entry, from its flags.
pub(crate) fn stage_of(flags: u16) -> u16 {
    (flags >> 12) & 0x3
}

/// The paths either side changed since base, and where the template renamed files.
pub(crate) struct ChangedPaths {
    pub paths: BTreeSet<String>,
    /// New path in theirs -> old path in base.
    pub theirs_renames: HashMap<String, String>,
}

impl ChangedPaths {
    fn between(repo: &Repository, trees: &ThreeTrees<'_>) -> Result<Self, git2::Error> {
        let mut options = DiffOptions::new();
        options.skip_binary_check(true);
        let mut changes = Self {
            paths: BTreeSet::new(),
            theirs_renames: HashMap::new(),
        };
        let ours =
            repo.diff_tree_to_tree(Some(&trees.base), Some(&trees.ours), Some(&mut options))?;
        let mut theirs =
            repo.diff_tree_to_tree(Some(&trees.base), Some(&trees.theirs), Some(&mut options))?;
        theirs.find_similar(Some(DiffFindOptions::new().renames(true)))?;
        for delta in ours.deltas().chain(theirs.deltas()) {
            // A name that is not UTF-8 never comes from a template (its paths are text): such a file is the
            // child's own, and stays as it is.
            let utf8 = utf8_path;
            let (old_bytes, new_bytes) =
                (delta.old_file().path_bytes(), delta.new_file().path_bytes());
            if old_bytes.is_some() && utf8(old_bytes).is_none()
                || new_bytes.is_some() && utf8(new_bytes).is_none()
            {
                continue;
            }
            let old = utf8(old_bytes).map(str::to_owned);
            let new = utf8(new_bytes).map(str::to_owned);
            if let (git2::Delta::Renamed, Some(old), Some(new)) = (delta.status(), &old, &new) {
                changes.theirs_renames.insert(new.clone(), old.clone());
            }
            changes.paths.extend(old.into_iter().chain(new));
        }
        Ok(changes)
    }
}

impl ChangedPaths {
    /// True when a changed path is a folder in one of the trees, or lies under a path that is a file in one:
    /// merging such a change needs the paths around it, so it is merged on the whole trees.
    fn cross_a_folder(&self, trees: &ThreeTrees<'_>) -> bool {
        let all = [&trees.base, &trees.ours, &trees.theirs];
        self.paths.iter().any(|path| {
            let is_folder = all.iter().any(|tree| {
                tree.get_path(Path::new(path))
                    .is_ok_and(|entry| entry.kind() == Some(ObjectType::Tree))
            });
            let under_a_file = Path::new(path).ancestors().skip(1).any(|folder| {
                !folder.as_os_str().is_empty()
                    && all.iter().any(|tree| {
                        tree.get_path(folder)
                            .is_ok_and(|entry| entry.kind() != Some(ObjectType::Tree))
                    })
            });
            is_folder || under_a_file
        })
    }

    /// The three trees cut down to the changed paths.
    fn scope<'repo>(
        &self,
        repo: &'repo Repository,
        trees: &ThreeTrees<'repo>,
    ) -> Result<ThreeTrees<'repo>, git2::Error> {
        let only_changed = |tree: &Tree<'repo>| -> Result<Tree<'repo>, git2::Error> {
            let mut index = git2::Index::new()?;
            for path in &self.paths {
                if let Some(entry) = tracked_entry(tree, path) {
                    index.add(&write::index_entry(path, entry, 0))?;
                }
            }
            repo.find_tree(index.write_tree_to(repo)?)
        };
        Ok(ThreeTrees {
            base: only_changed(&trees.base)?,
            ours: only_changed(&trees.ours)?,
            theirs: only_changed(&trees.theirs)?,
        })
    }
}

/// The three trees with every changed text file as plain LF text without a BOM, so line endings never conflict.
pub(crate) struct NormalisedTrees<'repo> {
    pub base: Tree<'repo>,
    pub ours: Tree<'repo>,
    pub theirs: Tree<'repo>,
    /// Original blob -> normalised blob, for the blobs that changed.
    pub normalised_ids: HashMap<Oid, Oid>,
    /// The style of every original blob read.
    pub styles: HashMap<Oid, TextStyle>,
}

impl<'repo> NormalisedTrees<'repo> {
    fn build(
        repo: &'repo Repository,
        trees: &ThreeTrees<'repo>,
        changes: &ChangedPaths,
    ) -> Result<Self, git2::Error> {
        let mut normalised_ids = HashMap::new();
        let mut styles = HashMap::new();
        let mut normalise_tree = |tree: &Tree<'repo>| -> Result<Tree<'repo>, git2::Error> {
            let mut updates = TreeUpdateBuilder::new();
            let mut updated = false;
            for path in &changes.paths {
                let Some(entry) = blob_entry(tree, path) else {
                    continue;
                };
                let style = match styles.get(&entry.id) {
                    Some(style) => *style,
                    None => {
                        let blob = repo.find_blob(entry.id)?;
                        let style = TextStyle::of(blob.content());
                        styles.insert(entry.id, style);
                        if !style.is_plain() {
                            let plain = repo.blob(&endings::normalise(blob.content()))?;
                            normalised_ids.insert(entry.id, plain);
                        }
                        style
                    }
                };
                if !style.is_plain() {
                    updates.upsert(
                        path.as_str(),
                        normalised_ids[&entry.id],
                        file_mode(entry.mode),
                    );
                    updated = true;
                }
            }
            if !updated {
                return Ok(tree.clone());
            }
            let id = updates.create_updated(repo, tree)?;
            repo.find_tree(id)
        };
        let base = normalise_tree(&trees.base)?;
        let ours = normalise_tree(&trees.ours)?;
        let theirs = normalise_tree(&trees.theirs)?;
        Ok(Self {
            base,
            ours,
            theirs,
            normalised_ids,
            styles,
        })
    }

    /// The normalised id of an original blob (the same id when it needed no change).
    pub fn normalised(&self, id: Oid) -> Oid {
        self.normalised_ids.get(&id).copied().unwrap_or(id)
    }

    pub fn style(&self, id: Oid) -> TextStyle {
        self.styles.get(&id).copied().unwrap_or_default()
    }
}

/// The blob (file or symlink) at `path` in `tree`, if any.
pub(crate) fn blob_entry(tree: &Tree<'_>, path: &str) -> Option<Entry> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    (entry.kind() == Some(ObjectType::Blob)).then(|| Entry {
        id: entry.id(),
        mode: entry.filemode() as u32,
    })
}

/// The blob or submodule gitlink at `path` in `tree`, if any: what the index tracks at a path.
pub(crate) fn tracked_entry(tree: &Tree<'_>, path: &str) -> Option<Entry> {
    let entry = tree.get_path(Path::new(path)).ok()?;
    matches!(entry.kind(), Some(ObjectType::Blob | ObjectType::Commit)).then(|| Entry {
        id: entry.id(),
        mode: entry.filemode() as u32,
    })
}

pub(crate) fn file_mode(mode: u32) -> FileMode {
    match mode {
        0o100755 => FileMode::BlobExecutable,
        0o120000 => FileMode::Link,
        0o160000 => FileMode::Commit,
        _ => FileMode::Blob,
    }
}

/// Lists what happens to each file of the child, comparing the outcome with the child's tree.
fn report(
    trees: &ThreeTrees<'_>,
    changes: &ChangedPaths,
    outcome: &MergeOutcome,
) -> Result<Vec<FileReport>, git2::Error> {
    let conflicted: BTreeSet<&str> = outcome
        .conflicts
        .iter()
        .map(|conflict| conflict.path.as_str())
        .collect();
    let mut files: Vec<FileReport> = outcome
        .conflicts
        .iter()
        .map(|conflict| FileReport {
            path: conflict.path.clone(),
            change: FileChange::Conflict,
            conflict: Some(conflict.kind),
            template_copy: conflict
                .template_copy
                .as_ref()
                .map(|(path, _)| path.clone()),
            child_copy: conflict.child_copy.clone(),
        })
        .collect();
    for path in changes
        .paths
        .iter()
        .filter(|path| !conflicted.contains(path.as_str()))
    {
        let ours = tracked_entry(&trees.ours, path);
        let change = match (ours, outcome.entries.get(path)) {
            (None, None) => continue,
            (Some(ours), Some(result)) if ours == *result => continue,
            (None, Some(_)) => FileChange::Added,
            (Some(_), None) => FileChange::Removed,
            (Some(_), Some(result)) if tracked_entry(&trees.theirs, path) == Some(*result) => {
                FileChange::Updated
            }
            (Some(_), Some(_)) => FileChange::Merged,
        };
        files.push(FileReport {
            path: path.clone(),
            change,
            conflict: None,
            template_copy: None,
            child_copy: None,
        });
    }
    files.sort_by(|left, right| left.path.cmp(&right.path));
    Ok(files)
}

#[cfg(test)]
mod tests;

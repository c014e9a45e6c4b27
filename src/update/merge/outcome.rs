//! The values of a template merge: the three trees and their labels, one file's entry and conflict, the outcome
//! and its per-file report; and the tree lookups every part of the merge shares.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use git2::{FileMode, IndexEntry, IndexTime, ObjectType, Oid, Tree};
use serde::Serialize;

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
    /// A symlink (or submodule) on either side: never text-merged; the child's entry stays, the template's is
    /// saved beside it.
    #[serde(rename = "link")]
    Link,
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
            Self::Link => "link: a symlink is never merged as text",
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

/// An index entry without stat data (git refreshes it), at the given stage.
pub(crate) fn index_entry(path: &str, entry: Entry, stage: u16) -> IndexEntry {
    let path_length = path.len().min(0xfff) as u16;
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: entry.mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: entry.id,
        flags: (stage << 12) | path_length,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

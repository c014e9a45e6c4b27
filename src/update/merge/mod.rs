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
//! index, the working tree and git's merge state. The parts: `outcome` (the values and shared tree lookups),
//! `changes` (what each side changed, as normalised text), `endings` (text conventions), `resolve` (the policy for
//! each path), `write`. None of them imports this module: it only puts them together.

mod changes;
mod endings;
mod outcome;
mod resolve;
pub mod write;

use std::collections::BTreeSet;
use std::path::Path;

use git2::{MergeOptions, Repository, Tree};

pub use crate::template::manifest::Ownership;
use changes::{ChangedPaths, NormalisedTrees};
pub use outcome::{
    Conflict, ConflictKind, Entry, FileChange, FileReport, Labels, MergeOutcome, StageEntry,
    ThreeTrees,
};
use outcome::{free_path, tracked_entry};

/// Merges the three trees in memory; see the module documentation for the policy.
pub fn three_way(
    repo: &Repository,
    trees: &ThreeTrees<'_>,
    labels: &Labels,
) -> Result<MergeOutcome, git2::Error> {
    three_way_owned(repo, trees, labels, &|_| Ownership::Merged)
}

/// [`three_way`] with the template's ownership of each path: `seeded` paths keep the child's version, and a
/// `managed` path both sides changed is a conflict even where the lines would merge.
pub fn three_way_owned(
    repo: &Repository,
    trees: &ThreeTrees<'_>,
    labels: &Labels,
    ownership: &dyn Fn(&str) -> Ownership,
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
    apply_ownership(&mut outcome, &resolver, trees, &changes, ownership)?;
    set_file_folder_copies(&mut outcome, &trees.ours);
    outcome.files = report(trees, &changes, &outcome)?;
    Ok(outcome)
}

/// `seeded`: the child's entry (or its absence) stays. `managed`: when both sides changed the path differently, a
/// conflict for the user, with markers where the text allows.
fn apply_ownership(
    outcome: &mut MergeOutcome,
    resolver: &resolve::Resolver<'_, '_>,
    trees: &ThreeTrees<'_>,
    changes: &ChangedPaths,
    ownership: &dyn Fn(&str) -> Ownership,
) -> Result<(), git2::Error> {
    for path in &changes.paths {
        match ownership(path) {
            Ownership::Merged => {}
            Ownership::Seeded => {
                outcome.conflicts.retain(|conflict| conflict.path != *path);
                match tracked_entry(&trees.ours, path) {
                    Some(entry) => outcome.entries.insert(path.clone(), entry),
                    None => outcome.entries.remove(path),
                };
            }
            Ownership::Managed => {
                let base = tracked_entry(&trees.base, path);
                let ours = tracked_entry(&trees.ours, path);
                let theirs = tracked_entry(&trees.theirs, path);
                let in_conflict = outcome
                    .conflicts
                    .iter()
                    .any(|conflict| conflict.path == *path);
                if let (Some(ours), Some(theirs)) = (ours, theirs) {
                    if Some(ours) != base && Some(theirs) != base && ours != theirs && !in_conflict
                    {
                        outcome.entries.remove(path);
                        let conflict = resolver.forced_conflict(path, base, ours, theirs)?;
                        outcome.conflicts.push(conflict);
                    }
                }
            }
        }
    }
    Ok(())
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

/// The stage of an index entry, from its flags.
pub(crate) fn stage_of(flags: u16) -> u16 {
    (flags >> 12) & 0x3
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

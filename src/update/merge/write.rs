//! Puts a computed [`MergeOutcome`] into a child: a merge commit when it is clean, or git's own unfinished-merge
//! state when it is not (working tree with markers, index with stages 1/2/3, MERGE_HEAD and MERGE_MSG), so that
//! `git status`, `git mergetool`, `git commit` and `git merge --abort` all work as after a `git merge`.
//!
//! A clean update is committed, not just staged: the merge commit's second parent is the new render, which is how the
//! base travels with the child (a `git clone` has it in its history) and how the next update finds it.

use std::fs;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{Index, Oid, Repository, Signature};

use super::outcome::{Entry, MergeOutcome, index_entry};

/// What the update adds on top of the merge: osorganic's record, and the merge's second parent.
pub struct Finish<'a> {
    /// Path of the record in the child (`.osorganic.toml`) and its new content; rewritten, never merged.
    pub record_path: &'a str,
    pub record: &'a [u8],
    /// The new render's commit (the merge's second parent).
    pub template_commit: Oid,
    pub message: &'a str,
    pub signature: &'a Signature<'static>,
}

/// Files an unfinished update created outside the index, so `--abort` can remove them.
#[derive(Debug, Default)]
pub struct Written {
    pub template_copies: Vec<PathBuf>,
}

/// The objects of an update, made before anything in the child changes: the result tree (with what stays on disk
/// for conflicts) and, when the merge is clean, the merge commit no reference points at yet.
#[derive(Debug, Clone, Copy)]
pub struct Prepared {
    pub tree: Oid,
    pub commit: Option<Oid>,
}

/// Writes the objects of the result; [`commit_merge`] or [`leave_conflicts`] then put them in the child.
pub fn prepare(
    repo: &Repository,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
) -> Result<Prepared, git2::Error> {
    let clean = outcome.is_clean();
    let tree = result_tree(repo, outcome, finish, !clean)?;
    let commit = if clean {
        let head = repo.head()?.peel_to_commit()?;
        let template = repo.find_commit(finish.template_commit)?;
        Some(repo.commit(
            None,
            finish.signature,
            finish.signature,
            finish.message,
            &repo.find_tree(tree)?,
            &[&head, &template],
        )?)
    } else {
        None
    };
    Ok(Prepared { tree, commit })
}

/// Checks out the clean result and moves HEAD to the prepared merge commit (parents: HEAD, template commit).
pub fn commit_merge(
    repo: &Repository,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
    prepared: Prepared,
) -> Result<Oid, git2::Error> {
    let commit = prepared
        .commit
        .ok_or_else(|| git2::Error::from_str("a merge with conflicts cannot be committed"))?;
    let head = repo.head()?;
    let head_commit = head.peel_to_commit()?;
    // git's merge state first: an update stopped while it writes files is an unfinished merge `--abort` undoes;
    // it is cleaned up once HEAD has moved.
    write_merge_state(repo, head_commit.id(), outcome, finish)?;
    checkout(repo, &repo.find_tree(prepared.tree)?, outcome, finish)?;
    let subject = finish.message.lines().next().unwrap_or_default();
    let log_message = format!("commit (merge): {subject}");
    match head.name() {
        Ok(name) if head.is_branch() => {
            repo.reference(name, commit, true, &log_message)?;
        }
        _ => repo.set_head_detached(commit)?,
    }
    repo.reference("ORIG_HEAD", head_commit.id(), true, "osorganic update")?;
    repo.cleanup_state()?;
    Ok(commit)
}

/// Leaves the conflicted result for the user, the way `git merge` does.
pub fn leave_conflicts(
    repo: &Repository,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
    prepared: Prepared,
) -> Result<Written, git2::Error> {
    let head = repo.head()?.peel_to_commit()?;
    // git's merge state first: an update stopped while it writes files is an unfinished merge `--abort` undoes.
    write_merge_state(repo, head.id(), outcome, finish)?;
    checkout(repo, &repo.find_tree(prepared.tree)?, outcome, finish)?;
    stage_conflicts(repo, outcome)?;
    save_template_copies(repo, outcome)
}

/// The tree to check out: HEAD's, with the merge's changed paths, the record, and (for conflicts) what stays on
/// disk.
fn result_tree(
    repo: &Repository,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
    with_conflicts: bool,
) -> Result<Oid, git2::Error> {
    let mut index = Index::new()?;
    index.read_tree(&repo.head()?.peel_to_tree()?)?;
    let conflicts = outcome.conflicts.iter().map(|conflict| &conflict.path);
    for path in outcome.changed_paths.iter().chain(conflicts) {
        index.remove_path(Path::new(path))?;
    }
    for (path, entry) in &outcome.entries {
        index.add(&index_entry(path, *entry, 0))?;
    }
    if with_conflicts {
        for conflict in &outcome.conflicts {
            let on_disk = conflict.child_copy.as_deref().unwrap_or(&conflict.path);
            index.add(&index_entry(on_disk, conflict.worktree, 0))?;
        }
    }
    let record = repo.blob(finish.record)?;
    index.add(&index_entry(
        finish.record_path,
        Entry {
            id: record,
            mode: 0o100644,
        },
        0,
    ))?;
    index.write_tree_to(repo)
}

/// Makes the working tree and index match `tree` on the paths the update changes (so the time grows with the
/// changes, not the child). Safe mode: a file that is not HEAD's (an untracked file in the way) stops the checkout
/// before anything is written.
fn checkout(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
) -> Result<(), git2::Error> {
    let mut options = CheckoutBuilder::new();
    options
        .safe()
        .recreate_missing(true)
        .disable_pathspec_match(true)
        .path(finish.record_path);
    for file in &outcome.files {
        options.path(file.path.as_str());
    }
    let sides = outcome
        .conflicts
        .iter()
        .flat_map(|conflict| [&conflict.ancestor, &conflict.ours, &conflict.theirs]);
    for side in sides.flatten() {
        options.path(side.path.as_str());
    }
    for copy in outcome
        .conflicts
        .iter()
        .filter_map(|conflict| conflict.child_copy.as_deref())
    {
        options.path(copy);
    }
    repo.checkout_tree(tree.as_object(), Some(&mut options))
}

/// Replaces each conflicted path's stage-0 entry with its stages 1, 2 and 3.
fn stage_conflicts(repo: &Repository, outcome: &MergeOutcome) -> Result<(), git2::Error> {
    let mut index = repo.index()?;
    index.read(true)?;
    for conflict in &outcome.conflicts {
        index.remove_path(Path::new(&conflict.path))?;
        let stages = [
            (1, &conflict.ancestor),
            (2, &conflict.ours),
            (3, &conflict.theirs),
        ];
        for (stage, side) in stages {
            if let Some(side) = side {
                index.add(&index_entry(&side.path, side.entry, stage))?;
            }
        }
        // The child's file saved beside a folder stays untracked, as git leaves `PATH~HEAD`.
        if let Some(copy) = &conflict.child_copy {
            index.remove_path(Path::new(copy))?;
        }
    }
    index.write()
}

fn save_template_copies(repo: &Repository, outcome: &MergeOutcome) -> Result<Written, git2::Error> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| git2::Error::from_str("the child has no working tree"))?;
    let mut written = Written::default();
    for (path, id) in outcome
        .conflicts
        .iter()
        .filter_map(|conflict| conflict.template_copy.as_ref())
    {
        let target = workdir.join(path);
        fs::write(&target, repo.find_blob(*id)?.content()).map_err(|error| {
            git2::Error::from_str(&format!("cannot write `{}`: {error}", target.display()))
        })?;
        written.template_copies.push(PathBuf::from(path));
    }
    Ok(written)
}

/// MERGE_HEAD, MERGE_MSG (with git's `# Conflicts:` list), MERGE_MODE and ORIG_HEAD.
fn write_merge_state(
    repo: &Repository,
    head: Oid,
    outcome: &MergeOutcome,
    finish: &Finish<'_>,
) -> Result<(), git2::Error> {
    let git_dir = repo.path();
    let mut message = format!("{}\n\n# Conflicts:\n", finish.message.trim_end());
    for conflict in &outcome.conflicts {
        message.push_str(&format!("#\t{}\n", conflict.path));
    }
    let files = [
        ("MERGE_HEAD", format!("{}\n", finish.template_commit)),
        ("MERGE_MSG", message),
        ("MERGE_MODE", "no-ff".to_owned()),
    ];
    for (name, content) in files {
        fs::write(git_dir.join(name), content)
            .map_err(|error| git2::Error::from_str(&format!("cannot write `{name}`: {error}")))?;
    }
    repo.reference("ORIG_HEAD", head, true, "osorganic update")?;
    Ok(())
}

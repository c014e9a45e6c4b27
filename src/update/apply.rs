//! Writing a planned update into the child: the new render committed as a child of base, then the merge either
//! committed (clean) or left as git's own merge state with what `--abort` needs saved. Objects are written as one
//! pack before any reference points at them.

use std::path::Path;

use anyhow::Result;
use git2::{Commit, Oid, Repository};

use super::merge::{self, MergeOutcome};
use super::plan::NewRender;
use super::state::{self, UpdateState};
use crate::git;
use crate::record::{ChildRecord, RECORD_FILE, render_commit};

/// Everything an update writes, named: the child's repository and record, the sides of the merge and its outcome.
pub struct UpdateWrite<'a, 'repo, 'odb> {
    pub repo: &'repo Repository,
    /// The record before the update.
    pub record: &'a ChildRecord,
    pub new: &'a NewRender,
    pub base: &'a Commit<'repo>,
    pub head: &'a Commit<'repo>,
    pub outcome: &'a MergeOutcome,
    /// The new render's objects, held in memory until they are packed here.
    pub pending: git::PendingObjects<'odb>,
}

/// How the update ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Committed as a merge.
    Merged,
    /// Left with conflicts for the user.
    Conflicts,
}

/// Commits the new render, then writes the merge: a merge commit, or conflicts left for the user.
pub fn write_update(write: UpdateWrite<'_, '_, '_>) -> Result<Applied> {
    let UpdateWrite {
        repo,
        record,
        new,
        base,
        head,
        outcome,
        pending,
    } = write;
    let manifest = &new.source.manifest;
    let mut new_record = ChildRecord::new(&record.name, manifest, &new.source.origin, &new.answers);
    let template_commit = git::commit(
        repo,
        None,
        &render_commit::message(&new_record),
        new.tree,
        &[base.id()],
    )?;
    new_record.template.base = Some(template_commit.to_string());
    let record_text = new_record.to_toml_string();
    let message = render_commit::update_message(&super::plan::describe_move(
        &manifest.template.name,
        &record.template.version,
        &manifest.template.version,
    ));
    let signature = git::signature(repo)?;
    let finish = merge::write::Finish {
        record_path: RECORD_FILE,
        record: record_text.as_bytes(),
        template_commit,
        message: &message,
        signature: &signature,
    };
    let orig_template_ref = repo
        .refname_to_id(state::TEMPLATE_REF)
        .ok()
        .map(|id| id.to_string());
    let prepared = merge::write::prepare(repo, outcome, &finish)?;
    let commits: Vec<Oid> = [template_commit]
        .into_iter()
        .chain(prepared.commit)
        .collect();
    let trees = [
        (new.tree, Some(base.tree_id())),
        (prepared.tree, Some(head.tree_id())),
    ];
    pending.write_pack(repo, &commits, &trees)?;
    // What `--abort` needs is saved before any file of the child changes, for a clean update too: one stopped
    // half-way (killed, a full disk) is then an unfinished update that `--abort` undoes.
    save_unfinished_state(repo, head, orig_template_ref, template_commit, outcome)?;
    let applied = if outcome.is_clean() {
        merge::write::commit_merge(repo, outcome, &finish, prepared)?;
        state::forget(repo)?;
        Applied::Merged
    } else {
        merge::write::leave_conflicts(repo, outcome, &finish, prepared)?;
        Applied::Conflicts
    };
    repo.reference(
        state::TEMPLATE_REF,
        template_commit,
        true,
        "osorganic update",
    )?;
    Ok(applied)
}

/// What `--abort` needs to undo an update left with conflicts.
fn save_unfinished_state(
    repo: &Repository,
    head: &Commit<'_>,
    orig_template_ref: Option<String>,
    template_commit: Oid,
    outcome: &MergeOutcome,
) -> Result<()> {
    let head_tree = head.tree()?;
    let state = UpdateState {
        orig_head: head.id().to_string(),
        orig_template_ref,
        template_commit: template_commit.to_string(),
        added_paths: outcome
            .files
            .iter()
            .filter(|file| head_tree.get_path(Path::new(&file.path)).is_err())
            .map(|file| file.path.clone())
            .collect(),
        template_copies: outcome
            .conflicts
            .iter()
            .flat_map(|conflict| conflict.saved_copies().map(str::to_owned))
            .collect(),
    };
    state::save(repo, &state)
}

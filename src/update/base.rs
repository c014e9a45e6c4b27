//! Finding the base of an update: the pristine render the child last took. The record names it; the template ref
//! and the child's history are the fallbacks; an old or hand-made child gets it rebuilt from the recorded version.

use anyhow::{Context, Result, bail};
use git2::{Commit, Oid, Repository};

use crate::git::{self, TEMPLATE_REF};
use crate::record::render_commit::{self, RenderStamp};
use crate::record::{ChildRecord, RECORD_FILE};
use crate::template::answers::{self, AnswerLayer, Unanswered};
use crate::template::name::ChildName;
use crate::template::render::render;
use crate::template::source;

pub fn find_or_rebuild<'repo>(
    repo: &'repo Repository,
    record: &ChildRecord,
    head: &Commit<'_>,
    child_name: &ChildName,
) -> Result<Commit<'repo>> {
    if let Some(base) = recorded(repo, record)
        .or_else(|| template_ref(repo))
        .or_else(|| in_history(repo, head))
    {
        return Ok(base);
    }
    rebuild(repo, record, child_name)
}

/// The commit `.osorganic.toml` names as `base`, when this clone has it.
fn recorded<'repo>(repo: &'repo Repository, record: &ChildRecord) -> Option<Commit<'repo>> {
    let id = Oid::from_str(record.template.base.as_deref()?).ok()?;
    repo.find_commit(id).ok()
}

fn template_ref(repo: &Repository) -> Option<Commit<'_>> {
    repo.find_reference(TEMPLATE_REF)
        .ok()?
        .peel_to_commit()
        .ok()
}

/// The newest commit of HEAD's history made by osorganic as a render: no record in its tree, message
/// `osorganic: render ...`.
fn in_history<'repo>(repo: &'repo Repository, head: &Commit<'_>) -> Option<Commit<'repo>> {
    let mut walk = repo.revwalk().ok()?;
    walk.push(head.id()).ok()?;
    walk.filter_map(Result::ok)
        .filter_map(|id| repo.find_commit(id).ok())
        .find(|commit| {
            commit
                .message()
                .is_ok_and(|message| RenderStamp::parse(message).is_some())
                && commit
                    .tree()
                    .is_ok_and(|tree| tree.get_name(RECORD_FILE).is_none())
        })
}

/// Renders the recorded version with the recorded answers and commits it without parents.
fn rebuild<'repo>(
    repo: &'repo Repository,
    record: &ChildRecord,
    child_name: &ChildName,
) -> Result<Commit<'repo>> {
    let template = &record.template;
    let spec = template.pinned_source_spec().with_context(|| {
        format!(
            "no base to merge from, and the recorded source `{}` cannot be read",
            template.source
        )
    })?;
    let source = source::load(&spec).with_context(|| {
        format!("no base to merge from (no `base` commit, no `{TEMPLATE_REF}`), and the recorded source cannot be loaded")
    })?;
    if source.manifest.template.version != template.version {
        bail!(
            "no base to merge from: `{RECORD_FILE}` names no base commit this clone has, `{TEMPLATE_REF}` is missing, \
             no render commit is in the history, and the source `{}` is at version {}, not the recorded {}, so the \
             base cannot be rebuilt\nhint: pass `--from` a source at version {}",
            template.source,
            source.manifest.template.version,
            template.version,
            template.version
        );
    }
    let layers = [AnswerLayer::new(
        format!("`{RECORD_FILE}`"),
        record.answers.clone(),
    )];
    let answers = answers::resolve(
        &source.manifest,
        child_name,
        &layers,
        Unanswered::UseDefaults,
    )?;
    let rendered = render(&source, &answers, child_name).context("cannot rebuild the base")?;
    let tree = git::tree_from(repo, rendered.git_files())?;
    let id = git::commit(
        repo,
        None,
        &render_commit::rebuilt_message(record),
        tree,
        &[],
    )?;
    Ok(repo.find_commit(id)?)
}

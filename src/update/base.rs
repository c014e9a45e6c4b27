//! Finding the base of an update: the render of the template version and answers `.osorganic.toml` records, never
//! an older one. Each candidate is checked against the record before it is taken:
//!
//! 1. the commit the record names as `base` (a render commit of the recorded template and version);
//! 2. `refs/osorganic/template`, and then the newest render commit of the child's history, each only when its
//!    `Osorganic-Render` fingerprint is the record's (or, made before fingerprints, its version is the recorded one);
//! 3. else the recorded version is rendered again with the recorded answers, from the recorded source at the
//!    recorded commit, or from `--from` when given. This is what a fresh clone (which has no
//!    `refs/osorganic/template`) or a child whose update was squash- or rebase-merged (whose history holds only
//!    older renders) gets.
//!
//! When none of these can be had, the error says what is missing and how to get it.

use anyhow::{Context, Result};
use git2::{Commit, Oid, Repository};

use crate::git::{self, TEMPLATE_REF};
use crate::record::render_commit::{self, RenderStamp};
use crate::record::{ChildRecord, RECORD_FILE};
use crate::template::answers::{self, AnswerLayer, Unanswered};
use crate::template::name::ChildName;
use crate::template::render::render;
use crate::template::source::{self, SourceSpec};
use crate::user_error::UserError;

/// Where a base that must be rendered again is read from.
pub struct RebuildSource {
    pub spec: SourceSpec,
    /// How the user named it, for messages.
    pub name: String,
}

pub fn find_or_rebuild<'repo>(
    repo: &'repo Repository,
    record: &ChildRecord,
    head: &Commit<'_>,
    child_name: &ChildName,
    rebuild_from: RebuildSource,
) -> Result<Commit<'repo>> {
    let found = recorded(repo, record)
        .or_else(|| template_ref(repo).filter(|commit| renders_record(commit, record)))
        .or_else(|| in_history(repo, head, record));
    match found {
        Some(base) => Ok(base),
        None => rebuild(repo, record, child_name, rebuild_from),
    }
}

/// The commit `.osorganic.toml` names as `base`, when this clone has it and it renders the recorded template and
/// version.
fn recorded<'repo>(repo: &'repo Repository, record: &ChildRecord) -> Option<Commit<'repo>> {
    let id = Oid::from_str(record.template.base.as_deref()?).ok()?;
    let commit = repo.find_commit(id).ok()?;
    let stamp = RenderStamp::parse(commit.message().ok()?)?;
    let same_version =
        stamp.template_name == record.template.name && stamp.version == record.template.version;
    (same_version && holds_no_record(&commit)).then_some(commit)
}

fn template_ref(repo: &Repository) -> Option<Commit<'_>> {
    repo.find_reference(TEMPLATE_REF)
        .ok()?
        .peel_to_commit()
        .ok()
}

/// The newest render commit of HEAD's history that renders the record.
fn in_history<'repo>(
    repo: &'repo Repository,
    head: &Commit<'_>,
    record: &ChildRecord,
) -> Option<Commit<'repo>> {
    let mut walk = repo.revwalk().ok()?;
    walk.push(head.id()).ok()?;
    walk.filter_map(Result::ok)
        .filter_map(|id| repo.find_commit(id).ok())
        .find(|commit| renders_record(commit, record))
}

/// A render commit (named by the protocol, without a record in its tree) of exactly what the record describes.
fn renders_record(commit: &Commit<'_>, record: &ChildRecord) -> bool {
    commit
        .message()
        .ok()
        .and_then(RenderStamp::parse)
        .is_some_and(|stamp| stamp.matches(record))
        && holds_no_record(commit)
}

fn holds_no_record(commit: &Commit<'_>) -> bool {
    commit
        .tree()
        .is_ok_and(|tree| tree.get_name(RECORD_FILE).is_none())
}

/// Renders the recorded version with the recorded answers and commits it without parents.
fn rebuild<'repo>(
    repo: &'repo Repository,
    record: &ChildRecord,
    child_name: &ChildName,
    from: RebuildSource,
) -> Result<Commit<'repo>> {
    let template = &record.template;
    let missing = format!(
        "no render of {} {} to merge from: this clone has no `base` commit the record names, no `{TEMPLATE_REF}` \
         and no render commit of that version in its history",
        template.name, template.version
    );
    let source = source::load(&from.spec).map_err(|error| {
        anyhow::Error::new(error).context(
            UserError::usage(format!(
                "{missing}, and `{}` cannot be loaded to render it again",
                from.name
            ))
            .with_hint(format!(
                "pass `--from` a folder or git source that holds version {}",
                template.version
            )),
        )
    })?;
    let found = &source.manifest.template;
    if found.name != template.name || found.version != template.version {
        return Err(UserError::usage(format!(
            "{missing}, and `{}` holds {} {}, so it cannot be rendered again",
            from.name, found.name, found.version
        ))
        .with_hint(format!(
            "pass `--from` a folder or git source that holds version {} (with `--from template`, the commit the \
             record names is used)",
            template.version
        ))
        .into());
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

//! Planning an update: the source and answers of the new version, its render as a tree built on the base's, the
//! comparison `--check` stops at, and the three-way merge a `--dry-run` shows and an update writes.

use std::path::Path;

use anyhow::{Context, Result, bail};
use git2::build::TreeUpdateBuilder;
use git2::{Commit, Odb, Oid, Repository, Tree};

use super::answers::resolve_answers;
use super::base;
use super::child::{open_child, read_record};
use super::merge::{self, Labels, MergeOutcome, ThreeTrees};
use super::refusal::Refusal;
use super::request::UpdateRequest;
use super::state::{self, InProgress};
use crate::git;
use crate::record::{ChildRecord, RECORD_FILE};
use crate::template::answers::{AnswerLayer, Answers};
use crate::template::name::ChildName;
use crate::template::render::render;
use crate::template::source::{self, SourceSpec, TemplateSource};

/// What `update --check` finds: the child matches the render of its source, or it is behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    UpToDate {
        version: String,
    },
    Behind {
        from: String,
        to: String,
        /// Questions the new version asks that the child never answered.
        new_questions: Vec<String>,
    },
}

/// How a move between template versions reads: `child-template 0.1.0 -> 0.2.0`, or, when the template changed
/// without a new version number, `child-template 0.1.0 (changed since the child took it)`.
pub fn describe_move(template_name: &str, from: &str, to: &str) -> String {
    if from == to {
        format!("{template_name} {from} (changed since the child took it)")
    } else {
        format!("{template_name} {from} -> {to}")
    }
}

/// What `update --check --yes [--from SOURCE]` would find in `child`, for other commands (`doctor`). The renders
/// it compares are kept in memory: nothing is written to the child's repository.
pub fn standing(child: &Path, from: Option<&str>) -> Result<Standing> {
    let request = UpdateRequest {
        child: child.to_path_buf(),
        from: from.map(str::to_owned),
        to: None,
        defines: Vec::new(),
        yes: true,
        switch_template: false,
    };
    let repo = open_child(&request.child)?;
    match state::in_progress(&repo)? {
        InProgress::Nothing => {}
        InProgress::Update(_) => {
            bail!("an unfinished update is waiting: its conflicts are not resolved yet")
        }
        InProgress::GitOperation(operation) => {
            bail!("the child is in the middle of a git operation ({operation})")
        }
    }
    let record = read_record(&repo)?;
    // The new render stays in memory and is dropped: the comparison leaves the child's repository as it was.
    check(&repo, &repo.odb()?, &request, &record)
}

/// The new version, rendered and ready to merge.
pub struct NewRender {
    pub source: TemplateSource,
    pub answers: Answers,
    pub tree: Oid,
    /// Secret questions that took their default because nothing gave them: a write must not use this render.
    pub defaulted_secrets: Vec<String>,
}

impl NewRender {
    pub fn version(&self) -> &str {
        &self.source.manifest.template.version
    }
}

/// The child's HEAD, the new render and the base it is compared with: where `--check` stops and a merge starts.
pub struct Comparison<'repo, 'odb> {
    pub head: Commit<'repo>,
    pub new: NewRender,
    pub base: Commit<'repo>,
    /// The new render's objects, still in memory: written as one pack by [`super::apply`], dropped otherwise.
    pub pending: git::PendingObjects<'odb>,
}

/// Finds the base and renders the new version on it.
pub fn compare<'repo, 'odb>(
    repo: &'repo Repository,
    odb: &'odb Odb<'odb>,
    request: &UpdateRequest,
    record: &ChildRecord,
) -> Result<Comparison<'repo, 'odb>> {
    let head = repo
        .head()
        .and_then(|head| head.peel_to_commit())
        .context("the child has no commit yet")?;
    let child_name =
        ChildName::parse(&record.name).map_err(|error| anyhow::anyhow!("{error:?}"))?;
    // A rebuilt base is written as usual: a finished update makes it part of the child's history.
    let base = base::find_or_rebuild(
        repo,
        record,
        &head,
        &child_name,
        rebuild_source(request, record)?,
    )?;
    // From here on new objects stay in memory.
    let pending = git::PendingObjects::start(odb)?;
    let new = render_new(repo, request, record, &child_name, &base.tree()?)?;
    Ok(Comparison {
        head,
        new,
        base,
        pending,
    })
}

/// `--check`: up to date, or behind from the recorded version to the one the source offers. New questions take
/// their defaults for the comparison and are named; a new question makes the child behind.
pub fn check(
    repo: &Repository,
    odb: &Odb<'_>,
    request: &UpdateRequest,
    record: &ChildRecord,
) -> Result<Standing> {
    let request = UpdateRequest {
        yes: true,
        ..request.clone()
    };
    let Comparison { new, base, .. } = compare(repo, odb, &request, record)?;
    let given = AnswerLayer::from_defines(&request.defines)?;
    let new_questions: Vec<String> = new
        .answers
        .recorded()
        .keys()
        .filter(|name| !record.answers.contains_key(*name) && !given.values.contains_key(*name))
        .cloned()
        .collect();
    let version = record.template.version.clone();
    Ok(
        if is_up_to_date(record, &new, &base) && new_questions.is_empty() {
            Standing::UpToDate { version }
        } else {
            Standing::Behind {
                from: version,
                to: new.version().to_owned(),
                new_questions,
            }
        },
    )
}

/// Up to date when the new render is the base at the recorded version (a new version number is recorded even when
/// it renders the same). A template with secrets re-renders differently without them, so there the same version,
/// source commit and answers are enough: the stored base makes a replay unnecessary.
pub fn is_up_to_date(record: &ChildRecord, new: &NewRender, base: &Commit<'_>) -> bool {
    let manifest = &new.source.manifest;
    let same_version = manifest.template.version == record.template.version;
    let same_identity = same_version
        && new.source.origin.commit == record.template.commit
        && new.answers.recorded() == record.answers;
    let has_secrets = manifest.questions.iter().any(|question| question.secret);
    (same_identity && has_secrets) || (same_version && base.tree_id() == new.tree)
}

/// The three-way merge of base, the child (without its record) and the new render, in memory.
pub fn merge(
    repo: &Repository,
    comparison: &Comparison<'_, '_>,
    record: &ChildRecord,
) -> Result<MergeOutcome> {
    let trees = ThreeTrees {
        base: comparison.base.tree()?,
        ours: tree_without_record(repo, &comparison.head.tree()?)?,
        theirs: repo.find_tree(comparison.new.tree)?,
    };
    let labels = Labels::new(&record.template.version, comparison.new.version());
    let files = &comparison.new.source.manifest.files;
    merge::three_way_owned(repo, &trees, &labels, &|path| files.ownership(path))
        .context("cannot merge the new template version")
}

/// Loads the new version and renders it with the child's answers, as a tree built on the base's (only the files
/// that differ from the base are written).
fn render_new(
    repo: &Repository,
    request: &UpdateRequest,
    record: &ChildRecord,
    child_name: &ChildName,
    base_tree: &Tree<'_>,
) -> Result<NewRender> {
    let spec = source_spec(request, record)?;
    let source = source::load(&spec).context("cannot load the new template version")?;
    let found = &source.manifest.template.name;
    if *found != record.template.name && !request.switch_template {
        return Err(Refusal::OtherTemplate {
            recorded: record.template.name.clone(),
            found: found.clone(),
        }
        .into());
    }
    let (answers, defaulted_secrets) = resolve_answers(&source, record, request, child_name)?;
    let rendered =
        render(&source, &answers, child_name).context("cannot render the new template version")?;
    let tree = git::tree_from_base(repo, base_tree, rendered.git_files())?;
    Ok(NewRender {
        source,
        answers,
        tree,
        defaulted_secrets,
    })
}

/// `--from` (`template` is the child's remote of that name), else the source recorded in `.osorganic.toml`.
fn source_spec(request: &UpdateRequest, record: &ChildRecord) -> Result<SourceSpec> {
    let rev = request.to.as_deref();
    Ok(match request.from.as_deref() {
        Some(git::TEMPLATE_REMOTE) => SourceSpec::Git {
            url: template_remote_url(&request.child)?,
            rev: rev.map(str::to_owned),
        },
        Some(text) => SourceSpec::parse(text, rev)?,
        None => record.template.source_spec(rev).with_context(|| {
            format!(
                "cannot read the recorded template source `{}`",
                record.template.source
            )
        })?,
    })
}

/// Where the recorded version is rendered again when no stored render of it is found: `--from` at the recorded
/// commit when it is a git source, else the recorded source at the recorded commit.
fn rebuild_source(request: &UpdateRequest, record: &ChildRecord) -> Result<base::RebuildSource> {
    let Some(from) = request.from.as_deref() else {
        let spec = record.template.pinned_source_spec().with_context(|| {
            format!(
                "cannot read the recorded template source `{}`",
                record.template.source
            )
        })?;
        return Ok(base::RebuildSource {
            spec,
            name: record.template.source.clone(),
        });
    };
    let spec = match source_spec(request, record)? {
        SourceSpec::Git { url, rev } => SourceSpec::Git {
            url,
            rev: record.template.commit.clone().or(rev),
        },
        other => other,
    };
    Ok(base::RebuildSource {
        spec,
        name: from.to_owned(),
    })
}

fn template_remote_url(child: &Path) -> Result<String> {
    let repo = Repository::open(child)?;
    let remote = repo.find_remote(git::TEMPLATE_REMOTE).context(
        "the child has no `template` remote (add it with `git remote add template URL`)",
    )?;
    remote
        .url()
        .map(str::to_owned)
        .context("the `template` remote has no URL")
}

/// The child's tree without osorganic's record, which is rewritten and never merged.
fn tree_without_record<'repo>(repo: &'repo Repository, tree: &Tree<'_>) -> Result<Tree<'repo>> {
    let mut update = TreeUpdateBuilder::new();
    update.remove(RECORD_FILE);
    Ok(repo.find_tree(update.create_updated(repo, tree)?)?)
}

/// An untracked file where the update would write one stops it before anything is written.
pub fn refuse_untracked_in_the_way(
    repo: &Repository,
    head_tree: &Tree<'_>,
    outcome: &MergeOutcome,
) -> Result<()> {
    let workdir = repo.workdir().context("the child has no working tree")?;
    let written = outcome.files.iter().map(|file| file.path.as_str()).chain(
        outcome
            .conflicts
            .iter()
            .flat_map(|conflict| conflict.saved_copies()),
    );
    let in_the_way: Vec<String> = written
        .filter(|path| head_tree.get_path(Path::new(path)).is_err() && workdir.join(path).exists())
        .map(str::to_owned)
        .collect();
    if !in_the_way.is_empty() {
        return Err(Refusal::UntrackedInTheWay(in_the_way).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_names_both_versions_or_says_the_same_version_changed() {
        assert_eq!(describe_move("t", "1.0.0", "2.0.0"), "t 1.0.0 -> 2.0.0");
        assert_eq!(
            describe_move("t", "1.0.0", "1.0.0"),
            "t 1.0.0 (changed since the child took it)"
        );
    }
}

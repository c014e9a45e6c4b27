//! `osorganic update`: bring a child to a newer template version with a three-way merge.
//!
//! base = the pristine render the child last took, ours = the child's HEAD, theirs = the new version rendered with
//! the child's answers and committed as a child of base. Nothing is written before the merge is computed; a clean
//! merge becomes a merge commit (second parent: the new render), conflicts are left as git's own merge state.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use git2::build::TreeUpdateBuilder;
use git2::{Commit, Odb, Oid, Repository, Status, StatusOptions, Tree};

use super::ExitStatus;
use crate::cli::UpdateArgs;
use crate::drift::Standing;
use crate::git;
use crate::merge::{self, Labels, MergeOutcome, ThreeTrees};
use crate::printer::Printer;
use crate::record::{ChildRecord, RECORD_FILE};
use crate::template::answers::{self, AnswerLayer, Answers, Unanswered};
use crate::template::name::ChildName;
use crate::template::prompt::TerminalPrompter;
use crate::template::render::render;
use crate::template::source::{self, SourceSpec, TemplateSource};
use crate::update_state::{self, InProgress, UpdateState};

mod base;
mod report;

/// What the command was asked to do, resolved from the flags before any I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Merge,
    Check,
    DryRun,
    Abort,
}

/// `UpdateArgs` resolved once: the child's path, the source to read, the answers given.
struct UpdateOptions {
    child: PathBuf,
    from: Option<String>,
    to: Option<String>,
    defines: Vec<String>,
    yes: bool,
    json: bool,
    mode: Mode,
}

impl UpdateOptions {
    fn resolve(args: UpdateArgs) -> Result<Self> {
        let child = std::path::absolute(&args.path)
            .with_context(|| format!("cannot resolve the child path `{}`", args.path.display()))?;
        let mode = match (args.abort, args.check, args.dry_run) {
            (true, _, _) => Mode::Abort,
            (_, true, _) => Mode::Check,
            (_, _, true) => Mode::DryRun,
            _ => Mode::Merge,
        };
        Ok(Self {
            child,
            from: args.from,
            to: args.to,
            defines: args.defines,
            yes: args.yes,
            json: args.json,
            mode,
        })
    }
}

/// The new version, rendered and ready to merge.
struct NewRender {
    source: TemplateSource,
    answers: Answers,
    tree: Oid,
}

pub fn update(args: UpdateArgs, printer: &Printer) -> Result<ExitStatus> {
    let options = UpdateOptions::resolve(args)?;
    // Read objects as git does, without re-hashing each one: libgit2 caches no tree over 4 KiB, so every path
    // lookup in a large folder would inflate and hash that folder's tree again.
    git2::opts::strict_hash_verification(false);
    // SAFETY: set once, before this process reads any object; a child's folders easily exceed the 4 KiB limit.
    unsafe { git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20)? };
    let repo = open_child(&options.child)?;
    let in_progress = update_state::in_progress(&repo)?;
    if options.mode == Mode::Abort {
        return abort(&repo, in_progress, printer);
    }
    if let Some(status) = refuse_unfinished(&in_progress, printer) {
        return Ok(status);
    }
    let workdir = repo
        .workdir()
        .context("the child has no working tree")?
        .to_path_buf();
    let record = ChildRecord::read(&workdir)?;
    if options.mode == Mode::Merge {
        if let Some(status) = refuse_dirty(&repo, printer)? {
            return Ok(status);
        }
    }
    let odb = repo.odb()?;
    if options.mode == Mode::Check {
        return Ok(match check(&repo, &odb, &options, &record)? {
            Standing::UpToDate { .. } => report::up_to_date(&options, &record, printer),
            Standing::Behind { to, .. } => report::behind(&options, &record, &to, printer),
        });
    }
    let Comparison {
        head,
        new,
        base,
        pending,
    } = compare(&repo, &odb, &options, &record)?;
    if is_up_to_date(&record, &new, &base) {
        return Ok(report::up_to_date(&options, &record, printer));
    }
    let trees = ThreeTrees {
        base: base.tree()?,
        ours: tree_without_record(&repo, &head.tree()?)?,
        theirs: repo.find_tree(new.tree)?,
    };
    let labels = Labels::new(
        &record.template.version,
        &new.source.manifest.template.version,
    );
    let outcome = merge::three_way(&repo, &trees, &labels)
        .context("cannot merge the new template version")?;
    if options.mode == Mode::DryRun {
        let versions = (
            record.template.version.as_str(),
            new.source.manifest.template.version.as_str(),
        );
        report::plan(&options, versions, &outcome, printer)?;
        return Ok(ExitStatus::Success);
    }
    refuse_untracked_in_the_way(&repo, &head.tree()?, &outcome)?;
    write_update(
        &repo, &options, &record, &new, &base, &head, &outcome, pending, printer,
    )
}

/// The child's HEAD, the new render and the base it is compared with: where `--check` stops and a merge starts.
struct Comparison<'repo, 'odb> {
    head: Commit<'repo>,
    new: NewRender,
    base: Commit<'repo>,
    /// The new render's objects, still in memory.
    pending: git::PendingObjects<'odb>,
}

fn compare<'repo, 'odb>(
    repo: &'repo Repository,
    odb: &'odb Odb<'odb>,
    options: &UpdateOptions,
    record: &ChildRecord,
) -> Result<Comparison<'repo, 'odb>> {
    let head = repo
        .head()
        .and_then(|head| head.peel_to_commit())
        .context("the child has no commit yet")?;
    let child_name =
        ChildName::parse(&record.name).map_err(|error| anyhow::anyhow!("{error:?}"))?;
    // A rebuilt base is written as usual: a finished update makes it part of the child's history.
    let base = base::find_or_rebuild(repo, record, &head, &child_name)?;
    // From here on new objects stay in memory: written as one pack by `write_update`, dropped otherwise.
    let pending = git::PendingObjects::start(odb)?;
    let new = render_new(repo, options, record, &child_name, &base.tree()?)?;
    Ok(Comparison {
        head,
        new,
        base,
        pending,
    })
}

/// `--check`: up to date, or behind from the recorded version to the one the source offers.
fn check(
    repo: &Repository,
    odb: &Odb<'_>,
    options: &UpdateOptions,
    record: &ChildRecord,
) -> Result<Standing> {
    let Comparison { new, base, .. } = compare(repo, odb, options, record)?;
    let version = record.template.version.clone();
    Ok(if is_up_to_date(record, &new, &base) {
        Standing::UpToDate { version }
    } else {
        Standing::Behind {
            from: version,
            to: new.source.manifest.template.version.clone(),
        }
    })
}

/// What `update --check --yes [--from SOURCE]` would find in `child`, for other commands (`doctor`). The renders
/// it compares are kept in memory: nothing is written to the child's repository.
pub fn standing(child: &Path, from: Option<&str>) -> Result<Standing> {
    let options = UpdateOptions {
        child: child.to_path_buf(),
        from: from.map(str::to_owned),
        to: None,
        defines: Vec::new(),
        yes: true,
        json: false,
        mode: Mode::Check,
    };
    let repo = open_child(&options.child)?;
    match update_state::in_progress(&repo)? {
        InProgress::Nothing => {}
        InProgress::Update(_) => {
            bail!("an unfinished update is waiting: its conflicts are not resolved yet")
        }
        InProgress::GitOperation(operation) => {
            bail!("the child is in the middle of a git operation ({operation})")
        }
    }
    let workdir = repo.workdir().context("the child has no working tree")?;
    let record = ChildRecord::read(workdir)?;
    // The new render stays in memory and is dropped: the comparison leaves the child's repository as it was.
    check(&repo, &repo.odb()?, &options, &record)
}

/// Opens the child's repository; a child without git cannot be updated.
fn open_child(child: &Path) -> Result<Repository> {
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

fn abort(repo: &Repository, in_progress: InProgress, printer: &Printer) -> Result<ExitStatus> {
    match in_progress {
        InProgress::Update(state) => {
            update_state::abort(repo, &state)?;
            printer.status("aborted", "the child is back as it was before the update");
            Ok(ExitStatus::Success)
        }
        _ => {
            printer.error("there is no unfinished update to abort");
            Ok(ExitStatus::Error)
        }
    }
}

fn refuse_unfinished(in_progress: &InProgress, printer: &Printer) -> Option<ExitStatus> {
    match in_progress {
        InProgress::Nothing => None,
        InProgress::Update(_) => {
            printer.error("an unfinished update is waiting: its conflicts are not resolved yet");
            printer
                .hint("resolve them and `git commit`, or undo it with `osorganic update --abort`");
            Some(ExitStatus::UserActionNeeded)
        }
        InProgress::GitOperation(operation) => {
            printer.error(format!(
                "the child is in the middle of a git operation ({operation})"
            ));
            printer.hint("finish it or abort it first");
            Some(ExitStatus::UserActionNeeded)
        }
    }
}

/// Refuses a working tree with uncommitted changes to tracked files, naming them.
fn refuse_dirty(repo: &Repository, printer: &Printer) -> Result<Option<ExitStatus>> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(false)
        .include_ignored(false)
        .exclude_submodules(true);
    let statuses = repo.statuses(Some(&mut options))?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|entry| entry.status() != Status::CURRENT)
        .filter_map(|entry| entry.path().ok().map(str::to_owned))
        .collect();
    if dirty.is_empty() {
        return Ok(None);
    }
    printer.error(format!(
        "the child has uncommitted changes: {}",
        dirty.join(", ")
    ));
    printer.hint("commit them or `git stash` them, then run the update again");
    Ok(Some(ExitStatus::UserActionNeeded))
}

/// Loads the new version and renders it with the child's answers, as a tree built on the base's (only the files
/// that differ from the base are written).
fn render_new(
    repo: &Repository,
    options: &UpdateOptions,
    record: &ChildRecord,
    child_name: &ChildName,
    base_tree: &Tree<'_>,
) -> Result<NewRender> {
    let spec = source_spec(options, record)?;
    let source = source::load(&spec).context("cannot load the new template version")?;
    let answers = resolve_answers(&source, record, options, child_name)?;
    let rendered =
        render(&source, &answers, child_name).context("cannot render the new template version")?;
    let tree = git::tree_from_base(repo, base_tree, &rendered)?;
    Ok(NewRender {
        source,
        answers,
        tree,
    })
}

/// `--from` (`template` is the child's remote of that name), else the source recorded in `.osorganic.toml`.
fn source_spec(options: &UpdateOptions, record: &ChildRecord) -> Result<SourceSpec> {
    let rev = options.to.as_deref();
    let spec = match options.from.as_deref() {
        Some("template") => SourceSpec::Git {
            url: template_remote_url(&options.child)?,
            rev: rev.map(str::to_owned),
        },
        Some(text) => SourceSpec::parse(text, rev)?,
        None => match record.template.kind.as_str() {
            "embedded" => SourceSpec::Embedded,
            "git" => SourceSpec::Git {
                url: record.template.source.clone(),
                rev: rev.map(str::to_owned),
            },
            _ => SourceSpec::parse(&record.template.source, rev).with_context(|| {
                format!(
                    "cannot read the recorded template source `{}`",
                    record.template.source
                )
            })?,
        },
    };
    Ok(spec)
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

/// Recorded answers (for questions the new version still asks) under `--define`; new questions by default with
/// `--yes`, on the terminal, or refused.
fn resolve_answers(
    source: &TemplateSource,
    record: &ChildRecord,
    options: &UpdateOptions,
    child_name: &ChildName,
) -> Result<Answers> {
    let recorded: toml::Table = record
        .answers
        .iter()
        .filter(|(name, _)| source.manifest.question(name).is_some())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let layers = [
        AnswerLayer::from_defines(&options.defines)?,
        AnswerLayer::new(format!("`{RECORD_FILE}`"), recorded),
    ];
    let prompter = TerminalPrompter::new();
    let unanswered = if options.yes {
        Unanswered::UseDefaults
    } else if TerminalPrompter::available() {
        Unanswered::Prompt(&prompter)
    } else {
        Unanswered::Refuse
    };
    Ok(answers::resolve(
        &source.manifest,
        child_name,
        &layers,
        unanswered,
    )?)
}

/// Up to date when the new render is the base. A template with secrets re-renders differently without them, so
/// there the same version, source commit and answers are enough: the stored base makes a replay unnecessary.
fn is_up_to_date(record: &ChildRecord, new: &NewRender, base: &Commit<'_>) -> bool {
    let manifest = &new.source.manifest;
    let same_identity = manifest.template.version == record.template.version
        && new.source.origin.commit == record.template.commit
        && new.answers.recorded() == record.answers;
    let has_secrets = manifest.questions.iter().any(|question| question.secret);
    (same_identity && has_secrets) || base.tree_id() == new.tree
}

/// The child's tree without osorganic's record, which is rewritten and never merged.
fn tree_without_record<'repo>(repo: &'repo Repository, tree: &Tree<'_>) -> Result<Tree<'repo>> {
    let mut update = TreeUpdateBuilder::new();
    update.remove(RECORD_FILE);
    Ok(repo.find_tree(update.create_updated(repo, tree)?)?)
}

/// An untracked file where the update would write one stops it before anything is written.
fn refuse_untracked_in_the_way(
    repo: &Repository,
    head_tree: &Tree<'_>,
    outcome: &MergeOutcome,
) -> Result<()> {
    let workdir = repo.workdir().context("the child has no working tree")?;
    let written = outcome.files.iter().map(|file| file.path.as_str()).chain(
        outcome.conflicts.iter().filter_map(|conflict| {
            conflict
                .template_copy
                .as_ref()
                .map(|(path, _)| path.as_str())
        }),
    );
    let in_the_way: Vec<&str> = written
        .filter(|path| head_tree.get_path(Path::new(path)).is_err() && workdir.join(path).exists())
        .collect();
    if !in_the_way.is_empty() {
        bail!(
            "untracked files are where the update writes: {}\nhint: move them away or commit them, then run the update again",
            in_the_way.join(", ")
        );
    }
    Ok(())
}

/// Commits the new render, then writes the merge: a merge commit, or conflicts left for the user.
#[allow(clippy::too_many_arguments)]
fn write_update(
    repo: &Repository,
    options: &UpdateOptions,
    record: &ChildRecord,
    new: &NewRender,
    base: &Commit<'_>,
    head: &Commit<'_>,
    outcome: &MergeOutcome,
    pending: git::PendingObjects<'_>,
    printer: &Printer,
) -> Result<ExitStatus> {
    let manifest = &new.source.manifest;
    let render_message = format!(
        "osorganic: render {} {}",
        manifest.template.name, manifest.template.version
    );
    let template_commit = git::commit(repo, None, &render_message, new.tree, &[base.id()])?;
    let mut new_record = ChildRecord::new(&record.name, manifest, &new.source.origin, &new.answers);
    new_record.template.base = Some(template_commit.to_string());
    let record_text = new_record.to_toml_string();
    let message = format!(
        "osorganic: update {}",
        crate::drift::describe_move(
            &manifest.template.name,
            &record.template.version,
            &manifest.template.version
        )
    );
    let signature = git::signature(repo)?;
    let finish = merge::write::Finish {
        record_path: RECORD_FILE,
        record: record_text.as_bytes(),
        template_commit,
        message: &message,
        signature: &signature,
    };
    let orig_template_ref = repo
        .refname_to_id(update_state::TEMPLATE_REF)
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
    let status = if outcome.is_clean() {
        merge::write::commit_merge(repo, outcome, &finish, prepared)?;
        ExitStatus::Success
    } else {
        save_unfinished_state(repo, head, orig_template_ref, template_commit, outcome)?;
        merge::write::leave_conflicts(repo, outcome, &finish, prepared)?;
        ExitStatus::UserActionNeeded
    };
    repo.reference(
        update_state::TEMPLATE_REF,
        template_commit,
        true,
        "osorganic update",
    )?;
    report::finished(options, record, manifest, outcome, printer)?;
    Ok(status)
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
            .filter_map(|conflict| {
                conflict
                    .template_copy
                    .as_ref()
                    .map(|(path, _)| path.clone())
            })
            .collect(),
    };
    update_state::save(repo, &state)
}

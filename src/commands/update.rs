//! `osorganic update`: resolve the flags, run the update library ([`crate::update`]) step by step, print what
//! happened and decide the exit status.

use anyhow::Result;
use git2::Repository;

use super::exit_status::ExitStatus;
use crate::cli::UpdateArgs;
use crate::printer::Printer;
use crate::update::apply::{self, Applied, UpdateWrite};
use crate::update::refusal::Refusal;
use crate::update::state::{self, InProgress, UpdateLock};
use crate::update::{self as library, Standing, plan};
use crate::user_error::UserError;

mod options;
mod report;

use options::{Mode, UpdateOptions};

pub fn update(args: UpdateArgs, printer: &Printer) -> Result<ExitStatus> {
    let options = UpdateOptions::resolve(args)?;
    let error = match run(&options, printer) {
        Err(error) => match error.downcast::<Refusal>() {
            Ok(refusal) => anyhow::Error::new(UserError::from(refusal)),
            Err(error) => error,
        },
        finished => return finished,
    };
    report::error_json(&options, &error);
    Err(error)
}

fn run(options: &UpdateOptions, printer: &Printer) -> Result<ExitStatus> {
    library::tune_libgit2()?;
    let repo = library::open_child(&options.request.child)?;
    // Whatever writes holds the lock from before it reads the child's state until it is done.
    let _lock = match options.mode {
        Mode::Merge | Mode::Abort => Some(UpdateLock::acquire(&repo)?.map_err(Refusal::from)?),
        Mode::Check | Mode::DryRun => None,
    };
    let in_progress = state::in_progress(&repo)?;
    if options.mode == Mode::Abort {
        return abort(&repo, in_progress, printer);
    }
    refuse_unfinished(&in_progress)?;
    let record = library::read_record(&repo)?;
    if options.mode == Mode::Merge {
        refuse_dirty(&repo)?;
    }
    let odb = repo.odb()?;
    if options.mode == Mode::Check {
        return Ok(match plan::check(&repo, &odb, &options.request, &record)? {
            Standing::UpToDate { .. } => report::up_to_date(options, &record, printer),
            Standing::Behind {
                to, new_questions, ..
            } => report::behind(options, &record, &to, &new_questions, printer),
        });
    }
    let comparison = plan::compare(&repo, &odb, &options.request, &record)?;
    if plan::is_up_to_date(&record, &comparison.new, &comparison.base) {
        return Ok(report::up_to_date(options, &record, printer));
    }
    if !comparison.new.defaulted_secrets.is_empty() {
        return Err(Refusal::SecretsMissing(comparison.new.defaulted_secrets.clone()).into());
    }
    let outcome = plan::merge(&repo, &comparison, &record)?;
    let new_version = comparison.new.version().to_owned();
    let versions = (record.template.version.as_str(), new_version.as_str());
    if options.mode == Mode::DryRun {
        report::plan(options, versions, &outcome, printer)?;
        return Ok(if outcome.is_clean() {
            ExitStatus::Success
        } else {
            ExitStatus::UserActionNeeded
        });
    }
    plan::refuse_untracked_in_the_way(&repo, &comparison.head.tree()?, &outcome)?;
    let plan::Comparison {
        head,
        new,
        base,
        pending,
    } = comparison;
    let applied = apply::write_update(UpdateWrite {
        repo: &repo,
        record: &record,
        new: &new,
        base: &base,
        head: &head,
        outcome: &outcome,
        pending,
    })?;
    report::finished(options, &record.template.name, versions, &outcome, printer)?;
    Ok(match applied {
        Applied::Merged => ExitStatus::Success,
        Applied::Conflicts => ExitStatus::UserActionNeeded,
    })
}

fn abort(repo: &Repository, in_progress: InProgress, printer: &Printer) -> Result<ExitStatus> {
    match in_progress {
        InProgress::Update(update_state) => {
            state::abort(repo, &update_state)?;
            printer.status("aborted", "the child is back as it was before the update");
            Ok(ExitStatus::Success)
        }
        _ => Err(UserError::usage("there is no unfinished update to abort").into()),
    }
}

fn refuse_unfinished(in_progress: &InProgress) -> Result<()> {
    match in_progress {
        InProgress::Nothing => Ok(()),
        InProgress::Update(_) => Err(UserError::must_act(
            "an unfinished update is waiting: its conflicts are not resolved yet",
        )
        .with_hint("resolve them and `git commit`, or undo it with `osorganic update --abort`")
        .into()),
        InProgress::GitOperation(operation) => Err(UserError::must_act(format!(
            "the child is in the middle of a git operation ({operation})"
        ))
        .with_hint("finish it or abort it first")
        .into()),
    }
}

/// Refuses a working tree with uncommitted changes to tracked files, naming them.
fn refuse_dirty(repo: &Repository) -> Result<()> {
    let dirty = library::dirty_files(repo)?;
    if dirty.is_empty() {
        return Ok(());
    }
    Err(UserError::must_act(format!(
        "the child has uncommitted changes: {}",
        dirty.join(", ")
    ))
    .with_hint("commit them or `git stash` them, then run the update again")
    .into())
}

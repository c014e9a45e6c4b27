//! What `osorganic update` tells: a summary on stderr, and with `--json` the per-file result on stdout.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use super::options::UpdateOptions;
use crate::commands::exit_status::ExitStatus;
use crate::printer::Printer;
use crate::record::ChildRecord;
use crate::update::describe_move;
use crate::update::merge::{FileChange, FileReport, MergeOutcome};
use crate::user_error::{UserError, UserErrorKind};

/// The `--json` document.
#[derive(Serialize)]
struct JsonReport<'a> {
    /// `up-to-date`, `behind`, `planned`, `updated` or `conflicts`.
    status: &'a str,
    from: &'a str,
    to: &'a str,
    files: &'a [FileReport],
    /// `behind`: questions the new version asks that the child never answered.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    new_questions: &'a [String],
    /// `refused`: why the update stopped before writing anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn print_json(
    options: &UpdateOptions,
    status: &str,
    from: &str,
    to: &str,
    files: &[FileReport],
) -> Result<()> {
    write_json(
        options,
        JsonReport {
            status,
            from,
            to,
            files,
            new_questions: &[],
            reason: None,
        },
    )
}

fn write_json(options: &UpdateOptions, report: JsonReport<'_>) -> Result<()> {
    if options.json {
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut stdout, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .context("cannot write the JSON report")?;
    }
    Ok(())
}

pub fn up_to_date(options: &UpdateOptions, record: &ChildRecord, printer: &Printer) -> ExitStatus {
    let version = record.template.version.as_str();
    // stdout may be closed; the summary on stderr still says it.
    let _ = print_json(options, "up-to-date", version, version, &[]);
    // No verb: "done already up to date" read as two answers at once.
    printer.info(format!(
        "already up to date with {} {version}",
        record.template.name
    ));
    ExitStatus::Success
}

pub fn behind(
    options: &UpdateOptions,
    record: &ChildRecord,
    to: &str,
    new_questions: &[String],
    printer: &Printer,
) -> ExitStatus {
    let from = record.template.version.as_str();
    let report = JsonReport {
        status: "behind",
        from,
        to,
        files: &[],
        new_questions,
        reason: None,
    };
    let _ = write_json(options, report);
    printer.info(format!(
        "behind: {} (run `osorganic update`)",
        describe_move(&record.template.name, from, to)
    ));
    for question in new_questions {
        printer.info(format!(
            "new question `{question}`: answer it with `--define {question}=VALUE`, or take its default with `--yes`"
        ));
    }
    ExitStatus::UserActionNeeded
}

/// With `--json`, an error is an object on stdout too: `status: refused` for an error the user acts on in the child
/// (a dirty tree, a lock, another template; the message in `reason`), `status: error` for anything else (the causes in
/// `reason`). The message itself goes to stderr as for every command.
pub fn error_json(options: &UpdateOptions, error: &anyhow::Error) {
    let refusal = error
        .downcast_ref::<UserError>()
        .filter(|user_error| user_error.kind() == UserErrorKind::MustAct);
    let (status, reason) = match refusal {
        Some(user_error) => ("refused", user_error.message().to_owned()),
        None => (
            "error",
            error
                .chain()
                .map(crate::printer::cause_text)
                .collect::<Vec<_>>()
                .join(": "),
        ),
    };
    let report = JsonReport {
        status,
        from: "",
        to: "",
        files: &[],
        new_questions: &[],
        reason: Some(reason),
    };
    let _ = write_json(options, report);
}

/// `--dry-run`: what would happen to each file.
pub fn plan(
    options: &UpdateOptions,
    (from, to): (&str, &str),
    outcome: &MergeOutcome,
    printer: &Printer,
) -> Result<()> {
    print_json(options, "planned", from, to, &outcome.files)?;
    for file in &outcome.files {
        print_file(file, printer);
    }
    printer.info(format!("dry run: {}; nothing written", totals(outcome)));
    Ok(())
}

pub fn finished(
    options: &UpdateOptions,
    template_name: &str,
    (from, to): (&str, &str),
    outcome: &MergeOutcome,
    printer: &Printer,
) -> Result<()> {
    let status = if outcome.is_clean() {
        "updated"
    } else {
        "conflicts"
    };
    print_json(options, status, from, to, &outcome.files)?;
    for file in &outcome.files {
        print_file(file, printer);
    }
    let summary = format!(
        "{}: {}",
        describe_move(template_name, from, to),
        totals(outcome)
    );
    if outcome.is_clean() {
        printer.status("updated", format!("{summary}; committed as a merge"));
    } else {
        printer.warn(format!("{summary}; resolve the conflicts"));
        printer.hint("edit the files, `git add` them and `git commit`; or undo with `osorganic update --abort`");
    }
    Ok(())
}

fn print_file(file: &FileReport, printer: &Printer) {
    let verb = match file.change {
        FileChange::Added => "added",
        FileChange::Updated => "updated",
        FileChange::Merged => "merged",
        FileChange::Removed => "removed",
        FileChange::Conflict => "conflict",
    };
    match (&file.conflict, &file.template_copy) {
        (Some(kind), _) if file.child_copy.is_some() => printer.warn(format!(
            "conflict ({kind}) {}: the child's version is in `{}`",
            file.path,
            file.child_copy.as_deref().unwrap_or_default()
        )),
        (Some(kind), Some(copy)) => printer.warn(format!(
            "conflict ({kind}) {}: the template's version is in `{copy}`",
            file.path
        )),
        (Some(kind), None) => printer.warn(format!("conflict ({kind}) {}", file.path)),
        _ => printer.status(verb, &file.path),
    }
}

fn totals(outcome: &MergeOutcome) -> String {
    let parts: Vec<String> = [
        (FileChange::Added, "added"),
        (FileChange::Updated, "updated"),
        (FileChange::Merged, "merged"),
        (FileChange::Removed, "removed"),
        (FileChange::Conflict, "in conflict"),
    ]
    .into_iter()
    .map(|(change, name)| format!("{} {name}", outcome.count(change)))
    .collect();
    parts.join(", ")
}

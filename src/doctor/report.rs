//! Printing a [`Report`]: grouped human lines with coloured marks, or one JSON object.

use std::io::{self, Write};

use console::style;

use super::check::{Check, Group, Report, Status};

/// Writes the report for people: one line a check under its group, a fix under each problem, a summary.
pub fn write_human(report: &Report, colour: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut first = true;
    for group in Group::ALL {
        let mut checks = report
            .checks
            .iter()
            .filter(|check| check.group == group)
            .peekable();
        if checks.peek().is_none() {
            continue;
        }
        if !first {
            writeln!(out)?;
        }
        first = false;
        writeln!(out, "{}", style(group.title()).bold().force_styling(colour))?;
        for check in checks {
            write_check(check, colour, out)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", summary_line(report, colour))
}

fn write_check(check: &Check, colour: bool, out: &mut dyn Write) -> io::Result<()> {
    let mark = match check.status {
        Status::Ok => style("ok").green(),
        Status::Warn => style("warn").yellow(),
        Status::Error => style("error").red().bold(),
    }
    .force_styling(colour);
    let place = match (&check.file, check.line) {
        (Some(file), Some(line)) => format!(" ({file}:{line})"),
        (Some(file), None) => format!(" ({file})"),
        _ => String::new(),
    };
    // Pad before styling so escape codes do not upset the alignment.
    let padding = " ".repeat(5 - mark_width(check.status));
    writeln!(
        out,
        "  {mark}{padding} {}{}",
        check.message,
        style(place).dim().force_styling(colour)
    )?;
    if let Some(fix) = &check.fix {
        if check.status != Status::Ok {
            writeln!(
                out,
                "        {} {fix}",
                style("fix:").cyan().force_styling(colour)
            )?;
        }
    }
    Ok(())
}

fn mark_width(status: Status) -> usize {
    match status {
        Status::Ok => 2,
        Status::Warn => 4,
        Status::Error => 5,
    }
}

fn summary_line(report: &Report, colour: bool) -> String {
    let summary = report.summary;
    let plural = |count: usize, word: &str| {
        if count == 1 {
            format!("{count} {word}")
        } else {
            format!("{count} {word}s")
        }
    };
    let counts = format!(
        "{}, {}, {} passed",
        plural(summary.error, "error"),
        plural(summary.warn, "warning"),
        summary.ok
    );
    if summary.error > 0 {
        format!(
            "{} {counts}",
            style("doctor found problems:")
                .red()
                .bold()
                .force_styling(colour)
        )
    } else if summary.warn > 0 {
        format!(
            "{} {counts}",
            style("ready to deploy, with warnings:")
                .yellow()
                .bold()
                .force_styling(colour)
        )
    } else {
        format!(
            "{} {counts}",
            style("ready to deploy:")
                .green()
                .bold()
                .force_styling(colour)
        )
    }
}

/// Writes the report as one JSON object: `{"checks": [...], "summary": {...}}`.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report::new(vec![
            Check::error(
                "vercel.json",
                Group::Vercel,
                "`vercel.json` is not valid JSON",
            )
            .file("vercel.json")
            .line(Some(3))
            .fix("fix the syntax error"),
            Check::ok(
                "project.record",
                Group::Project,
                "`.osorganic.toml` is valid",
            ),
        ])
    }

    #[test]
    fn human_report_groups_checks_and_prints_fixes_without_colour() {
        let mut out = Vec::new();
        write_human(&sample(), false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "Project\n  ok    `.osorganic.toml` is valid\n\nVercel\n  error `vercel.json` is not valid JSON (vercel.json:3)\n        fix: fix the syntax error\n\ndoctor found problems: 1 error, 0 warnings, 1 passed\n"
        );
    }

    #[test]
    fn json_report_has_checks_and_summary() {
        let mut out = Vec::new();
        write_json(&sample(), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["checks"][1]["status"], "error");
        assert_eq!(value["checks"][1]["file"], "vercel.json");
        assert_eq!(value["checks"][1]["line"], 3);
        assert_eq!(value["checks"][0].get("file"), None);
        assert_eq!(value["summary"]["error"], 1);
    }
}

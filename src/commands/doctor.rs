//! `osorganic doctor`: check a child before it deploys. Resolves the flags once, runs the checks,
//! prints the report (people or JSON) and turns it into the exit status.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::exit_status::ExitStatus;
use crate::cli::DoctorArgs;
use crate::doctor::settings::parse_env_file;
use crate::doctor::{self, ChildError, DoctorOptions, report};

use crate::user_error::UserError;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Human { colour: bool },
    Json,
}

pub fn doctor(args: DoctorArgs) -> Result<ExitStatus> {
    let format = if args.json {
        ReportFormat::Json
    } else {
        ReportFormat::Human {
            colour: console::colors_enabled(),
        }
    };
    let options = resolve(args)?;
    let mut stdout = std::io::stdout().lock();
    run(&options, format, &mut stdout)
}

/// Runs the checks and writes the report to `out`. Exit: 0 no errors, 1 errors, 2 not a child.
pub fn run(
    options: &DoctorOptions,
    format: ReportFormat,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let report = doctor::run_checks(options).map_err(not_checkable)?;
    match format {
        ReportFormat::Human { colour } => report::write_human(&report, colour, out),
        ReportFormat::Json => report::write_json(&report, out),
    }
    .context("cannot write the report")?;
    Ok(if report.has_errors() {
        ExitStatus::UserActionNeeded
    } else {
        ExitStatus::Success
    })
}

/// A folder doctor cannot check, and what to do about it.
fn not_checkable(error: ChildError) -> UserError {
    let hint = match &error {
        ChildError::NotAChild(_) => {
            "run `osorganic doctor` inside a child, or name one with `--path DIR`"
        }
        ChildError::UnreadableRecord { .. } => {
            "make it readable again; `git log -p -- .osorganic.toml` shows what osorganic wrote"
        }
    };
    UserError::usage(error.to_string()).with_hint(hint)
}

/// Turns the flags into options: an absolute child path, the environment the deploy would see.
fn resolve(args: DoctorArgs) -> Result<DoctorOptions> {
    let current = std::env::current_dir().context("cannot read the current folder")?;
    let child_root = absolute(&current, &args.path);
    let environment: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let env_file = match &args.env_file {
        Some(env_file) => {
            let path = absolute(&current, env_file);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!("cannot read the environment file `{}`", path.display())
            })?;
            Some((env_file.display().to_string(), parse_env_file(&text)))
        }
        None => None,
    };
    let tool_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    Ok(DoctorOptions {
        child_root,
        offline: args.offline,
        environment,
        env_file,
        tool_path,
    })
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

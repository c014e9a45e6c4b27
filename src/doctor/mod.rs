//! `osorganic doctor` as values: each group of checks reads a [`Child`] and returns [`Check`]s; a
//! [`Report`] collects them (both in `check`). Printing lives in `report`, the command in `commands::doctor`.

use std::collections::BTreeMap;
use std::path::PathBuf;

mod check;
mod child;
mod drift;
mod github;
mod local_python;
mod project;
mod python;
pub mod report;
mod runtime;
pub mod settings;
mod sql;
mod supabase;
mod template;
mod tools;
mod vercel;

pub use check::{Check, Group, Report, Status, Summary};
pub use child::{Child, ChildError, FileText};

/// Everything doctor needs from outside the child, resolved once by the command.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The child's root folder (absolute).
    pub child_root: PathBuf,
    /// Do not contact a template remote.
    pub offline: bool,
    /// The process environment (the child's `.env` is read under it, `--env-file` over it).
    pub environment: BTreeMap<String, String>,
    /// `--env-file`: the path as given, and its variables.
    pub env_file: Option<(String, BTreeMap<String, String>)>,
    /// Folders searched for tools, in order (the `PATH`).
    pub tool_path: Vec<PathBuf>,
}

/// Runs every check on the child. Fails only when the folder is not a child or its record cannot be read.
pub fn run_checks(options: &DoctorOptions) -> Result<Report, ChildError> {
    let child = Child::open(&options.child_root)?;
    std::thread::scope(|scope| {
        // Starting `python3 --version` can take longer than every other check (a pyenv shim is a
        // shell script): run the tools while the child is read.
        let tools = scope.spawn(|| tools::checks(&options.tool_path));
        let (settings, dot_env) =
            settings::resolve(&child, &options.environment, options.env_file.as_ref());
        let environment = settings.values();
        let mut checks = Vec::new();
        checks.extend(project::checks(&child));
        checks.extend(template::checks(&child, options.offline));
        checks.extend(vercel::checks(&child));
        checks.extend(supabase::checks(&child, &environment));
        checks.extend(github::checks(&child));
        checks.push(dot_env);
        checks.extend(runtime::checks(&child, &settings));
        match tools.join() {
            Ok(tools) => {
                checks.extend(local_python::check(
                    &child,
                    tools.python3_version.as_deref(),
                ));
                checks.extend(tools.checks);
            }
            Err(_) => checks.push(Check::warn(
                "tools",
                Group::Tools,
                "the tools could not be checked",
            )),
        }
        Ok(Report::new(checks))
    })
}

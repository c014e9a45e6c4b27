//! Tools checks: git and python3 must be installed (python3's version is reported); the vercel and
//! supabase CLIs are recommended. Found on the given search path, never through a shell.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::check::{Check, Group, Status};

const GROUP: Group = Group::Tools;

/// A tool doctor looks for, and what its absence costs.
struct Tool {
    name: &'static str,
    required: bool,
    /// Run `--version` and report it (only for fast, native tools).
    report_version: bool,
    install: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "git",
        required: true,
        report_version: true,
        install: "install git from your package manager",
    },
    Tool {
        name: "python3",
        required: true,
        report_version: true,
        install: "install Python 3.12 or newer (https://www.python.org/downloads/)",
    },
    Tool {
        name: "vercel",
        required: false,
        report_version: false,
        install: "`npm install --global vercel`",
    },
    Tool {
        name: "supabase",
        required: false,
        report_version: false,
        install: "`brew install supabase/tap/supabase`, or run it as `npx supabase` (a global npm install is not supported)",
    },
];

/// The Tools checks, and what `python3 --version` printed (for the Runtime group).
pub struct Tools {
    pub checks: Vec<Check>,
    pub python3_version: Option<String>,
}

pub fn checks(search_path: &[PathBuf]) -> Tools {
    let checks: Vec<Check> = TOOLS.iter().map(|tool| check(tool, search_path)).collect();
    let python3_version = checks
        .iter()
        .find(|check| check.id == "tools.python3" && check.status == Status::Ok)
        .map(|check| check.message.clone());
    Tools {
        checks,
        python3_version,
    }
}

fn check(tool: &Tool, search_path: &[PathBuf]) -> Check {
    let id = match tool.name {
        "git" => "tools.git",
        "python3" => "tools.python3",
        "vercel" => "tools.vercel",
        _ => "tools.supabase",
    };
    let Some(path) = find(tool.name, search_path) else {
        let message = format!("`{}` is not installed", tool.name);
        let check = if tool.required {
            Check::error(id, GROUP, message)
        } else {
            Check::warn(id, GROUP, message)
        };
        return check.fix(tool.install);
    };
    if !tool.report_version {
        return Check::ok(id, GROUP, format!("`{}` found", tool.name));
    }
    match version(&path) {
        Some(version) => Check::ok(id, GROUP, version),
        None => Check::error(
            id,
            GROUP,
            format!(
                "`{}` is installed but `{} --version` fails",
                tool.name, tool.name
            ),
        )
        .fix(tool.install),
    }
}

/// The first executable file called `name` in the search path.
fn find(name: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    search_path
        .iter()
        .map(|folder| folder.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// The first line `--version` prints (Python 2 printed it to stderr).
fn version(path: &Path) -> Option<String> {
    let output = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|line| line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_are_errors_or_warnings() {
        let tools = checks(&[]);
        assert_eq!(tools.python3_version, None);
        let statuses: Vec<_> = tools
            .checks
            .iter()
            .map(|check| (check.id, check.status))
            .collect();
        use crate::doctor::check::Status::{Error, Warn};
        assert_eq!(
            statuses,
            vec![
                ("tools.git", Error),
                ("tools.python3", Error),
                ("tools.vercel", Warn),
                ("tools.supabase", Warn)
            ]
        );
    }
}

//! How a command ended, and the one place its process exit code is decided.

use std::process::ExitCode;

/// How a command ended; the process exit code is decided here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    Success,
    /// 1: the user must act (conflicts to resolve, doctor errors, a dirty tree, a child behind its template).
    UserActionNeeded,
    /// 2: a usage error or an unexpected failure.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::UserActionNeeded => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

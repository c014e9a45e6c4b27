//! How a command ended, and the one place its process exit code is decided.

use std::process::ExitCode;

use crate::user_error::{UserError, UserErrorKind};

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

impl ExitStatus {
    /// The status an error ends the command with: a user error says whose move it is; anything else is 2.
    pub fn of_error(error: &anyhow::Error) -> Self {
        match error.downcast_ref::<UserError>().map(UserError::kind) {
            Some(UserErrorKind::MustAct) => Self::UserActionNeeded,
            Some(UserErrorKind::Usage) | None => Self::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;
    use crate::user_error::UserError;

    #[test]
    fn an_error_exits_by_whose_move_it_is() {
        let must_act = anyhow::Error::new(UserError::must_act("resolve it")).context("updating");
        assert_eq!(
            ExitStatus::of_error(&must_act),
            ExitStatus::UserActionNeeded
        );
        let usage = anyhow::Error::new(UserError::usage("no such flag value"));
        assert_eq!(ExitStatus::of_error(&usage), ExitStatus::Error);
        assert_eq!(
            ExitStatus::of_error(&anyhow::anyhow!("disk on fire")),
            ExitStatus::Error
        );
    }
}

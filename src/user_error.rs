//! The error a person can act on: what is wrong, what to do about it, and whether it is theirs to fix (exit 1) or a
//! command line to correct (exit 2). Commands return it through `anyhow` like any error; `main` prints every error
//! the same way (`Printer::error_chain`) and takes the exit status from it (`ExitStatus::of_error`).

use std::fmt;

/// Whose move it is after the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorKind {
    /// The user must act on the child (resolve, commit, wait): exit 1.
    MustAct,
    /// The command line asks for something that cannot be done as given: exit 2.
    Usage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    message: String,
    hint: Option<String>,
    kind: UserErrorKind,
}

impl UserError {
    /// An error the user resolves in the child, then runs the command again (exit 1).
    pub fn must_act(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            kind: UserErrorKind::MustAct,
        }
    }

    /// A command line that cannot be carried out as given (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            kind: UserErrorKind::Usage,
        }
    }

    /// What to do about it, printed as `hint:` after the error.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    pub fn kind(&self) -> UserErrorKind {
        self.kind
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

#[cfg(test)]
mod tests {
    use super::{UserError, UserErrorKind};

    #[test]
    fn a_user_error_reads_as_its_message_and_keeps_its_hint_apart() {
        let error = UserError::must_act("the child has uncommitted changes: a.txt")
            .with_hint("commit them or `git stash` them, then run the update again");
        assert_eq!(
            error.to_string(),
            "the child has uncommitted changes: a.txt"
        );
        assert_eq!(
            error.hint(),
            Some("commit them or `git stash` them, then run the update again")
        );
        assert_eq!(error.kind(), UserErrorKind::MustAct);
        let wrapped = anyhow::Error::new(error.clone()).context("while updating");
        assert_eq!(wrapped.downcast_ref::<UserError>(), Some(&error));
        assert_eq!(UserError::usage("x").kind(), UserErrorKind::Usage);
    }
}

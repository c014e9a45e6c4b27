//! Why an update stops before it writes anything, for the user to act on (exit 1): another template, a secret answer
//! missing, an untracked file in the way, the child locked by another update or by git.

use std::path::PathBuf;

use super::answers::secret_variable;
use super::state::Locked;
use crate::user_error::UserError;

/// Why an update stops before anything is written, for the user to act on (exit 1).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    OtherTemplate { recorded: String, found: String },
    SecretsMissing(Vec<String>),
    UntrackedInTheWay(Vec<String>),
    UpdateRunning(PathBuf),
    IndexLocked(PathBuf),
}

impl Refusal {
    /// What stopped the update.
    pub fn message(&self) -> String {
        match self {
            Self::OtherTemplate { recorded, found } => format!(
                "the source holds the template `{found}`, not `{recorded}`, the one this child was made from"
            ),
            Self::SecretsMissing(names) => format!(
                "secret answers are never recorded: {} no answer here, and `--yes` would replace it with a default",
                names
                    .iter()
                    .map(|name| format!("`{name}` has"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::UntrackedInTheWay(paths) => format!(
                "untracked files are where the update writes: {}",
                paths.join(", ")
            ),
            Self::UpdateRunning(path) => format!(
                "another update is writing into this child (`{}` exists)",
                path.display()
            ),
            Self::IndexLocked(path) => format!(
                "a git process holds the child's index (`{}` exists)",
                path.display()
            ),
        }
    }

    /// What the user does about it.
    pub fn hint(&self) -> String {
        match self {
            Self::OtherTemplate { found, .. } => format!(
                "check `--from`; to move the child to `{found}` on purpose, add `--switch-template`"
            ),
            Self::SecretsMissing(names) => format!(
                "give {} (or run the update on a terminal without `--yes` to be asked)",
                names
                    .iter()
                    .map(|name| format!("`--define {name}=VALUE` or `{}`", secret_variable(name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::UntrackedInTheWay(_) => {
                "move them away or commit them, then run the update again".to_owned()
            }
            Self::UpdateRunning(_) => {
                "wait for it to finish; if no update is running, remove that file".to_owned()
            }
            Self::IndexLocked(_) => {
                "wait for it to finish; if no git command is running, remove that file".to_owned()
            }
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.message())
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for UserError {
    fn from(refusal: Refusal) -> Self {
        UserError::must_act(refusal.message()).with_hint(refusal.hint())
    }
}

impl From<Locked> for Refusal {
    fn from(locked: Locked) -> Self {
        match locked {
            Locked::Update(path) => Self::UpdateRunning(path),
            Locked::Index(path) => Self::IndexLocked(path),
        }
    }
}

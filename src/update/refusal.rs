//! Why an update stops before it writes anything, for the user to act on (exit 1): another template, a secret answer
//! missing, an untracked file in the way, the child locked by another update or by git.

use std::path::PathBuf;

use super::answers::secret_variable;
use super::state::Locked;

/// Why an update stops before anything is written, for the user to act on (exit 1).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error(
        "the source holds the template `{found}`, not `{recorded}`, the one this child was made from\n\
         hint: check `--from`; to move the child to `{found}` on purpose, add `--switch-template`"
    )]
    OtherTemplate { recorded: String, found: String },
    #[error(
        "secret answers are never recorded: {} no answer here, and `--yes` would replace it with a default\n\
         hint: give {} (or run the update on a terminal without `--yes` to be asked)",
        .0.iter().map(|name| format!("`{name}` has")).collect::<Vec<_>>().join(", "),
        .0.iter().map(|name| format!("`--define {name}=VALUE` or `{}`", secret_variable(name))).collect::<Vec<_>>().join(", ")
    )]
    SecretsMissing(Vec<String>),
    #[error(
        "untracked files are where the update writes: {}\nhint: move them away or commit them, then run the update again",
        .0.join(", ")
    )]
    UntrackedInTheWay(Vec<String>),
    #[error(
        "another update is writing into this child (`{}` exists)\nhint: wait for it to finish; if no update is \
         running, remove that file",
        .0.display()
    )]
    UpdateRunning(PathBuf),
    #[error(
        "a git process holds the child's index (`{}` exists)\nhint: wait for it to finish; if no git command is \
         running, remove that file",
        .0.display()
    )]
    IndexLocked(PathBuf),
}

impl From<Locked> for Refusal {
    fn from(locked: Locked) -> Self {
        match locked {
            Locked::Update(path) => Self::UpdateRunning(path),
            Locked::Index(path) => Self::IndexLocked(path),
        }
    }
}

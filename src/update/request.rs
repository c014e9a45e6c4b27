//! What an update is asked to do, resolved once from the command line (or set by doctor) before any I/O.

use std::path::PathBuf;

/// What an update is asked to do, resolved from the command line before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The child's folder, absolute.
    pub child: PathBuf,
    /// `template` (the child's git remote), `embedded`, a folder, or a git path or URL; the recorded source when
    /// `None`.
    pub from: Option<String>,
    /// A tag, branch or commit of a git source.
    pub to: Option<String>,
    /// `KEY=VALUE` answers, new or changed.
    pub defines: Vec<String>,
    /// New questions take their defaults instead of being asked (secret ones never do for a write).
    pub yes: bool,
    /// A template with another name than the recorded one may be taken.
    pub switch_template: bool,
}

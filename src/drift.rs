//! How far a child is behind its template, answered once for `osorganic update --check` and for
//! `osorganic doctor`, so the two can never disagree.
//!
//! The answer is `update --check`'s: the version the source offers now, rendered with the child's
//! answers, against the base the child last took (see `commands::update`). [`drift`] adds what a
//! report needs around it: `--offline` skips a remote, and a failure becomes a reason, not an error.

use std::path::{Path, PathBuf};

use crate::record::ChildRecord;
use crate::template::source::SourceError;

/// What `update --check` finds: the child matches the render of its source, or it is behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    UpToDate { version: String },
    Behind { from: String, to: String },
}

/// How a move between template versions reads: `child-template 0.1.0 -> 0.2.0`, or, when the template changed
/// without a new version number, `child-template 0.1.0 (changed since the child took it)`.
pub fn describe_move(template_name: &str, from: &str, to: &str) -> String {
    if from == to {
        format!("{template_name} {from} (changed since the child took it)")
    } else {
        format!("{template_name} {from} -> {to}")
    }
}

/// A child's drift as a report states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    Known(Standing),
    /// Not looked at: the source is a remote and fetching was not allowed.
    Skipped {
        reason: String,
    },
    /// The template cannot be loaded from its source.
    SourceMissing {
        reason: String,
    },
    /// The source was found, but the comparison failed (no git, no base, an answer missing...).
    CannotTell {
        reason: String,
    },
}

/// Which child, from which source (the recorded one when `None`), and whether a remote may be fetched.
#[derive(Debug, Clone)]
pub struct DriftOptions {
    pub child_root: PathBuf,
    pub source: Option<String>,
    pub offline: bool,
}

/// The child's drift, exactly as `update --check` judges it (new questions take their defaults, as
/// with `--yes`). Nothing is written to the child: the renders it compares stay in memory.
pub fn drift(options: &DriftOptions) -> Drift {
    if options.offline {
        if let Some(remote) = remote_source(options) {
            return Drift::Skipped {
                reason: format!("`{remote}` is a remote; skipped with --offline"),
            };
        }
    }
    match crate::commands::update::standing(&options.child_root, options.source.as_deref()) {
        Ok(standing) => Drift::Known(standing),
        Err(error) => {
            let reason = error_chain(&error);
            if error.downcast_ref::<SourceError>().is_some() {
                Drift::SourceMissing { reason }
            } else {
                Drift::CannotTell { reason }
            }
        }
    }
}

/// The source that would be fetched over the network, if any: a git source that is not a folder here.
fn remote_source(options: &DriftOptions) -> Option<String> {
    let source = match options.source.as_deref() {
        Some("template") => return Some("template".to_string()),
        Some(text) => text.to_string(),
        None => {
            let record = ChildRecord::read(&options.child_root).ok()?;
            if record.template.kind != "git" {
                return None;
            }
            record.template.source
        }
    };
    let local = Path::new(&source).is_absolute() && Path::new(&source).exists();
    let is_remote = source.contains("://") || source.starts_with("git@");
    (is_remote && !source.starts_with("file://") && !local).then_some(source)
}

fn error_chain(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(crate::printer::cause_text)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_names_both_versions_or_says_the_same_version_changed() {
        assert_eq!(describe_move("t", "1.0.0", "2.0.0"), "t 1.0.0 -> 2.0.0");
        assert_eq!(
            describe_move("t", "1.0.0", "1.0.0"),
            "t 1.0.0 (changed since the child took it)"
        );
    }

    fn options(source: &str) -> DriftOptions {
        DriftOptions {
            child_root: PathBuf::from("/nowhere"),
            source: Some(source.to_string()),
            offline: true,
        }
    }

    #[test]
    fn offline_skips_only_remotes() {
        assert!(remote_source(&options("https://example.com/template.git")).is_some());
        assert!(remote_source(&options("git@example.com:acme/template.git")).is_some());
        assert!(remote_source(&options("template")).is_some());
        assert!(remote_source(&options("embedded")).is_none());
        assert!(remote_source(&options("/some/folder")).is_none());
        assert!(remote_source(&options("file:///some/repo")).is_none());
    }
}

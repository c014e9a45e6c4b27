//! How far a child is behind its template, as doctor reports it. The answer is `update --check`'s own
//! ([`crate::update::standing`]), so the two can never disagree; [`drift`] adds what a report needs around
//! it: `--offline` skips a remote, and a failure becomes a reason, not an error.

use std::path::PathBuf;

use crate::record::{self, ChildRecord};
use crate::template::source::SourceError;
use crate::update::{self, Standing};

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
    match update::standing(&options.child_root, options.source.as_deref()) {
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
    match options.source.as_deref() {
        Some(crate::git::TEMPLATE_REMOTE) => Some(crate::git::TEMPLATE_REMOTE.to_string()),
        Some(text) => record::is_remote_url(text).then(|| text.to_string()),
        None => {
            let record = ChildRecord::read(&options.child_root).ok()?;
            record
                .template
                .is_remote()
                .then_some(record.template.source)
        }
    }
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

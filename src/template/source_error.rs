//! Why a template source cannot be loaded: not found, no manifest, an include that escapes, a git or disk error.

use thiserror::Error;

use super::manifest::ManifestError;

#[derive(Debug, Error)]
pub enum SourceError {
    #[error("template source `{0}` does not exist")]
    NotFound(String),
    #[error("`--ref {0}` applies to git sources only, not to the embedded template")]
    RefWithoutGit(String),
    #[error("no `template.toml` in `{source_name}` (looked in: {looked_in})")]
    NoManifest {
        source_name: String,
        looked_in: String,
    },
    #[error("`{path}` cannot be used")]
    Manifest {
        path: String,
        #[source]
        error: ManifestError,
    },
    #[error(
        "`{path}` is a symlink to `{target}`, outside the template: a link must point inside the template's source tree"
    )]
    LinkEscapes { path: String, target: String },
    #[error("include `{from}` leaves the template's source tree")]
    IncludeEscapes { from: String },
    #[error(
        "include `{from}` names `{resolved}`, which is not a folder of the template's source tree"
    )]
    IncludeMissing { from: String, resolved: String },
    #[error(
        "include destination `to = {to:?}` must be a relative folder of the child without `..`"
    )]
    BadIncludeDestination { to: String },
    #[error("{what}")]
    Git {
        what: String,
        #[source]
        error: git2::Error,
    },
    #[error("could not read `{path}`")]
    Io {
        path: String,
        #[source]
        error: std::io::Error,
    },
}

//! `osorganic update`'s flags resolved once, before any I/O: the mode, the output, and the library's request.

use anyhow::{Context, Result};

use crate::cli::UpdateArgs;
use crate::update::UpdateRequest;

/// What the command was asked to do, resolved from the flags before any I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Merge,
    Check,
    DryRun,
    Abort,
}

/// `UpdateArgs` resolved once: what to do, how to print it, and the request for the library.
pub(super) struct UpdateOptions {
    pub(super) mode: Mode,
    pub(super) json: bool,
    pub(super) request: UpdateRequest,
}

impl UpdateOptions {
    pub(super) fn resolve(args: UpdateArgs) -> Result<Self> {
        let child = std::path::absolute(&args.path)
            .with_context(|| format!("cannot resolve the child path `{}`", args.path.display()))?;
        let mode = match (args.abort, args.check, args.dry_run) {
            (true, _, _) => Mode::Abort,
            (_, true, _) => Mode::Check,
            (_, _, true) => Mode::DryRun,
            _ => Mode::Merge,
        };
        Ok(Self {
            mode,
            json: args.json,
            request: UpdateRequest {
                child,
                from: args.from,
                to: args.to,
                defines: args.answers.defines,
                yes: args.answers.yes,
                switch_template: args.switch_template,
            },
        })
    }
}

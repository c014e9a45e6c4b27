//! `osorganic completions <shell>`: shell completion scripts generated from the clap definition.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use super::exit_status::ExitStatus;
use crate::cli::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<ExitStatus> {
    let mut command = Cli::command();
    // clap_complete panics when its writer fails; render in memory and report a write error like any other.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "osorganic", &mut script);
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("cannot write the completion script")?;
    Ok(ExitStatus::Success)
}

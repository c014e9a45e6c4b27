//! `osorganic completions <shell>`: shell completion scripts generated from the clap definition.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::ExitStatus;
use crate::cli::Cli;

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<ExitStatus> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "osorganic", out);
    Ok(ExitStatus::Success)
}

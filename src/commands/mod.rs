//! One module per subcommand, and the exit status every command shares.

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};
use crate::printer::Printer;

pub mod completions;
pub mod doctor;
pub mod exit_status;
pub mod spawn;
pub mod update;

pub use exit_status::ExitStatus;

/// The command line: clap's, with `spawn --help` listing the embedded template's questions.
pub fn command_line() -> clap::Command {
    let command = Cli::command();
    match crate::template::source::embedded_manifest() {
        Ok(manifest) => command.mut_subcommand("spawn", |spawn| {
            let examples = spawn
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            spawn.after_long_help(format!(
                "{examples}\n\n{}",
                crate::template::help::questions_help(&manifest)
            ))
        }),
        Err(_) => command,
    }
}

/// Parses the process's arguments with `command_line`; on a usage error or `--help`, clap prints and exits.
pub fn parse(args: Vec<std::ffi::OsString>) -> Cli {
    let matches = command_line().get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// Runs the parsed command line.
pub fn run(cli: Cli, printer: &Printer) -> Result<ExitStatus> {
    match cli.command {
        Command::Spawn(args) => spawn::spawn(args, printer),
        Command::Update(args) => update::update(args, printer),
        Command::Doctor(args) => doctor::doctor(args),
        Command::Completions { shell } => completions::completions(shell, &mut std::io::stdout()),
    }
}

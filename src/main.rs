//! The `osorganic` binary: parse the command line, run the command, turn its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use osorganic::cli::Cli;
use osorganic::commands::{self, ExitStatus};
use osorganic::printer::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::stderr();
    match commands::run(cli, &printer) {
        Ok(status) => status.into(),
        Err(error) => {
            printer.error_chain(&error);
            ExitStatus::Error.into()
        }
    }
}

//! The `osorganic` binary: parse the command line, run the command, turn its outcome into an exit code.

use std::process::ExitCode;

use osorganic::commands::{self, ExitStatus};
use osorganic::printer::Printer;

fn main() -> ExitCode {
    osorganic::printer::honour_no_color();
    let cli = commands::parse(osorganic::cli::arguments(std::env::args_os()));
    let printer = Printer::stderr();
    match commands::run(cli, &printer) {
        Ok(status) => status.into(),
        // The reader went away (`osorganic doctor --json | head`): nothing is left to tell.
        Err(error) if is_broken_pipe(&error) => ExitStatus::Success.into(),
        Err(error) => {
            printer.error_chain(&error);
            ExitStatus::of_error(&error).into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

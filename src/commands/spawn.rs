//! `osorganic spawn`: create a child repository from a template.

use anyhow::Result;

use super::ExitStatus;
use crate::cli::SpawnArgs;
use crate::printer::Printer;

pub fn spawn(_args: SpawnArgs, printer: &Printer) -> Result<ExitStatus> {
    printer.error("`osorganic spawn` is not built yet");
    Ok(ExitStatus::Error)
}

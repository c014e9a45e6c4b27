//! `osorganic update`: bring a child to a newer template version.

use anyhow::Result;

use super::ExitStatus;
use crate::cli::UpdateArgs;
use crate::printer::Printer;

pub fn update(_args: UpdateArgs, printer: &Printer) -> Result<ExitStatus> {
    printer.error("`osorganic update` is not built yet");
    Ok(ExitStatus::Error)
}

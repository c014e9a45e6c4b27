//! `osorganic doctor`: check a child before it deploys.

use anyhow::Result;

use super::ExitStatus;
use crate::cli::DoctorArgs;
use crate::printer::Printer;

pub fn doctor(_args: DoctorArgs, printer: &Printer) -> Result<ExitStatus> {
    printer.error("`osorganic doctor` is not built yet");
    Ok(ExitStatus::Error)
}

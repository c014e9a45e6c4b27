//! `cargo xtask test`: every test of the project, in the order a failure is cheapest to find.

use std::process::Command;

use anyhow::Result;

use crate::child::{build_osorganic, run_step};
use crate::project_root;
use crate::validate_test_child::{ValidateOptions, validate_test_child};

pub fn test_all() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let osorganic = build_osorganic()?;
    run_step(
        "cargo test --workspace",
        Command::new(&cargo)
            .args(["test", "--workspace"])
            .env("OSORGANIC_BIN", &osorganic)
            .current_dir(project_root()),
    )?;
    // Proves the template on test-child/ and runs the Python tests of test-child and of every preset.
    validate_test_child(&ValidateOptions::parse(&[])?)?;
    eprintln!("all tests passed");
    Ok(())
}

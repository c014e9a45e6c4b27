//! `cargo xtask test`: every test of the project, in the order a failure is cheapest to find. The Rust tests must
//! leave the repository root as they found it (a `./demo` spawned by the README's first command included).

use std::collections::BTreeSet;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::child::{build_osorganic, run_step};
use crate::project_root;
use crate::upgrade_paths::upgrade_paths;
use crate::validate_test_child::{ValidateOptions, validate_test_child};

pub fn test_all() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let osorganic = build_osorganic()?;
    let before = root_status()?;
    run_step(
        "cargo test --workspace",
        Command::new(&cargo)
            .args(["test", "--workspace"])
            .env("OSORGANIC_BIN", &osorganic)
            // A snapshot that differs fails the test; `cargo insta review` is how a person accepts it.
            .env(
                "INSTA_UPDATE",
                std::env::var("INSTA_UPDATE").unwrap_or_else(|_| "no".to_owned()),
            )
            .current_dir(project_root()),
    )?;
    let written = written_by_tests(&before, &root_status()?);
    if !written.is_empty() {
        bail!(
            "the Rust tests wrote into the repository root (tests must use temporary folders):\n  {}",
            written.join("\n  ")
        );
    }
    // Proves the template on test-child/ and runs the Python tests of test-child and of every preset.
    validate_test_child(&ValidateOptions::parse(&[])?)?;
    // Every released template version still upgrades to this one.
    upgrade_paths()?;
    eprintln!("all tests passed");
    Ok(())
}

/// `git status` of the repository root outside `target/`, ignored and untracked files included, one entry a line.
fn root_status() -> Result<BTreeSet<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(project_root())
        .args([
            "status",
            "--porcelain",
            "--ignored",
            "--untracked-files=all",
            "--",
            ".",
            ":(exclude)target",
        ])
        .output()
        .context("could not run `git status` in the repository root")?;
    if !output.status.success() {
        bail!(
            "`git status` failed in the repository root: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

/// The untracked or ignored entries of `after` that `before` did not have: the files the tests created. (Edits to
/// tracked files are left out: someone may be editing the project while the tests run.)
fn written_by_tests(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Vec<String> {
    after
        .difference(before)
        .filter(|line| line.starts_with("??") || line.starts_with("!!"))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_left_by_a_test_is_reported_and_the_users_own_are_not() {
        let before: BTreeSet<String> = ["?? demo/.osorganic.toml".to_string()].into();
        let mut after = before.clone();
        after.insert("?? stray/.osorganic.toml".to_string());
        after.insert(" M src/lib.rs".to_string());
        assert_eq!(
            written_by_tests(&before, &after),
            vec!["?? stray/.osorganic.toml"]
        );
        assert!(written_by_tests(&before, &before).is_empty());
    }

    #[test]
    fn the_root_status_leaves_out_the_build_folder() {
        let status = root_status().unwrap();
        assert!(
            status.iter().all(|line| !line[3..].starts_with("target/")),
            "{status:?}"
        );
    }
}

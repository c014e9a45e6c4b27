//! Project automation, run as `cargo xtask <task>`: small tasks that drive the real `osorganic` binary.

mod child;
mod test_all;
mod tree_copy;
mod upgrade_paths;
mod validate_test_child;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  test                  run every test: the Rust workspace, validate-test-child, then upgrade-paths
  validate-test-child   prove the current template on a scratch copy of test-child/: update it (no
                        conflict), doctor it (no error), spawn every domain preset; then ruff check
                        and ruff format --check on the copy and each preset, the whole pytest suite
                        (PostgreSQL included) on the copy, and on each preset only the tests that
                        depend on it (tests/test_agents.py, tests/test_packaging.py)
      --write           then apply the update to test-child/ itself, for a maintainer to commit
      --template DIR    validate a template folder (a copy of templates/child-template) instead of
                        the one embedded in the freshly built binary
  upgrade-paths         spawn a child at every release in templates/releases.toml, update it to the
                        current template (no conflict), doctor it, and run its ruff and whole pytest suite";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("test") => test_all::test_all(),
        Some("validate-test-child") => {
            let options = validate_test_child::ValidateOptions::parse(&args[1..])?;
            validate_test_child::validate_test_child(&options)
        }
        Some("upgrade-paths") => upgrade_paths::upgrade_paths(),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
        None => bail!("no task given\n\n{USAGE}"),
    }
}

/// The osorganic repository root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the project root")
        .to_path_buf()
}

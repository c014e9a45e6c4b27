//! The CLI as a whole: help with examples, the version, usage errors.

use predicates::prelude::*;

use crate::support::TestEnv;

#[test]
fn help_of_every_command_carries_examples() {
    let env = TestEnv::new();
    for args in [
        &["--help"][..],
        &["spawn", "--help"],
        &["update", "--help"],
        &["doctor", "--help"],
    ] {
        env.osorganic()
            .args(args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"));
    }
}

#[test]
fn version_is_printed() {
    TestEnv::new()
        .osorganic()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_flags_are_usage_errors() {
    TestEnv::new()
        .osorganic()
        .args(["spawn", "demo", "--frobnicate"])
        .assert()
        .code(2);
}

/// Runs osorganic with its stdout already closed by the reader, as `osorganic ... | head -0` would, in a folder of
/// `env` (never the repository root, where a spawned `./demo` would be in the way).
fn run_with_closed_stdout(env: &TestEnv, args: &[&str]) -> std::process::Output {
    use std::process::Stdio;
    let mut child = env
        .command(env!("CARGO_BIN_EXE_osorganic"), &env.work())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    let env = TestEnv::new();
    for args in [
        &["completions", "zsh"][..],
        &["--help"],
        &["spawn", "demo", "--yes", "--dry-run"],
    ] {
        let output = run_with_closed_stdout(&env, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn help_of_help_prints_the_help() {
    // Regression: `osorganic help --help` was refused as an unknown subcommand.
    TestEnv::new()
        .osorganic()
        .args(["help", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
}

/// The help of every command, as a person reads it: a change to a flag, an example or the embedded template's
/// questions shows up here for review.
#[test]
fn help_texts_are_as_reviewed() {
    let env = TestEnv::new();
    for (name, args) in [
        ("osorganic", &["--help"][..]),
        ("spawn", &["spawn", "--help"]),
        ("update", &["update", "--help"]),
        ("doctor", &["doctor", "--help"]),
    ] {
        let output = env
            .osorganic()
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        insta::assert_snapshot!(format!("help_{name}"), text);
    }
}

#[test]
fn spawn_help_lists_every_question_of_the_embedded_template() {
    let manifest_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/child-template/template.toml"
    ))
    .unwrap();
    let keys: Vec<&str> = manifest_text
        .lines()
        .filter_map(|line| line.strip_prefix("[questions.")?.strip_suffix(']'))
        .collect();
    assert!(keys.len() >= 5, "{keys:?}");
    let help = TestEnv::new()
        .osorganic()
        .args(["spawn", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for key in keys {
        assert!(
            help.contains(&format!("\n  {key}\n")),
            "{key} is missing from:\n{help}"
        );
    }
}

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

//! What osorganic reports, as whole outputs under review (insta snapshots): the files a spawn writes, doctor's
//! checks of a fresh child, and an update's plan and result. A change to any of them shows up as a diff to accept
//! with `cargo insta review`.

use serde_json::Value;

use crate::support::{TestEnv, stdout_of};
use crate::update_env::{LINES, UpdateEnv, text};

/// `spawn --dry-run` of the embedded template: every file a child gets, in order.
#[test]
fn the_embedded_template_renders_these_files() {
    let env = TestEnv::new();
    let listed = env.spawn(&["demo", "--yes", "--dry-run"]).success();
    let files = stdout_of(&listed);
    insta::assert_snapshot!("spawn_dry_run_files", files);
    assert!(env.work_entries().is_empty(), "a dry run writes nothing");
}

/// doctor on a freshly spawned child without settings: every check but the local tools (which differ between
/// machines), as `status id: message` lines.
#[test]
fn doctor_reports_these_checks_on_a_fresh_child() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes"]).success();
    let mut command = env.osorganic();
    command.args(["doctor", "--offline", "--json", "--path", "demo"]);
    for (name, _) in std::env::vars() {
        if name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !matches!(name.as_str(), "PATH" | "HOME" | "NO_COLOR")
            && !name.starts_with("GIT_")
            && !name.starts_with("CARGO")
        {
            command.env_remove(name);
        }
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "settings are missing");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let lines: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["group"] != "tools" && check["id"] != "runtime.python")
        .map(|check| {
            format!(
                "{} {}: {}",
                check["status"].as_str().unwrap(),
                check["id"].as_str().unwrap(),
                check["message"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!("doctor_fresh_child", lines.join("\n"));
}

/// An update with one clean change and one conflict: `--dry-run --json`'s plan, then the update's own report.
#[test]
fn an_update_reports_its_plan_and_its_conflicts() {
    let env = UpdateEnv::new();
    env.template(
        "1.0.0",
        "",
        &[
            ("notes.txt", LINES.as_bytes()),
            ("settings.txt", b"alpha\n"),
        ],
    )
    .spawn(&[]);
    env.write(
        "notes.txt",
        LINES.replace("two", "two, as the child has it"),
    )
    .commit("child edit");
    env.template(
        "2.0.0",
        "",
        &[
            (
                "notes.txt",
                LINES
                    .replace("two", "two, as the template has it")
                    .as_bytes(),
            ),
            ("settings.txt", b"alpha\nbeta\n"),
            ("added.txt", b"new\n"),
        ],
    );

    let plan = env.update(&["--dry-run", "--json"]);
    assert_eq!(plan.status.code(), Some(1), "a conflict is ahead");
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    insta::assert_json_snapshot!("update_dry_run_plan", plan);

    let applied = env.update(&[]);
    assert_eq!(applied.status.code(), Some(1));
    insta::assert_snapshot!("update_conflict_report", text(&applied.stderr));
    insta::assert_snapshot!("update_conflict_markers", env.read("notes.txt"));
}

//! Exit codes and `--json` of updates that stop: an untracked file in the way is for the user to move (exit 1),
//! and an error still prints one JSON object on stdout.

use crate::update_env::{UpdateEnv, text};

// An untracked file where the update would write one: exit 1, named, nothing written.
#[test]
fn update_refuses_an_untracked_file_in_the_way_with_exit_1() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    env.template(
        "2.0.0",
        "",
        &[("a.txt", b"b\n"), ("new.txt", b"template\n")],
    );
    env.write("new.txt", "the user's untracked file\n");
    let head = env.head();
    let output = env.update(&["--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("untracked files are where the update writes: new.txt"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: move them away"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "refused");
    assert_eq!(env.read("new.txt"), "the user's untracked file\n");
    assert_eq!(env.read("a.txt"), "a\n");
    assert_eq!(env.head(), head);
}

// `--json` on an error: exit 2, the message on stderr and an object on stdout.
#[test]
fn update_json_error_prints_an_object_on_stdout() {
    let env = UpdateEnv::new();
    std::fs::create_dir_all(env.child_dir()).unwrap();
    let output = env.update(&["--json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not a git repository"));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "error");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("not a git repository"),
        "{report}"
    );
}

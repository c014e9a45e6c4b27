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

/// A child of 1.0.0 whose template moved to 2.0.0, with a user edit that conflicts.
fn conflicting_child() -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n"), ("b.txt", b"b\n")])
        .spawn(&[]);
    env.write("a.txt", "user\n").commit("edit");
    env.template("2.0.0", "", &[("a.txt", b"template\n"), ("b.txt", b"b2\n")]);
    env
}

// A second update while one is writing is refused (exit 1) before it reads or writes anything.
#[test]
fn update_refuses_while_another_update_holds_the_child() {
    let env = conflicting_child();
    let lock = env.child_dir().join(".git/osorganic/update.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let head = env.head();
    let stderr = env.update_expecting(&[], 1);
    assert!(
        stderr.contains("another update is writing into this child"),
        "{stderr}"
    );
    assert!(stderr.contains("update.lock"), "{stderr}");
    assert_eq!(env.head(), head);
    assert_eq!(env.read("b.txt"), "b\n");
    // Reading is not writing: --check still answers.
    env.update_expecting(&["--check"], 1);
    std::fs::remove_file(&lock).unwrap();
    env.update_expecting(&[], 1);
    assert!(!lock.exists(), "the lock is released");
}

// git's index.lock stops the update before any file is written.
#[test]
fn update_with_git_index_lock_writes_nothing() {
    let env = conflicting_child();
    let index_lock = env.child_dir().join(".git/index.lock");
    std::fs::write(&index_lock, "").unwrap();
    let head = env.head();
    let stderr = env.update_expecting(&[], 1);
    assert!(stderr.contains("index.lock"), "{stderr}");
    assert_eq!(env.head(), head);
    assert_eq!(env.read("a.txt"), "user\n");
    assert_eq!(env.read("b.txt"), "b\n");
    assert!(!env.child_dir().join(".git/MERGE_HEAD").exists());
}

// After `git merge --abort` of an update left with conflicts, the update can be run again.
#[test]
fn update_can_be_redone_after_git_merge_abort() {
    let env = conflicting_child();
    env.update_expecting(&[], 1);
    env.git(&["merge", "--abort"]);
    assert_eq!(env.read("a.txt"), "user\n");
    let stderr = env.update_expecting(&[], 1);
    assert!(stderr.contains("conflict (content) a.txt"), "{stderr}");
    assert_eq!(env.read("b.txt"), "b2\n");
    env.update_expecting(&["--abort"], 0);
    assert_eq!(env.read("a.txt"), "user\n");
    assert_eq!(env.status(), "");
}

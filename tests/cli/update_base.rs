//! The base of an update is the render the record describes, never an older one: in a fresh clone (which has no
//! `refs/osorganic/template`) after the template-sync pull request was squash-merged, with a stale template ref, and
//! when the recorded version cannot be had.

use std::path::{Path, PathBuf};

use crate::support::{TestEnv, stderr_of};

const IDENTITY: [&str; 4] = ["-c", "user.name=T", "-c", "user.email=t@example.com"];

fn commit(env: &TestEnv, folder: &Path, message: &str) {
    env.git(folder, &["add", "-A"]);
    env.git(
        folder,
        &[&IDENTITY[..], &["commit", "--quiet", "-m", message]].concat(),
    );
}

/// Writes a template version into the git template repository and commits it.
fn release(env: &TestEnv, repo: &Path, version: &str, files: &[(&str, &str)]) {
    let manifest = format!("[template]\nname = \"t\"\nversion = \"{version}\"\n");
    std::fs::write(repo.join("template.toml"), manifest).unwrap();
    for (path, text) in files {
        std::fs::write(repo.join(path), text).unwrap();
    }
    commit(env, repo, version);
}

/// A child of a git template that took 2.0.0 through a template-sync branch squash-merged into `main`, then
/// cloned: the clone has only the 1.0.0 render in its history and no template ref. Its user then edits files 2.0.0
/// touched.
fn squash_merged_clone(env: &TestEnv) -> (PathBuf, PathBuf) {
    let repo = env.template("repo", &[("template.toml", "")]);
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"]);
    release(
        env,
        &repo,
        "1.0.0",
        &[("a.txt", "one\n"), ("keep.txt", "k\n")],
    );
    let repo_text = repo.to_string_lossy().into_owned();
    env.spawn(&["kid", "--yes", "--template", &repo_text, "--ref", "main"])
        .success();
    release(
        env,
        &repo,
        "2.0.0",
        &[("a.txt", "two\n"), ("new.txt", "new\n")],
    );
    let kid = env.path("kid");
    env.git(
        &kid,
        &["checkout", "--quiet", "-b", "osorganic/template-sync"],
    );
    env.osorganic()
        .args(["update", "--path", "kid", "--to", "main", "--yes"])
        .assert()
        .success();
    env.git(&kid, &["checkout", "--quiet", "main"]);
    env.git(
        &kid,
        &["merge", "--quiet", "--squash", "osorganic/template-sync"],
    );
    commit(env, &kid, "Template 2.0.0 (squashed)");
    env.git(
        &kid,
        &["branch", "--quiet", "-D", "osorganic/template-sync"],
    );
    // A clone through git's transport: only what the branches reach, no refs/osorganic/template.
    env.git(
        &env.work(),
        &["clone", "--quiet", "--no-local", "kid", "clone"],
    );
    let clone = env.path("clone");
    // The user keeps working: deletes a file 2.0.0 added and edits the line 2.0.0 changed.
    std::fs::remove_file(clone.join("new.txt")).unwrap();
    std::fs::write(clone.join("a.txt"), "two\nmine\n").unwrap();
    commit(env, &clone, "user edits");
    (repo, clone)
}

fn assert_merged_from_the_recorded_base(env: &TestEnv, clone: &Path) {
    assert!(
        !clone.join("new.txt").exists(),
        "a file the user deleted came back"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("a.txt")).unwrap(),
        "two\nmine\n"
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("keep.txt")).unwrap(),
        "k\nk3\n"
    );
    assert_eq!(env.git(clone, &["status", "--porcelain"]), "");
    // The base is a render of 2.0.0, the version the record named.
    let base = env.git(clone, &["rev-parse", "HEAD^2^"]);
    assert_eq!(env.git(clone, &["show", &format!("{base}:a.txt")]), "two");
    assert!(
        env.git(clone, &["log", "-1", "--format=%s", &base])
            .starts_with("osorganic: render t 2.0.0")
    );
}

// The squash dropped the merge commit whose second parent was the 2.0.0 render: the history holds only 1.0.0's.
#[test]
fn update_after_squash_merge_in_a_fresh_clone_renders_the_recorded_base() {
    let env = TestEnv::new();
    let (repo, clone) = squash_merged_clone(&env);
    release(&env, &repo, "3.0.0", &[("keep.txt", "k\nk3\n")]);
    env.osorganic()
        .args(["update", "--path", "clone", "--to", "main", "--yes"])
        .assert()
        .code(0);
    assert_merged_from_the_recorded_base(&env, &clone);
}

// A template ref left on an older render (a teammate's clone that never ran the update) is not taken.
#[test]
fn update_ignores_a_stale_template_ref() {
    let env = TestEnv::new();
    let (repo, clone) = squash_merged_clone(&env);
    release(&env, &repo, "3.0.0", &[("keep.txt", "k\nk3\n")]);
    let first_render = env.git(&clone, &["rev-list", "--max-parents=0", "HEAD"]);
    env.git(
        &clone,
        &["update-ref", "refs/osorganic/template", &first_render],
    );
    env.osorganic()
        .args(["update", "--path", "clone", "--to", "main", "--yes"])
        .assert()
        .code(0);
    assert_merged_from_the_recorded_base(&env, &clone);
}

// `--check` compares with the right base too: a child at the newest version is not "behind" an old render.
#[test]
fn check_after_squash_merge_compares_with_the_recorded_base() {
    let env = TestEnv::new();
    let (_repo, clone) = squash_merged_clone(&env);
    let assert = env
        .osorganic()
        .args([
            "update", "--path", "clone", "--check", "--to", "main", "--yes",
        ])
        .assert()
        .code(0);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("already up to date with t 2.0.0"),
        "{stderr}"
    );
    assert_eq!(env.git(&clone, &["status", "--porcelain"]), "");
}

// Without a stored render and without the recorded version at its source, the update says what is missing.
#[test]
fn update_names_the_missing_base_and_how_to_get_it() {
    let env = TestEnv::new();
    let (repo, _clone) = squash_merged_clone(&env);
    std::fs::remove_dir_all(repo.join(".git")).unwrap();
    let assert = env
        .osorganic()
        .args(["update", "--path", "clone", "--yes"])
        .assert()
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("no render of t 2.0.0 to merge from"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: pass `--from`"), "{stderr}");
    assert_eq!(env.git(&env.path("clone"), &["status", "--porcelain"]), "");
}

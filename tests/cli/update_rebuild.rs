//! A child without a stored base (made by hand, or by an osorganic that kept none) gets its base rebuilt by
//! rendering the recorded version with the recorded answers, and the rebuilt base becomes part of its history.

use crate::support::TestEnv;

const IDENTITY: [&str; 4] = ["-c", "user.name=T", "-c", "user.email=t@example.com"];

fn commit(env: &TestEnv, folder: &std::path::Path, message: &str) {
    env.git(folder, &["add", "-A"]);
    env.git(
        folder,
        &[&IDENTITY[..], &["commit", "--quiet", "-m", message]].concat(),
    );
}

#[test]
fn update_rebuilds_a_missing_base_from_the_recorded_version() {
    let env = TestEnv::new();
    let repo = env.template(
        "repo",
        &[
            (
                "template.toml",
                "[template]\nname = \"t\"\nversion = \"1.0.0\"\n",
            ),
            ("mine.txt", "from the template\n"),
            ("theirs.txt", "one\n"),
        ],
    );
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"]);
    commit(&env, &repo, "1.0.0");
    env.git(&repo, &["tag", "v1"]);
    let repo_text = repo.to_string_lossy().into_owned();
    // A child with no pristine render anywhere: spawned without git, then put under git by hand.
    env.spawn(&[
        "kid",
        "--yes",
        "--no-git",
        "--template",
        &repo_text,
        "--ref",
        "v1",
    ])
    .success();
    let child = env.path("kid");
    env.git(&child, &["init", "--quiet", "--initial-branch", "main"]);
    commit(&env, &child, "hand-made");
    std::fs::write(child.join("mine.txt"), "edited by the child\n").unwrap();
    commit(&env, &child, "edit");
    std::fs::write(
        repo.join("template.toml"),
        "[template]\nname = \"t\"\nversion = \"2.0.0\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("theirs.txt"), "two\n").unwrap();
    commit(&env, &repo, "2.0.0");

    env.osorganic()
        .args(["update", "--path", "kid", "--to", "main", "--yes"])
        .assert()
        .success();

    assert_eq!(
        std::fs::read_to_string(child.join("mine.txt")).unwrap(),
        "edited by the child\n"
    );
    assert_eq!(
        std::fs::read_to_string(child.join("theirs.txt")).unwrap(),
        "two\n"
    );
    assert_eq!(env.git(&child, &["status", "--porcelain"]), "");
    // The new render's parent is the rebuilt base, stored in the child's repository like any commit.
    let rebuilt_base = env.git(&child, &["rev-parse", "HEAD^2^"]);
    assert_eq!(
        env.git(&child, &["cat-file", "-t", &rebuilt_base]),
        "commit"
    );
    assert_eq!(
        env.git(&child, &["show", &format!("{rebuilt_base}:theirs.txt")]),
        "one"
    );
    env.git(&child, &["fsck", "--no-dangling"]);
}

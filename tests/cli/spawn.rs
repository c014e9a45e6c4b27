//! `osorganic spawn` end to end with the embedded template, and every input it must refuse.

use predicates::prelude::*;

use crate::support::{TestEnv, stderr_of, stdout_of};

#[test]
fn spawn_embedded_template_commits_a_clean_child() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes"])
        .success()
        .stderr(predicate::str::contains("Spawned").and(predicate::str::contains("Next steps")));
    for file in [
        ".osorganic.toml",
        "vercel.json",
        ".github/workflows/ci.yml",
        "README.md",
    ] {
        assert!(env.path("demo").join(file).is_file(), "`{file}` missing");
    }
    let child = env.path("demo");
    assert_eq!(env.git(&child, &["status", "--porcelain", "--ignored"]), "");
    assert_eq!(env.git(&child, &["branch", "--show-current"]), "main");
    let record = env.read("demo/.osorganic.toml");
    let base = env.git(&child, &["rev-parse", "refs/osorganic/template"]);
    assert!(record.contains(&format!("base = \"{base}\"")), "{record}");
    assert_eq!(env.git(&child, &["rev-parse", "HEAD^"]), base);
    // The pristine render never holds the record; main's first commit adds only it.
    assert_eq!(
        env.git(&child, &["diff", "--name-only", "HEAD^", "HEAD"]),
        ".osorganic.toml"
    );
    assert_eq!(
        env.git(&child, &["log", "-1", "--format=%an <%ae>"]),
        "osorganic <osorganic@localhost>"
    );
}

#[test]
fn spawn_with_a_domain_records_the_answer() {
    let env = TestEnv::new();
    env.spawn(&["shop", "--yes", "--define", "domain=e-commerce"])
        .success();
    let record = env.read("shop/.osorganic.toml");
    assert!(record.contains("domain = \"e-commerce\""), "{record}");
    assert!(record.contains("name = \"shop\""));
    assert_eq!(env.git(&env.path("shop"), &["status", "--porcelain"]), "");
}

// A teammate's clone (or a CI checkout) must find the pristine render the record names.
#[test]
fn clone_of_a_child_finds_the_pristine_commit() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes"]).success();
    env.git(&env.work(), &["clone", "--quiet", "demo", "copy"]);
    let base = env.git(&env.path("demo"), &["rev-parse", "refs/osorganic/template"]);
    let copy = env.path("copy");
    assert_eq!(env.git(&copy, &["cat-file", "-t", &base]), "commit");
    env.git(&copy, &["merge-base", "--is-ancestor", &base, "HEAD"]);
}

#[test]
fn spawn_uses_the_configured_git_identity() {
    let env = TestEnv::new().with_git_identity("Ada Lovelace", "ada@example.com");
    env.spawn(&["demo", "--yes"]).success();
    assert_eq!(
        env.git(&env.path("demo"), &["log", "-1", "--format=%an <%ae>"]),
        "Ada Lovelace <ada@example.com>"
    );
}

#[test]
fn spawn_refuses_bad_names_and_suggests_the_normalised_one() {
    let env = TestEnv::new();
    env.spawn(&["My Shop", "--yes"])
        .code(2)
        .stderr(predicate::str::contains("try `my-shop`"));
    let too_long = "a".repeat(65);
    for bad in ["", "a/b", "..", "../escape", too_long.as_str()] {
        env.spawn(&[bad, "--yes"])
            .code(2)
            .stderr(predicate::str::contains("cannot be a child name"));
    }
    assert!(env.work_entries().is_empty());
}

#[test]
fn spawn_without_terminal_or_yes_lists_every_question() {
    let env = TestEnv::new();
    let assert = env.spawn(&["demo", "--define", "domain=fintech"]).code(2);
    let stderr = stderr_of(&assert);
    for question in [
        "description",
        "vercel_plan",
        "python_version",
        "llm_provider",
        "bot_login",
    ] {
        assert!(
            stderr.contains(&format!("  {question} (")),
            "`{question}` not listed:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("  domain ("),
        "a defined answer was listed:\n{stderr}"
    );
    for flag in ["--define", "--answers-file", "--yes"] {
        assert!(stderr.contains(flag), "`{flag}` not suggested:\n{stderr}");
    }
    assert!(env.work_entries().is_empty());
}

#[test]
fn spawn_refuses_invalid_answers_naming_the_question() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes", "--define", "vercel_plan=enterprise"])
        .code(2)
        .stderr(
            predicate::str::contains("`vercel_plan`")
                .and(predicate::str::contains("one of: hobby, pro")),
        );
    env.spawn(&["demo", "--yes", "--define", "colour=red"])
        .code(2)
        .stderr(predicate::str::contains("`colour`").and(predicate::str::contains("does not ask")));
    env.spawn(&["demo", "--yes", "--define", "bot_login=not a login"])
        .code(2)
        // The rule in words (the question's help), never the raw regex.
        .stderr(
            predicate::str::contains("`bot_login`")
                .and(predicate::str::contains("as the question asks:"))
                .and(predicate::str::contains("^[").not()),
        );
    env.spawn(&["demo", "--yes", "--define", "domain"])
        .code(2)
        .stderr(predicate::str::contains("KEY=VALUE"));
    assert!(env.work_entries().is_empty());
}

#[test]
fn define_wins_over_the_answers_file() {
    let env = TestEnv::new();
    env.write(
        "answers.toml",
        "domain = \"fintech\"\nvercel_plan = \"pro\"\n",
    );
    env.spawn(&[
        "demo",
        "--yes",
        "--answers-file",
        "answers.toml",
        "--define",
        "domain=saas",
    ])
    .success();
    let record = env.read("demo/.osorganic.toml");
    assert!(
        record.contains("domain = \"saas\"") && record.contains("vercel_plan = \"pro\""),
        "{record}"
    );
}

#[test]
fn a_bad_answers_file_is_named() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes", "--answers-file", "missing.toml"])
        .code(2)
        .stderr(predicate::str::contains("missing.toml"));
    env.write("bad.toml", "domain = ");
    env.spawn(&["demo", "--yes", "--answers-file", "bad.toml"])
        .code(2)
        .stderr(predicate::str::contains("not valid TOML"));
}

#[test]
fn spawn_refuses_a_destination_that_is_not_empty() {
    let env = TestEnv::new();
    env.write("demo/keep.txt", "mine");
    env.spawn(&["demo", "--yes"])
        .code(2)
        .stderr(predicate::str::contains("not an empty folder"));
    assert_eq!(env.read("demo/keep.txt"), "mine");
    std::fs::create_dir(env.path("empty")).unwrap();
    env.spawn(&["demo", "--yes", "--dest", "empty"]).success();
    assert!(env.path("empty/.osorganic.toml").is_file());
    // Missing parent folders are created.
    env.spawn(&["demo", "--yes", "--dest", "new/parent/demo"])
        .success();
    assert!(env.path("new/parent/demo/.osorganic.toml").is_file());
}

#[test]
fn spawn_onto_a_file_says_it_is_a_file() {
    // Regression: `--dest` onto a file said "not an empty folder".
    let env = TestEnv::new();
    env.write("notes.txt", "mine");
    env.spawn(&["demo", "--yes", "--dest", "notes.txt"])
        .code(2)
        .stderr(
            predicate::str::contains("`").and(predicate::str::contains("is a file, not a folder")),
        );
    env.spawn(&["demo", "--yes", "--dest", "notes.txt/demo"])
        .code(2)
        .stderr(predicate::str::contains("is a file, so"));
    assert_eq!(env.read("notes.txt"), "mine");
}

#[test]
fn dry_run_lists_files_and_writes_nothing() {
    let env = TestEnv::new();
    let assert = env.spawn(&["demo", "--yes", "--dry-run"]).success();
    let listed = stdout_of(&assert);
    assert!(listed.lines().any(|line| line == "vercel.json"), "{listed}");
    assert!(listed.lines().any(|line| line == ".osorganic.toml"));
    assert!(env.work_entries().is_empty());
}

#[test]
fn no_git_writes_files_without_a_repository() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes", "--no-git"]).success();
    assert!(!env.path("demo/.git").exists());
    let record = env.read("demo/.osorganic.toml");
    assert!(!record.contains("base ="), "{record}");
}

#[test]
fn embedded_ref_is_refused() {
    let env = TestEnv::new();
    env.spawn(&["demo", "--yes", "--ref", "v1"])
        .code(2)
        .stderr(predicate::str::contains("git sources only"));
}

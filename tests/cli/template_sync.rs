//! The generated `template-sync.yml` workflow: its update step, run as written against a scratch child whose
//! `template` remote is a local repository.

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Yaml};

use crate::support::TestEnv;

const WORKFLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/github-workflows/template-sync.yml"
);
const UPDATE_STEP: &str = "Update from the template";
const IDENTITY: [&str; 4] = ["-c", "user.name=T", "-c", "user.email=t@example.com"];

/// The `run:` script of the workflow's update step, exactly as GitHub would run it.
fn update_step_script() -> String {
    let text = std::fs::read_to_string(WORKFLOW).expect("template-sync.yml");
    let documents = Yaml::load_from_str(&text).expect("template-sync.yml is YAML");
    let steps = documents[0]
        .as_mapping_get("jobs")
        .and_then(|jobs| jobs.as_mapping_get("sync"))
        .and_then(|job| job.as_mapping_get("steps"))
        .and_then(Yaml::as_vec)
        .expect("jobs.sync.steps");
    let step = steps
        .iter()
        .find(|step| step.as_mapping_get("name").and_then(Yaml::as_str) == Some(UPDATE_STEP))
        .expect("the update step");
    step.as_mapping_get("run")
        .and_then(Yaml::as_str)
        .expect("its run script")
        .to_string()
}

/// A template repository (version 1.0.0) with two plain files, and a child spawned from it.
fn child_of_a_git_template(env: &TestEnv) -> (PathBuf, PathBuf) {
    let repo = env.template(
        "repo",
        &[
            (
                "template.toml",
                "[template]\nname = \"sync-template\"\nversion = \"1.0.0\"\n",
            ),
            ("notes.txt", "first line\nsecond line\n"),
            ("settings.txt", "alpha\n"),
        ],
    );
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"]);
    env.git(&repo, &["add", "-A"]);
    env.git(
        &repo,
        &[&IDENTITY[..], &["commit", "--quiet", "-m", "1.0.0"]].concat(),
    );
    let repo_text = repo.to_string_lossy().into_owned();
    env.spawn(&["kid", "--yes", "--template", &repo_text, "--ref", "main"])
        .success();
    (repo, env.path("kid"))
}

/// Commits a new template version that rewrites `notes.txt`'s first line and `settings.txt`.
fn release_version_2(env: &TestEnv, repo: &Path) {
    std::fs::write(
        repo.join("template.toml"),
        "[template]\nname = \"sync-template\"\nversion = \"2.0.0\"\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("notes.txt"),
        "first line, from the template\nsecond line\n",
    )
    .unwrap();
    std::fs::write(repo.join("settings.txt"), "alpha\nbeta\n").unwrap();
    env.git(
        repo,
        &[&IDENTITY[..], &["commit", "--quiet", "-am", "2.0.0"]].concat(),
    );
}

/// Runs the update step in the child as the workflow would; returns its `GITHUB_OUTPUT` and the PR body.
fn run_update_step(env: &TestEnv, child: &Path, repo: &Path) -> (String, String) {
    let runner_temp = tempfile::tempdir().unwrap();
    let output_file = runner_temp.path().join("github_output");
    let binary_folder = PathBuf::from(env!("CARGO_BIN_EXE_osorganic"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        binary_folder.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = env
        .command("bash", child)
        .arg("-c")
        .arg(update_step_script())
        .env("PATH", path)
        .env("OSORGANIC_TEMPLATE_URL", repo)
        .env("OSORGANIC_TEMPLATE_REF", "")
        .env("SYNC_BRANCH", "osorganic/template-sync")
        .env("RUNNER_TEMP", runner_temp.path())
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "the update step failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let outputs = std::fs::read_to_string(&output_file).expect("the step wrote its outputs");
    let body = std::fs::read_to_string(runner_temp.path().join("osorganic-pull-request.md"))
        .expect("the PR body");
    (outputs, body)
}

#[test]
fn template_sync_commits_a_clean_update_on_its_branch() {
    let env = TestEnv::new();
    let (repo, child) = child_of_a_git_template(&env);
    let main_before = env.git(&child, &["rev-parse", "main"]);
    release_version_2(&env, &repo);

    let (outputs, body) = run_update_step(&env, &child, &repo);

    assert!(outputs.contains("status=updated"), "{outputs}");
    assert!(body.contains("`1.0.0` -> `2.0.0`"), "{body}");
    assert!(body.contains("| `settings.txt` | updated |"), "{body}");
    assert_eq!(
        env.git(&child, &["branch", "--show-current"]),
        "osorganic/template-sync"
    );
    assert_eq!(
        env.git(&child, &["rev-parse", "main"]),
        main_before,
        "main is never changed"
    );
    assert_eq!(env.git(&child, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(child.join("settings.txt")).unwrap(),
        "alpha\nbeta\n"
    );
}

#[test]
fn template_sync_commits_conflicts_with_markers_and_lists_them() {
    let env = TestEnv::new();
    let (repo, child) = child_of_a_git_template(&env);
    std::fs::write(
        child.join("notes.txt"),
        "first line, as the child wants it\nsecond line\n",
    )
    .unwrap();
    env.git(
        &child,
        &[&IDENTITY[..], &["commit", "--quiet", "-am", "child edit"]].concat(),
    );
    release_version_2(&env, &repo);

    let (outputs, body) = run_update_step(&env, &child, &repo);

    assert!(outputs.contains("status=conflicts"), "{outputs}");
    assert!(body.contains("- [ ] `notes.txt` (content)"), "{body}");
    let notes = std::fs::read_to_string(child.join("notes.txt")).unwrap();
    assert!(
        notes.contains("<<<<<<<") && notes.contains("as the child wants it"),
        "{notes}"
    );
    assert!(notes.contains("from the template"), "{notes}");
    // The conflict is committed on the sync branch as a merge commit, leaving a clean tree for the push.
    assert_eq!(env.git(&child, &["status", "--porcelain"]), "");
    let parents = env.git(&child, &["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "a merge commit: {parents}"
    );
    assert_eq!(
        env.git(&child, &["branch", "--show-current"]),
        "osorganic/template-sync"
    );
}

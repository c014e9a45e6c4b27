//! The generated `template-sync.yml` workflow: its update step, run as written against a scratch child whose
//! `template` remote is a local repository.

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, Yaml};

use crate::support::TestEnv;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/github-workflows");
const UPDATE_STEP: &str = "Update from the template";
const PUSH_STEP: &str = "Push the branch and open or refresh the pull request";
const CONFLICTS_STEP: &str = "Find unresolved template conflict markers";
const IDENTITY: [&str; 4] = ["-c", "user.name=T", "-c", "user.email=t@example.com"];

/// The `run:` script of a step of a generated workflow, exactly as GitHub would run it.
fn step_script(workflow: &str, job: &str, step_name: &str) -> String {
    let text = std::fs::read_to_string(Path::new(WORKFLOWS).join(workflow)).expect("the workflow");
    let documents = Yaml::load_from_str(&text).expect("the workflow is YAML");
    let steps = documents[0]
        .as_mapping_get("jobs")
        .and_then(|jobs| jobs.as_mapping_get(job))
        .and_then(|job| job.as_mapping_get("steps"))
        .and_then(Yaml::as_vec)
        .expect("jobs.JOB.steps");
    let step = steps
        .iter()
        .find(|step| step.as_mapping_get("name").and_then(Yaml::as_str) == Some(step_name))
        .expect("the step");
    step.as_mapping_get("run")
        .and_then(Yaml::as_str)
        .expect("its run script")
        .to_string()
}

fn update_step_script() -> String {
    step_script("template-sync.yml", "sync", UPDATE_STEP)
}

/// A template repository (version 1.0.0) with two plain files, and a child spawned from it.
fn child_of_a_git_template(env: &TestEnv) -> (PathBuf, PathBuf) {
    child_of_a_git_template_with(env, &[])
}

/// As `child_of_a_git_template`, with `extra` files in the template.
fn child_of_a_git_template_with(env: &TestEnv, extra: &[(&str, &str)]) -> (PathBuf, PathBuf) {
    let files = [
        (
            "template.toml",
            "[template]\nname = \"sync-template\"\nversion = \"1.0.0\"\n",
        ),
        ("notes.txt", "first line\nsecond line\n"),
        ("settings.txt", "alpha\n"),
    ];
    let repo = env.template("repo", &[&files[..], extra].concat());
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

/// The child's own first line of `notes.txt`, committed: the edit a template change conflicts with, and the
/// resolution that keeps it.
fn commit_the_childs_first_line(env: &TestEnv, child: &Path, message: &str) {
    std::fs::write(
        child.join("notes.txt"),
        "first line, as the child wants it\nsecond line\n",
    )
    .unwrap();
    env.git(
        child,
        &[&IDENTITY[..], &["commit", "--quiet", "-am", message]].concat(),
    );
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
    run_update_step_in(env, child, repo, runner_temp.path())
}

/// `run_update_step` with the runner's temporary folder given, so later steps can read what it left there.
fn run_update_step_in(
    env: &TestEnv,
    child: &Path,
    repo: &Path,
    runner_temp: &Path,
) -> (String, String) {
    let output_file = runner_temp.join("github_output");
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
        .env("RUNNER_TEMP", runner_temp)
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
    let body = std::fs::read_to_string(runner_temp.join("osorganic-pull-request.md"))
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
    commit_the_childs_first_line(&env, &child, "child edit");
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

/// Commits `text` as `.github/workflows/ci.yml` in the template repository, as version 2.0.0's change.
fn change_template_workflow(env: &TestEnv, repo: &Path, text: &str) {
    std::fs::write(repo.join(".github/workflows/ci.yml"), text).unwrap();
    env.git(
        repo,
        &[&IDENTITY[..], &["commit", "--quiet", "-am", "workflow"]].concat(),
    );
}

/// A bare `origin` for the child holding its `main`. With `refuse_workflows`, its pre-receive hook refuses
/// any pushed commit that touches `.github/workflows/`, with the message GitHub gives a token without the
/// workflow permission.
fn origin_for(env: &TestEnv, child: &Path, refuse_workflows: bool) -> PathBuf {
    let origin = env.path("origin.git");
    env.git(
        &env.work(),
        &[
            "clone",
            "--quiet",
            "--bare",
            &child.to_string_lossy(),
            "origin.git",
        ],
    );
    if refuse_workflows {
        let hook = origin.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            "#!/usr/bin/env bash\n\
             while read -r old new ref; do\n\
             \x20 file=\"$(git log -m --format= --name-only \"$new\" --not --all -- .github/workflows | head -n 1)\"\n\
             \x20 if [ -n \"$file\" ]; then\n\
             \x20   echo \"refusing to allow a Personal Access Token to create or update workflow `$file` without `workflow` scope\" >&2\n\
             \x20   exit 1\n\
             \x20 fi\n\
             done\n",
        )
        .unwrap();
        make_executable(&hook);
    }
    env.git(
        child,
        &["remote", "add", "origin", &origin.to_string_lossy()],
    );
    env.git(child, &["fetch", "--quiet", "origin"]);
    origin
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A `gh` that answers the calls the push step makes (the default branch is `main`, no pull request is
/// open yet) and logs each call to `gh.log` beside it.
fn fake_gh(folder: &Path) {
    let gh = folder.join("gh");
    std::fs::write(
        &gh,
        "#!/usr/bin/env bash\n\
         printf '%s\\n' \"$*\" >> \"$(dirname \"$0\")/gh.log\"\n\
         if [ \"$1 $2\" = \"repo view\" ]; then echo main; fi\n",
    )
    .unwrap();
    make_executable(&gh);
}

/// Runs the push step in the child as the workflow would, with a fake `gh` first on PATH.
fn run_push_step(
    env: &TestEnv,
    child: &Path,
    runner_temp: &Path,
    status: &str,
) -> std::process::Output {
    let bin = runner_temp.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake_gh(&bin);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.command("bash", child)
        .arg("-c")
        .arg(step_script("template-sync.yml", "sync", PUSH_STEP))
        .env("PATH", path)
        .env("SYNC_BRANCH", "osorganic/template-sync")
        .env("GITHUB_REPOSITORY", "acme/kid")
        .env("GITHUB_SERVER", "https://github.com")
        .env("TEMPLATE_SYNC_TOKEN", "token-without-workflow-permission")
        .env("GH_TOKEN", "token-without-workflow-permission")
        .env("STATUS", status)
        .env("BODY_FILE", runner_temp.join("osorganic-pull-request.md"))
        .env("RUNNER_TEMP", runner_temp)
        .output()
        .expect("bash runs")
}

const WORKFLOW_V1: &str = "name: CI\non: push\njobs: {}\n";
const WORKFLOW_V2: &str = "name: CI\non: [push, pull_request]\njobs: {}\n";

#[test]
fn template_sync_leaves_workflow_changes_out_when_the_token_may_not_write_workflows() {
    let env = TestEnv::new();
    let (repo, child) =
        child_of_a_git_template_with(&env, &[(".github/workflows/ci.yml", WORKFLOW_V1)]);
    let origin = origin_for(&env, &child, true);
    release_version_2(&env, &repo);
    change_template_workflow(&env, &repo, WORKFLOW_V2);
    let runner_temp = tempfile::tempdir().unwrap();

    let (outputs, _) = run_update_step_in(&env, &child, &repo, runner_temp.path());
    assert!(outputs.contains("status=updated"), "{outputs}");
    let pushed = run_push_step(&env, &child, runner_temp.path(), "updated");

    assert!(
        pushed.status.success(),
        "the push step failed: {}\n{}",
        String::from_utf8_lossy(&pushed.stdout),
        String::from_utf8_lossy(&pushed.stderr)
    );
    let branch = "refs/heads/osorganic/template-sync";
    let show = |path: &str| env.git(&origin, &["show", &format!("{branch}:{path}")]);
    assert_eq!(
        show(".github/workflows/ci.yml"),
        WORKFLOW_V1.trim_end(),
        "the workflow is left as it was"
    );
    assert_eq!(
        show("settings.txt"),
        "alpha\nbeta",
        "every other change is pushed"
    );
    assert!(show(".osorganic.toml").contains("version = \"2.0.0\""));
    assert_eq!(
        env.git(&origin, &["rev-parse", &format!("{branch}^")]),
        env.git(&origin, &["rev-parse", "refs/heads/main"]),
        "one commit on the default branch"
    );
    let body =
        std::fs::read_to_string(runner_temp.path().join("osorganic-pull-request.md")).unwrap();
    assert!(body.contains("### Workflow changes left out"), "{body}");
    assert!(body.contains("- [ ] `.github/workflows/ci.yml`"), "{body}");
    assert!(body.contains("**Workflows: Read and write**"), "{body}");
    assert!(
        body.contains("+on: [push, pull_request]"),
        "the patch is in the body: {body}"
    );
    let gh_log = std::fs::read_to_string(runner_temp.path().join("bin/gh.log")).unwrap();
    assert!(
        gh_log.contains(
            "pr create --base main --head osorganic/template-sync --title osorganic template update"
        ),
        "{gh_log}"
    );
}

#[test]
fn template_sync_pushes_workflow_changes_when_the_token_may() {
    let env = TestEnv::new();
    let (repo, child) =
        child_of_a_git_template_with(&env, &[(".github/workflows/ci.yml", WORKFLOW_V1)]);
    let origin = origin_for(&env, &child, false);
    release_version_2(&env, &repo);
    change_template_workflow(&env, &repo, WORKFLOW_V2);
    let runner_temp = tempfile::tempdir().unwrap();

    run_update_step_in(&env, &child, &repo, runner_temp.path());
    let pushed = run_push_step(&env, &child, runner_temp.path(), "updated");

    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let branch = "refs/heads/osorganic/template-sync";
    assert_eq!(
        env.git(
            &origin,
            &["show", &format!("{branch}:.github/workflows/ci.yml")]
        ),
        WORKFLOW_V2.trim_end()
    );
    let parents = env.git(&origin, &["rev-list", "--parents", "-n", "1", branch]);
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "the update's merge commit: {parents}"
    );
    let body =
        std::fs::read_to_string(runner_temp.path().join("osorganic-pull-request.md")).unwrap();
    assert!(!body.contains("Workflow changes left out"), "{body}");
}

/// Runs the CI's template-conflicts check in `folder`.
fn run_conflicts_check(env: &TestEnv, folder: &Path) -> std::process::Output {
    env.command("bash", folder)
        .arg("-c")
        .arg(step_script("ci.yml", "template-conflicts", CONFLICTS_STEP))
        .output()
        .expect("bash runs")
}

#[test]
fn the_template_conflicts_check_fails_until_the_committed_markers_are_resolved() {
    let env = TestEnv::new();
    let (repo, child) = child_of_a_git_template(&env);
    commit_the_childs_first_line(&env, &child, "child edit");
    let clean = run_conflicts_check(&env, &child);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    release_version_2(&env, &repo);
    run_update_step(&env, &child, &repo);

    let conflicted = run_conflicts_check(&env, &child);
    assert_eq!(conflicted.status.code(), Some(1));
    let annotations = String::from_utf8_lossy(&conflicted.stdout);
    assert!(
        annotations.contains("::error file=notes.txt,line=1::unresolved template conflict"),
        "{annotations}"
    );
    assert!(
        String::from_utf8_lossy(&conflicted.stderr)
            .contains("1 file(s) still have template conflict markers")
    );

    commit_the_childs_first_line(&env, &child, "resolve");
    let resolved = run_conflicts_check(&env, &child);
    assert!(
        resolved.status.success(),
        "{}",
        String::from_utf8_lossy(&resolved.stdout)
    );
}

//! `osorganic spawn` with small templates written by the tests: folder and git sources, composition,
//! conditional paths, verbatim GitHub expressions, render errors that must leave nothing behind.

use std::path::Path;

use predicates::prelude::*;

use crate::support::{TestEnv, stderr_of};

const MANIFEST: &str = r#"
[template]
name = "tiny"
version = "1.0.0"

[questions.use_docs]
type = "bool"
default = false

[questions.greeting]
type = "string"
default = "hello {{ project_name }}"

[[include]]
from = "../part"
to = "config"
"#;

/// A project laid out like this one: `templates/child-template` composing its sibling `templates/part`.
/// Returns the template folder; its grandparent is the project root.
fn tiny_template(env: &TestEnv, extra: &[(&str, &str)]) -> String {
    let mut files = vec![
        ("templates/child-template/template.toml", MANIFEST),
        (
            "templates/child-template/README.md.tera",
            "# {{ project_name }}\n{{ greeting }}\n",
        ),
        ("templates/child-template/{{ python_name }}/__init__.py", ""),
        (
            "templates/child-template/{% if use_docs %}docs{% endif %}/index.md",
            "docs\n",
        ),
        (
            "templates/child-template/.github/ci.yml",
            "run: echo ${{ secrets.TOKEN }}\n",
        ),
        (
            "templates/part/settings.toml.tera",
            "name = \"{{ project_name }}\"\n",
        ),
    ];
    files.extend_from_slice(extra);
    let root = env.template("project", &files);
    root.join("templates/child-template")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn folder_template_renders_parts_paths_and_verbatim_expressions() {
    let env = TestEnv::new();
    let template = tiny_template(&env, &[]);
    env.spawn(&["my-app", "--yes", "--template", &template])
        .success();
    assert_eq!(env.read("my-app/README.md"), "# my-app\nhello my-app\n");
    assert_eq!(
        env.read("my-app/config/settings.toml"),
        "name = \"my-app\"\n"
    );
    assert!(env.path("my-app/my_app/__init__.py").is_file());
    assert!(!env.path("my-app/docs").exists());
    assert_eq!(
        env.read("my-app/.github/ci.yml"),
        "run: echo ${{ secrets.TOKEN }}\n"
    );
    assert!(!env.path("my-app/template.toml").exists());
    let record = env.read("my-app/.osorganic.toml");
    assert!(
        record.contains("kind = \"path\"") && record.contains(&format!("source = \"{template}\""))
    );
}

#[test]
fn conditional_folder_appears_when_its_answer_is_true() {
    let env = TestEnv::new();
    let template = tiny_template(&env, &[]);
    env.spawn(&[
        "app",
        "--yes",
        "--template",
        &template,
        "--define",
        "use_docs=true",
    ])
    .success();
    assert_eq!(env.read("app/docs/index.md"), "docs\n");
}

// A failing render must not leave the destination nor the temporary sibling behind.
#[test]
fn render_error_names_file_line_variable_and_leaves_nothing() {
    let env = TestEnv::new();
    let template = tiny_template(
        &env,
        &[(
            "templates/child-template/broken.txt.tera",
            "fine\n{{ missing_answer }}\n",
        )],
    );
    let assert = env
        .spawn(&["app", "--yes", "--template", &template])
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("templates/child-template/broken.txt.tera` line 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("variable `missing_answer` is not defined"),
        "{stderr}"
    );
    assert!(
        env.work_entries().is_empty(),
        "left behind: {:?}",
        env.work_entries()
    );
}

#[test]
fn an_include_leaving_the_tree_is_refused() {
    let env = TestEnv::new();
    let manifest =
        "[template]\nname = \"t\"\nversion = \"1\"\n[[include]]\nfrom = \"../../elsewhere\"\n";
    let root = env.template("escape", &[("template.toml", manifest)]);
    env.spawn(&["app", "--yes", "--template", &root.to_string_lossy()])
        .code(2)
        .stderr(predicate::str::contains(
            "leaves the template's source tree",
        ));
    assert!(env.work_entries().is_empty());
}

#[test]
fn a_folder_without_a_manifest_is_refused() {
    let env = TestEnv::new();
    let root = env.template("empty", &[("README.md", "no manifest")]);
    env.spawn(&["app", "--yes", "--template", &root.to_string_lossy()])
        .code(2)
        .stderr(predicate::str::contains("no `template.toml`"));
}

#[cfg(unix)]
#[test]
fn executable_files_stay_executable_in_the_child_and_its_commits() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let template = tiny_template(
        &env,
        &[(
            "templates/child-template/scripts/run.sh",
            "#!/bin/sh\necho hi\n",
        )],
    );
    let script = Path::new(&template).join("scripts/run.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.spawn(&["app", "--yes", "--template", &template])
        .success();
    let mode = std::fs::metadata(env.path("app/scripts/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_ne!(mode & 0o111, 0);
    let entry = env.git(&env.path("app"), &["ls-tree", "HEAD", "scripts/run.sh"]);
    assert!(entry.starts_with("100755"), "{entry}");
    assert_eq!(env.git(&env.path("app"), &["status", "--porcelain"]), "");
}

/// A git repository holding this project's layout (`templates/child-template` + a part), tagged `v1`, then
/// changed on a later commit that must not be read.
fn git_template(env: &TestEnv) -> std::path::PathBuf {
    let manifest = "[template]\nname = \"child-template\"\nversion = \"1.0.0\"\n[[include]]\nfrom = \"../part\"\nto = \".\"\n";
    let repo = env.template(
        "repo",
        &[
            ("templates/child-template/template.toml", manifest),
            (
                "templates/child-template/README.md.tera",
                "# {{ project_name }} v1\n",
            ),
            ("templates/part/vercel.json", "{}\n"),
        ],
    );
    env.git(&repo, &["init", "--quiet", "--initial-branch", "main"]);
    env.git(&repo, &["add", "-A"]);
    let identity = ["-c", "user.name=T", "-c", "user.email=t@example.com"];
    env.git(
        &repo,
        &[&identity[..], &["commit", "--quiet", "-m", "v1"]].concat(),
    );
    env.git(&repo, &["tag", "v1"]);
    std::fs::write(
        repo.join("templates/child-template/README.md.tera"),
        "# v2\n",
    )
    .unwrap();
    env.git(
        &repo,
        &[&identity[..], &["commit", "--quiet", "-am", "v2"]].concat(),
    );
    repo
}

#[test]
fn git_template_is_read_at_the_ref_and_becomes_the_template_remote() {
    let env = TestEnv::new();
    let repo = git_template(&env);
    let repo_text = repo.to_string_lossy().into_owned();
    env.spawn(&["app", "--yes", "--template", &repo_text, "--ref", "v1"])
        .success();
    assert_eq!(env.read("app/README.md"), "# app v1\n");
    assert_eq!(env.read("app/vercel.json"), "{}\n");
    let tagged = env.git(&repo, &["rev-parse", "v1^{commit}"]);
    let record = env.read("app/.osorganic.toml");
    assert!(record.contains("kind = \"git\""), "{record}");
    assert!(record.contains("rev = \"v1\""), "{record}");
    assert!(
        record.contains(&format!("commit = \"{tagged}\"")),
        "{record}"
    );
    assert_eq!(
        env.git(&env.path("app"), &["remote", "get-url", "template"]),
        repo_text
    );
}

#[test]
fn an_unknown_git_ref_is_named() {
    let env = TestEnv::new();
    let repo = git_template(&env);
    env.spawn(&[
        "app",
        "--yes",
        "--template",
        &repo.to_string_lossy(),
        "--ref",
        "v9",
    ])
    .code(2)
    .stderr(predicate::str::contains("revision `v9` not found"));
    assert!(env.work_entries().is_empty());
}

#[test]
fn a_project_root_is_a_folder_template_too() {
    let env = TestEnv::new();
    let template = tiny_template(&env, &[]);
    let project = Path::new(&template).join("../..");
    env.spawn(&["app", "--yes", "--template", &project.to_string_lossy()])
        .success();
    assert_eq!(env.read("app/config/settings.toml"), "name = \"app\"\n");
}

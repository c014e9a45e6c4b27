//! Symlinks in templates are links: stored with git's mode 120000, never followed, their target never read, in
//! folder and git sources, in spawn and in update. A link that leaves the template is refused by name.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::support::{TestEnv, stderr_of};
use crate::update_env::UpdateEnv;

const MANIFEST: &str = "[template]\nname = \"links\"\nversion = \"1.0.0\"\n";

fn folder_template(env: &TestEnv) -> PathBuf {
    let folder = env.template(
        "links",
        &[("template.toml", MANIFEST), ("docs/guide.md", "guide\n")],
    );
    symlink("docs/guide.md", folder.join("GUIDE.md")).unwrap();
    folder
}

fn assert_link(child: &Path, env: &TestEnv, path: &str, target: &str) {
    assert_eq!(
        std::fs::read_link(child.join(path)).unwrap(),
        Path::new(target)
    );
    let entry = env.git(child, &["ls-tree", "HEAD", path]);
    assert!(entry.starts_with("120000 blob"), "{entry}");
    assert_eq!(
        env.git(child, &["cat-file", "-p", &format!("HEAD:{path}")]),
        target
    );
}

#[test]
fn spawn_keeps_a_symlink_of_a_folder_template_as_a_link() {
    let env = TestEnv::new();
    let template = folder_template(&env);
    env.spawn(&["kid", "--yes", "--template", &template.to_string_lossy()])
        .success();
    let child = env.path("kid");
    assert_link(&child, &env, "GUIDE.md", "docs/guide.md");
    assert_eq!(env.git(&child, &["status", "--porcelain"]), "");
}

#[test]
fn spawn_keeps_a_symlink_of_a_git_template_as_a_link() {
    let env = TestEnv::new();
    let template = folder_template(&env);
    env.git(&template, &["init", "--quiet", "--initial-branch", "main"]);
    env.git(&template, &["add", "-A"]);
    env.git(
        &template,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "-m",
            "v1",
        ],
    );
    env.spawn(&[
        "kid",
        "--yes",
        "--template",
        &template.to_string_lossy(),
        "--ref",
        "main",
    ])
    .success();
    assert_link(&env.path("kid"), &env, "GUIDE.md", "docs/guide.md");
}

// A link to a file outside the template (here `/etc/passwd`) is refused: its content never reaches the child.
#[test]
fn spawn_refuses_a_symlink_that_leaves_the_template() {
    let env = TestEnv::new();
    let template = folder_template(&env);
    symlink("/etc/passwd", template.join("passwd")).unwrap();
    symlink("../../outside", template.join("docs/up")).unwrap();
    let assert = env
        .spawn(&["kid", "--yes", "--template", &template.to_string_lossy()])
        .code(2);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("is a symlink to"), "{stderr}");
    assert!(stderr.contains("outside the template"), "{stderr}");
    assert!(!env.path("kid").exists());
}

// An update brings a template's new link as a link.
#[test]
fn update_takes_a_new_symlink_as_a_link() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n")]).spawn(&[]);
    env.template("2.0.0", "", &[("a.txt", b"a\n")]);
    symlink("a.txt", env.template_dir().join("b.txt")).unwrap();
    env.update_expecting(&[], 0);
    let link = env.child_dir().join("b.txt");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("a.txt"));
    assert!(env.git(&["ls-tree", "HEAD", "b.txt"]).starts_with("120000"));
    assert_eq!(env.status(), "");
}

//! `[files] managed` and `seeded` in `template.toml`: a managed file both sides changed is a conflict even where
//! the lines would merge; a seeded file is the child's after spawn, never touched by an update.

use crate::update_env::{LINES, UpdateEnv};

const OWNERSHIP: &str = "[files]\nmanaged = [\"runtime/**\"]\nseeded = [\"agents/**\"]\n";

fn child() -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template(
        "1.0.0",
        OWNERSHIP,
        &[
            ("runtime/core.py", LINES.as_bytes()),
            ("agents/po.py", LINES.as_bytes()),
            ("agents/dev.py", LINES.as_bytes()),
            ("notes.md", LINES.as_bytes()),
        ],
    )
    .spawn(&[]);
    env
}

fn version_2(env: &UpdateEnv) {
    let changed = LINES.replace("seven", "template seven");
    env.template(
        "2.0.0",
        OWNERSHIP,
        &[
            ("runtime/core.py", changed.as_bytes()),
            ("agents/po.py", changed.as_bytes()),
            ("agents/dev.py", changed.as_bytes()),
            ("notes.md", changed.as_bytes()),
        ],
    );
}

// A managed file the child edited on another line than the template: a conflict with markers, not a merge.
#[test]
fn update_conflicts_on_a_managed_file_both_sides_changed() {
    let env = child();
    env.write("runtime/core.py", LINES.replace("one", "user one"))
        .write("notes.md", LINES.replace("one", "user one"))
        .commit("edits");
    version_2(&env);
    env.update_expecting(&["--dry-run"], 1);
    let stderr = env.update_expecting(&[], 1);
    assert!(
        stderr.contains("conflict (content) runtime/core.py"),
        "{stderr}"
    );
    let core = env.read("runtime/core.py");
    assert!(
        core.contains("<<<<<<< child") && core.contains("user one"),
        "{core}"
    );
    assert!(core.contains("template seven"), "{core}");
    // A merged file with the same edits merges cleanly.
    assert_eq!(
        env.read("notes.md"),
        LINES
            .replace("one", "user one")
            .replace("seven", "template seven")
    );
}

// Seeded files stay the child's: edited, untouched or deleted, the template's change does not reach them.
#[test]
fn update_never_touches_a_seeded_file() {
    let env = child();
    env.write("agents/po.py", LINES.replace("seven", "user seven"))
        .remove("agents/dev.py")
        .commit("specialise the agents");
    version_2(&env);
    env.update_expecting(&[], 0);
    assert_eq!(
        env.read("agents/po.py"),
        LINES.replace("seven", "user seven")
    );
    assert!(!env.exists("agents/dev.py"));
    assert_eq!(
        env.read("runtime/core.py"),
        LINES.replace("seven", "template seven")
    );
    assert_eq!(env.status(), "");
}

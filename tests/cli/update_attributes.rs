//! The child's `.gitattributes` merge settings are honoured: `binary` and `-merge` files are never text-merged
//! (both changed: a conflict that keeps the child's bytes), `merge=union` files keep both sides' lines.

use crate::update_env::{LINES, UpdateEnv};

fn child_with_attributes(attributes: &str, path: &str) -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[(path, LINES.as_bytes())])
        .spawn(&[]);
    env.write(".gitattributes", attributes)
        .write(path, LINES.replace("one", "user one"))
        .commit("attributes and an edit");
    env.template(
        "2.0.0",
        "",
        &[(path, LINES.replace("seven", "template seven").as_bytes())],
    );
    env
}

// `binary` (and `-merge`): changes on different lines are not combined; the child's bytes stay, the template's are
// saved beside them.
#[test]
fn update_never_text_merges_a_file_marked_binary() {
    for attributes in ["deps.lock binary\n", "deps.lock -merge\n"] {
        let env = child_with_attributes(attributes, "deps.lock");
        let stderr = env.update_expecting(&[], 1);
        assert!(
            stderr.contains("conflict (binary) deps.lock"),
            "{attributes}: {stderr}"
        );
        assert_eq!(env.read("deps.lock"), LINES.replace("one", "user one"));
        assert_eq!(
            env.read("deps.lock.template-2.0.0"),
            LINES.replace("seven", "template seven")
        );
        env.update_expecting(&["--abort"], 0);
    }
}

// `merge=union`: both sides' lines, no markers, no conflict, even on the same line.
#[test]
fn update_union_merges_a_file_marked_union() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("CHANGES.md", b"- first\n")])
        .spawn(&[]);
    env.write(".gitattributes", "CHANGES.md merge=union\n")
        .write("CHANGES.md", "- first\n- the child's entry\n")
        .commit("an entry");
    env.template(
        "2.0.0",
        "",
        &[("CHANGES.md", b"- first\n- the template's entry\n")],
    );
    env.update_expecting(&[], 0);
    let merged = env.read("CHANGES.md");
    assert!(merged.contains("- the child's entry\n"), "{merged}");
    assert!(merged.contains("- the template's entry\n"), "{merged}");
    assert!(!merged.contains("<<<<<<<"), "{merged}");
}

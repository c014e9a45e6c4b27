//! Shapes of change a plain text merge does not cover become conflicts in git's index, or clean results, never
//! crashes: a file replaced by a folder and the reverse, a rename of a file the user deleted, a rename plus edit
//! against the user's edit. `--check` and `--dry-run` report them with exit 1.

use crate::update_env::{LINES, UpdateEnv, text};

fn child_of(files: &[(&str, &[u8])]) -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", files).spawn(&[]);
    env
}

// The template turns the file `config` into a folder; the user never touched it: taken cleanly.
#[test]
fn update_takes_a_file_the_template_turned_into_a_folder() {
    let env = child_of(&[("config", b"flat\n"), ("a.txt", b"a\n")]);
    env.template(
        "2.0.0",
        "",
        &[("config/main.toml", b"nested\n"), ("a.txt", b"a\n")],
    );
    env.update_expecting(&["--check"], 1);
    env.update_expecting(&[], 0);
    assert_eq!(env.read("config/main.toml"), "nested\n");
    assert_eq!(env.status(), "");
}

// The reverse: a folder the template turned into a file.
#[test]
fn update_takes_a_folder_the_template_turned_into_a_file() {
    let env = child_of(&[("config/main.toml", b"nested\n"), ("a.txt", b"a\n")]);
    env.template("2.0.0", "", &[("config", b"flat\n"), ("a.txt", b"a\n")]);
    env.update_expecting(&["--check"], 1);
    env.update_expecting(&[], 0);
    assert_eq!(env.read("config"), "flat\n");
    assert_eq!(env.status(), "");
}

// The user edited the file the template turns into a folder: a conflict that keeps the user's bytes.
#[test]
fn update_conflicts_when_the_template_turns_an_edited_file_into_a_folder() {
    let env = child_of(&[("config", b"flat\n"), ("a.txt", b"a\n")]);
    env.write("config", "edited by the user\n").commit("edit");
    env.template(
        "2.0.0",
        "",
        &[("config/main.toml", b"nested\n"), ("a.txt", b"a\n")],
    );
    let dry_run = env.update_expecting(&["--dry-run"], 1);
    assert!(
        dry_run.contains("conflict") && dry_run.contains("config"),
        "{dry_run}"
    );
    let stderr = env.update_expecting(&[], 1);
    assert!(stderr.contains("config"), "{stderr}");
    let status = env.status();
    assert!(status.contains("config"), "{status}");
    // The user's text is kept in the index (stage 2) and on disk.
    assert_eq!(env.git(&["show", ":2:config"]), "edited by the user\n");
    let on_disk = std::fs::read_dir(env.child_dir())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("config"))
        .filter(|entry| entry.path().is_file())
        .map(|entry| text(&std::fs::read(entry.path()).unwrap()))
        .collect::<Vec<_>>();
    assert!(
        on_disk.contains(&"edited by the user\n".to_string()),
        "{on_disk:?}"
    );
    env.update_expecting(&["--abort"], 0);
    assert_eq!(env.read("config"), "edited by the user\n");
    assert_eq!(env.status(), "");
}

// The template renamed a file the user deleted: the deletion stands, without a crash.
#[test]
fn update_keeps_a_deletion_when_the_template_renames_the_file() {
    let env = child_of(&[("old.txt", LINES.as_bytes()), ("a.txt", b"a\n")]);
    env.remove("old.txt").commit("delete");
    env.template(
        "2.0.0",
        "",
        &[("new.txt", LINES.as_bytes()), ("a.txt", b"a\n")],
    );
    let stderr = env.update_expecting(&[], 1);
    assert!(stderr.contains("new.txt"), "{stderr}");
    assert!(!env.exists("old.txt"));
    let status = env.status();
    assert!(status.contains("new.txt"), "{status}");
}

// The template renamed and edited a file whose same line the user edited: one conflict with markers at the new
// name, not two files.
#[test]
fn update_conflicts_on_rename_plus_edit_with_markers() {
    let env = child_of(&[("old.txt", LINES.as_bytes()), ("a.txt", b"a\n")]);
    env.write("old.txt", LINES.replace("four", "user four"))
        .commit("edit");
    env.template(
        "2.0.0",
        "",
        &[
            ("new.txt", LINES.replace("four", "template four").as_bytes()),
            ("a.txt", b"a\n"),
        ],
    );
    env.update_expecting(&["--dry-run"], 1);
    let stderr = env.update_expecting(&[], 1);
    assert!(stderr.contains("new.txt"), "{stderr}");
    assert!(!env.exists("old.txt"), "{}", env.status());
    let merged = env.read("new.txt");
    assert!(merged.contains("<<<<<<< child"), "{merged}");
    assert!(
        merged.contains("user four") && merged.contains("template four"),
        "{merged}"
    );
    assert!(merged.contains("one\ntwo\nthree\n"), "{merged}");
}

// The child made a symlink of a file the template changed: a link conflict, the link kept as a link, no markers.
#[cfg(unix)]
#[test]
fn update_never_writes_conflict_markers_into_a_symlink() {
    let env = child_of(&[("config.txt", b"one\n"), ("a.txt", b"a\n")]);
    std::fs::remove_file(env.child_dir().join("config.txt")).unwrap();
    std::os::unix::fs::symlink("a.txt", env.child_dir().join("config.txt")).unwrap();
    env.commit("a link");
    env.template("2.0.0", "", &[("config.txt", b"two\n"), ("a.txt", b"a\n")]);
    env.update_expecting(&["--dry-run"], 1);
    let stderr = env.update_expecting(&[], 1);
    assert!(
        stderr.contains("conflict (link: a symlink is never merged as text) config.txt"),
        "{stderr}"
    );
    let link = env.child_dir().join("config.txt");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::path::Path::new("a.txt")
    );
    assert_eq!(env.read("config.txt.template-2.0.0"), "two\n");
    env.update_expecting(&["--abort"], 0);
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        std::path::Path::new("a.txt")
    );
    assert_eq!(env.status(), "");
}

//! Nothing of the child is lost by an update that does not touch it: a submodule's gitlink, a file whose name is
//! not UTF-8.

use crate::update_env::UpdateEnv;

fn child_with_a_new_version() -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("a.txt", b"a\n"), ("docs/b.txt", b"b\n")])
        .spawn(&[]);
    env
}

// A submodule's gitlink (mode 160000) stays in the merge commit, at the commit it named.
#[test]
fn update_keeps_a_submodule_gitlink() {
    let env = child_with_a_new_version();
    let pinned = env.head();
    env.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{pinned},vendor/lib"),
    ]);
    env.git(&["commit", "-q", "-m", "add a submodule"]);
    env.template(
        "2.0.0",
        "",
        &[
            ("a.txt", b"new\n"),
            ("docs/b.txt", b"b\n"),
            ("vendor/readme.txt", b"r\n"),
        ],
    );
    env.update_expecting(&[], 0);
    assert_eq!(env.read("a.txt"), "new\n");
    assert_eq!(
        env.git(&["ls-tree", "HEAD", "vendor/lib"]).trim(),
        format!("160000 commit {pinned}\tvendor/lib")
    );
}

// A file whose name is not UTF-8 stays in the child, byte for byte.
#[cfg(unix)]
#[test]
fn update_keeps_a_file_with_a_non_utf8_name() {
    use std::os::unix::ffi::OsStrExt;
    let env = child_with_a_new_version();
    let name = std::ffi::OsStr::from_bytes(b"docs/caf\xe9.txt");
    std::fs::write(env.child_dir().join(name), "latin-1 name\n").unwrap();
    env.commit("a latin-1 file name");
    env.template("2.0.0", "", &[("a.txt", b"new\n"), ("docs/b.txt", b"b2\n")]);
    env.update_expecting(&[], 0);
    assert_eq!(env.read("docs/b.txt"), "b2\n");
    assert_eq!(
        std::fs::read(env.child_dir().join(name)).unwrap(),
        b"latin-1 name\n"
    );
    let tracked = env.git(&["-c", "core.quotepath=true", "ls-files", "docs"]);
    assert!(tracked.contains("caf\\351.txt"), "{tracked}");
    assert_eq!(tracked.lines().count(), 2, "{tracked}");
    assert_eq!(env.status(), "");
}

// The same when a file turned into a folder makes the merge see the whole trees.
#[cfg(unix)]
#[test]
fn update_keeps_a_non_utf8_name_when_the_merge_sees_whole_trees() {
    use std::os::unix::ffi::OsStrExt;
    let env = child_with_a_new_version();
    let name = std::ffi::OsStr::from_bytes(b"docs/caf\xe9.txt");
    std::fs::write(env.child_dir().join(name), "latin-1 name\n").unwrap();
    env.commit("a latin-1 file name");
    env.template(
        "2.0.0",
        "",
        &[
            ("a.txt/inner.txt", b"now a folder\n"),
            ("docs/b.txt", b"b2\n"),
        ],
    );
    env.update_expecting(&[], 0);
    assert_eq!(env.read("a.txt/inner.txt"), "now a folder\n");
    assert_eq!(
        std::fs::read(env.child_dir().join(name)).unwrap(),
        b"latin-1 name\n"
    );
    let tracked = env.git(&["-c", "core.quotepath=true", "ls-files", "docs"]);
    assert!(tracked.contains("caf\\351.txt"), "{tracked}");
    assert_eq!(tracked.lines().count(), 2, "{tracked}");
    assert_eq!(env.status(), "");
}

// A tracked file of the child named like the template copy of a binary conflict is never overwritten by it.
#[test]
fn update_never_overwrites_a_tracked_file_named_like_a_template_copy() {
    let env = UpdateEnv::new();
    env.template("1.0.0", "", &[("logo.bin", b"\0one")])
        .spawn(&[]);
    env.write("logo.bin", b"\0user bytes")
        .write("logo.bin.template-2.0.0", "the user's own file\n")
        .commit("edit");
    env.template("2.0.0", "", &[("logo.bin", b"\0template bytes")]);
    let stderr = env.update_expecting(&[], 1);
    assert_eq!(env.read("logo.bin.template-2.0.0"), "the user's own file\n");
    assert_eq!(
        env.read_bytes("logo.bin.template-2.0.0.1"),
        b"\0template bytes"
    );
    assert!(stderr.contains("logo.bin.template-2.0.0.1"), "{stderr}");
    env.update_expecting(&["--abort"], 0);
    assert_eq!(env.read("logo.bin.template-2.0.0"), "the user's own file\n");
    assert!(!env.exists("logo.bin.template-2.0.0.1"));
}

// A template change of line endings or BOM alone, to a file the child never touched, is applied, not dropped.
#[test]
fn update_applies_a_template_change_of_line_endings_and_bom() {
    let env = UpdateEnv::new();
    env.template(
        "1.0.0",
        "",
        &[("a.txt", b"one\ntwo\n"), ("b.txt", b"bom\n")],
    )
    .spawn(&[]);
    env.template(
        "2.0.0",
        "",
        &[
            ("a.txt", b"one\r\ntwo\r\n"),
            ("b.txt", b"\xEF\xBB\xBFbom\n"),
        ],
    );
    env.update_expecting(&[], 0);
    assert_eq!(env.read_bytes("a.txt"), b"one\r\ntwo\r\n");
    assert_eq!(env.read_bytes("b.txt"), b"\xEF\xBB\xBFbom\n");
    assert_eq!(env.status(), "");
}

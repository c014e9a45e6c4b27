//! `osorganic update`: the eighteen cases of a template update, each on a child spawned from a folder template
//! that the test then moves to a new version.

use crate::update_env::{LINES, UpdateEnv, text};

const NO_QUESTIONS: &str = "";
const DOMAIN: &str = "[questions.domain]\ntype = \"choice\"\nchoices = [\"general\", \"fintech\"]\ndefault = \"general\"\n";

fn lines_with(replacements: &[(usize, &str)]) -> String {
    LINES
        .lines()
        .enumerate()
        .map(|(index, line)| {
            let replaced = replacements.iter().find(|(number, _)| *number == index + 1);
            format!("{}\n", replaced.map_or(line, |(_, text)| text))
        })
        .collect()
}

/// A child of template 1.0.0 with these files, ready for the test's edits.
fn child_of(files: &[(&str, &[u8])], questions: &str) -> UpdateEnv {
    let env = UpdateEnv::new();
    env.template("1.0.0", questions, files).spawn(&[]);
    env
}

// 1. Template changed a file the user never touched: the file takes the new version.
#[test]
fn update_takes_template_change_to_untouched_file() {
    let env = child_of(&[("a.txt", b"old\n")], NO_QUESTIONS);
    env.template("2.0.0", NO_QUESTIONS, &[("a.txt", b"new\n")]);
    let stderr = env.update_expecting(&[], 0);
    assert_eq!(env.read("a.txt"), "new\n");
    assert!(stderr.contains("a.txt"), "{stderr}");
    assert_eq!(env.status(), "");
    assert!(env.read(".osorganic.toml").contains("version = \"2.0.0\""));
}

// 2. User changed a file the template never touched: the user's version stays.
#[test]
fn update_keeps_user_change_to_file_template_never_touched() {
    let env = child_of(
        &[("mine.txt", b"base\n"), ("other.txt", b"old\n")],
        NO_QUESTIONS,
    );
    env.write("mine.txt", "edited by the user\n").commit("edit");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("mine.txt", b"base\n"), ("other.txt", b"new\n")],
    );
    env.update_expecting(&[], 0);
    assert_eq!(env.read("mine.txt"), "edited by the user\n");
    assert_eq!(env.read("other.txt"), "new\n");
}

// 3. Both changed different lines of one file: both changes are in the result, no conflict.
#[test]
fn update_merges_changes_on_different_lines() {
    let env = child_of(&[("a.txt", LINES.as_bytes())], NO_QUESTIONS);
    env.write("a.txt", lines_with(&[(1, "ONE by user")]))
        .commit("edit");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", lines_with(&[(7, "SEVEN by template")]).as_bytes())],
    );
    env.update_expecting(&[], 0);
    assert_eq!(
        env.read("a.txt"),
        lines_with(&[(1, "ONE by user"), (7, "SEVEN by template")])
    );
    assert_eq!(env.status(), "");
}

// 4. Both changed the same lines differently: a conflict with markers; nothing silently chosen.
#[test]
fn update_conflicts_on_same_lines_with_markers() {
    let env = child_of(&[("a.txt", LINES.as_bytes())], NO_QUESTIONS);
    env.write("a.txt", lines_with(&[(4, "user four")]))
        .commit("edit");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", lines_with(&[(4, "template four")]).as_bytes())],
    );
    let stderr = env.update_expecting(&[], 1);
    let merged = env.read("a.txt");
    assert!(merged.contains("<<<<<<< child\nuser four\n"), "{merged}");
    assert!(
        merged.contains("=======\ntemplate four\n>>>>>>> template@2.0.0\n"),
        "{merged}"
    );
    assert!(env.status().contains("UU a.txt"));
    assert!(stderr.contains("a.txt"), "{stderr}");
    assert_eq!(
        env.git(&["show", ":2:a.txt"]),
        lines_with(&[(4, "user four")])
    );
    assert_eq!(
        env.git(&["show", ":3:a.txt"]),
        lines_with(&[(4, "template four")])
    );
}

// 5. Template deleted a file the user never touched: removed. Deleted a file the user edited: modify/delete conflict.
#[test]
fn update_removes_untouched_deleted_file_and_conflicts_on_edited_one() {
    let env = child_of(
        &[
            ("untouched.txt", b"u\n"),
            ("edited.txt", b"e\n"),
            ("kept.txt", b"k\n"),
        ],
        NO_QUESTIONS,
    );
    env.write("edited.txt", "edited by the user\n")
        .commit("edit");
    env.template("2.0.0", NO_QUESTIONS, &[("kept.txt", b"k\n")]);
    let stderr = env.update_expecting(&[], 1);
    assert!(!env.exists("untouched.txt"));
    assert_eq!(env.read("edited.txt"), "edited by the user\n");
    assert!(env.status().contains("UD edited.txt"), "{}", env.status());
    assert!(stderr.contains("modify/delete"), "{stderr}");
}

// 6. Template renamed a file the user edited: the user's edit follows the rename.
#[test]
fn update_keeps_edit_across_rename() {
    let env = child_of(&[("old/name.py", LINES.as_bytes())], NO_QUESTIONS);
    env.write("old/name.py", format!("{LINES}user line\n"))
        .commit("edit");
    env.template("2.0.0", NO_QUESTIONS, &[("new/name.py", LINES.as_bytes())]);
    env.update_expecting(&[], 0);
    assert!(!env.exists("old/name.py"));
    assert_eq!(env.read("new/name.py"), format!("{LINES}user line\n"));
}

// 7. Template added a file the user also created with other content: add/add conflict, both contents reachable.
#[test]
fn update_add_add_conflict_keeps_both_contents() {
    let env = child_of(&[("a.txt", b"a\n")], NO_QUESTIONS);
    env.write("notes.md", "the user's notes\n").commit("notes");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", b"a\n"), ("notes.md", b"the template's notes\n")],
    );
    env.update_expecting(&[], 1);
    assert!(env.status().contains("AA notes.md"), "{}", env.status());
    let merged = env.read("notes.md");
    assert!(
        merged.contains("the user's notes") && merged.contains("the template's notes"),
        "{merged}"
    );
    assert_eq!(env.git(&["show", ":2:notes.md"]), "the user's notes\n");
    assert_eq!(env.git(&["show", ":3:notes.md"]), "the template's notes\n");
}

// 8. User deleted a file the template later changed: a modify/delete conflict, not a silent resurrection.
#[test]
fn update_conflicts_when_template_changes_a_file_the_user_deleted() {
    let env = child_of(&[("a.txt", b"old\n"), ("b.txt", b"b\n")], NO_QUESTIONS);
    env.remove("a.txt").commit("delete");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", b"new\n"), ("b.txt", b"b\n")],
    );
    let stderr = env.update_expecting(&[], 1);
    assert!(env.status().contains("DU a.txt"), "{}", env.status());
    assert!(stderr.contains("delete/modify"), "{stderr}");
}

// 9. Binary files and executable bits: carried as git carries them.
#[test]
fn update_carries_binary_files_and_executable_bits() {
    let env = child_of(
        &[("logo.png", b"\x89PNG\0old"), ("run.sh", b"#!/bin/sh\n")],
        NO_QUESTIONS,
    );
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[
            ("logo.png", b"\x89PNG\0\xffnew"),
            ("run.sh*", b"#!/bin/sh\n"),
        ],
    );
    env.update_expecting(&[], 0);
    assert_eq!(env.read_bytes("logo.png"), b"\x89PNG\0\xffnew");
    assert!(env.git(&["ls-files", "-s", "run.sh"]).starts_with("100755"));
    assert_eq!(env.status(), "");
}

// 10. CRLF files keep their line endings.
#[test]
fn update_keeps_crlf_files_crlf() {
    let crlf = LINES.replace('\n', "\r\n");
    let env = child_of(&[("win.bat", crlf.as_bytes())], NO_QUESTIONS);
    env.write(
        "win.bat",
        lines_with(&[(1, "user one")]).replace('\n', "\r\n"),
    )
    .commit("edit");
    let template = lines_with(&[(7, "template seven")]).replace('\n', "\r\n");
    env.template("2.0.0", NO_QUESTIONS, &[("win.bat", template.as_bytes())]);
    env.update_expecting(&[], 0);
    assert_eq!(
        env.read("win.bat"),
        lines_with(&[(1, "user one"), (7, "template seven")]).replace('\n', "\r\n")
    );
}

// 11. A new question with a default: answered by default with `--yes`, and recorded.
#[test]
fn update_answers_new_question_by_default_with_yes() {
    let env = child_of(&[("a.txt", b"a\n")], NO_QUESTIONS);
    let region = "[questions.region]\ntype = \"string\"\ndefault = \"eu-west\"\n";
    env.template(
        "2.0.0",
        region,
        &[
            ("a.txt", b"a\n"),
            ("region.txt.tera", b"region = {{ region }}\n"),
        ],
    );
    env.update_expecting(&["--yes"], 0);
    assert_eq!(env.read("region.txt"), "region = eu-west\n");
    assert!(env.read(".osorganic.toml").contains("region = \"eu-west\""));
}

// 12. No template change: "already up to date", nothing written, no new commit.
#[test]
fn update_without_template_change_is_already_up_to_date() {
    let env = child_of(&[("a.txt", b"a\n")], NO_QUESTIONS);
    let head = env.head();
    let stderr = env.update_expecting(&[], 0);
    assert!(stderr.contains("already up to date"), "{stderr}");
    // One answer, not "done already up to date".
    assert!(!stderr.contains("done"), "{stderr}");
    assert_eq!(env.head(), head);
    assert_eq!(env.status(), "");
    env.update_expecting(&["--check"], 0);
}

// 13. Two updates in a row (v1 -> v2 -> v3) with edits in between: each merge uses the right base.
#[test]
fn two_updates_in_a_row_use_the_right_base() {
    let env = child_of(&[("a.txt", LINES.as_bytes())], NO_QUESTIONS);
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", lines_with(&[(7, "SEVEN")]).as_bytes())],
    );
    env.update_expecting(&[], 0);
    // The user takes back the template's line 7: against the wrong base (v1) v3 would bring SEVEN back.
    env.write("a.txt", lines_with(&[(3, "user three")]))
        .commit("edit");
    env.template(
        "3.0.0",
        NO_QUESTIONS,
        &[("a.txt", lines_with(&[(5, "FIVE"), (7, "SEVEN")]).as_bytes())],
    );
    env.update_expecting(&["--check"], 1);
    env.update_expecting(&[], 0);
    assert_eq!(
        env.read("a.txt"),
        lines_with(&[(3, "user three"), (5, "FIVE")])
    );
    assert!(env.read(".osorganic.toml").contains("version = \"3.0.0\""));
}

// 14. Other answers, same template version: domain files change, edits stay, conditional files go, folders move.
#[test]
fn update_with_changed_answer_rerenders_domain_files_and_keeps_edits() {
    let files: &[(&str, &[u8])] = &[
        ("config.toml.tera", b"domain = \"{{ domain }}\"\n"),
        (
            "{% if domain == \"general\" %}general.md{% endif %}",
            b"general only\n",
        ),
        (
            "{% if domain == \"general\" %}general-notes.md{% endif %}",
            b"general notes\n",
        ),
        ("{{ domain }}/rules.md", LINES.as_bytes()),
    ];
    let env = child_of(files, DOMAIN);
    env.write("general/rules.md", lines_with(&[(2, "user rule")]));
    env.write("general-notes.md", "the user's general notes\n")
        .commit("edit");
    let stderr = env.update_expecting(&["--define", "domain=fintech"], 1);
    assert_eq!(env.read("config.toml"), "domain = \"fintech\"\n");
    assert!(!env.exists("general.md"));
    assert_eq!(env.read("general-notes.md"), "the user's general notes\n");
    assert!(stderr.contains("general-notes.md"), "{stderr}");
    assert!(!env.exists("general/rules.md"));
    assert_eq!(
        env.read("fintech/rules.md"),
        lines_with(&[(2, "user rule")])
    );
    assert!(env.read(".osorganic.toml").contains("domain = \"fintech\""));
}

// 15. A CRLF child against an LF template merges line by line and keeps its endings; BOM and final newline kept.
#[test]
fn update_merges_crlf_child_with_lf_template_line_by_line() {
    let env = child_of(
        &[
            ("a.txt", LINES.as_bytes()),
            ("bom.txt", b"\xEF\xBB\xBFone\ntwo\n"),
            ("tail.txt", b"one\ntwo\nthree\nfour\nfive"),
        ],
        NO_QUESTIONS,
    );
    env.write(
        "a.txt",
        lines_with(&[(1, "user one")]).replace('\n', "\r\n"),
    );
    env.write("bom.txt", b"\xEF\xBB\xBFone\ntwo\nuser three\n");
    env.write("tail.txt", "one\ntwo\nthree\nfour\nuser five")
        .commit("crlf");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[
            ("a.txt", lines_with(&[(7, "template seven")]).as_bytes()),
            ("bom.txt", b"\xEF\xBB\xBFtemplate one\ntwo\n"),
            ("tail.txt", b"template one\ntwo\nthree\nfour\nfive"),
        ],
    );
    env.update_expecting(&[], 0);
    assert_eq!(
        env.read("a.txt"),
        lines_with(&[(1, "user one"), (7, "template seven")]).replace('\n', "\r\n")
    );
    assert_eq!(
        env.read_bytes("bom.txt"),
        b"\xEF\xBB\xBFtemplate one\ntwo\nuser three\n"
    );
    assert_eq!(
        env.read("tail.txt"),
        "template one\ntwo\nthree\nfour\nuser five"
    );
}

// 16. Binary files are never text-merged: one side changed -> taken; both -> conflict, child's bytes kept, template's beside.
#[test]
fn update_never_text_merges_binary_files() {
    let env = child_of(
        &[("one.bin", b"\0one"), ("both.bin", b"\0both")],
        NO_QUESTIONS,
    );
    env.write("both.bin", b"\0user bytes").commit("edit");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[
            ("one.bin", b"\0template one"),
            ("both.bin", b"\0template bytes"),
        ],
    );
    let stderr = env.update_expecting(&[], 1);
    assert_eq!(env.read_bytes("one.bin"), b"\0template one");
    assert_eq!(env.read_bytes("both.bin"), b"\0user bytes");
    assert_eq!(
        env.read_bytes("both.bin.template-2.0.0"),
        b"\0template bytes"
    );
    assert!(stderr.contains("both.bin.template-2.0.0"), "{stderr}");
}

// 17. Repetitive code: the user's line lands in the right function; a line next to a template change is never dropped.
#[test]
fn update_puts_user_line_in_the_right_one_of_identical_functions() {
    let function = |name: &str, extra: &str| {
        format!("def {name}():\n    a = 1\n    b = 2\n{extra}    return a + b\n\n")
    };
    let v1 = format!("{}{}", function("first", ""), function("second", ""));
    let env = child_of(
        &[("f.py", v1.as_bytes()), ("g.py", LINES.as_bytes())],
        NO_QUESTIONS,
    );
    let user = format!(
        "{}{}",
        function("first", ""),
        function("second", "    print(a)\n")
    );
    env.write("f.py", &user);
    env.write("g.py", lines_with(&[(4, "four\nuser line after four")]))
        .commit("edit");
    let v2 = format!("# header\n{v1}");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[
            ("f.py", v2.as_bytes()),
            ("g.py", lines_with(&[(5, "template five")]).as_bytes()),
        ],
    );
    let output = env.update(&[]);
    assert_eq!(env.read("f.py"), format!("# header\n{user}"));
    let g = env.read("g.py");
    assert!(
        g.contains("user line after four") && g.contains("template five"),
        "{g}"
    );
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        text(&output.stderr)
    );
}

// 18. Unresolved conflicts of a previous update: refuse to start. Secrets are never written, and a no-op update
// with secrets causes no conflict.
#[test]
fn update_refuses_with_unresolved_conflicts_and_keeps_secrets_out() {
    let secret = "[questions.api_token]\ntype = \"string\"\ndefault = \"\"\nsecret = true\n";
    let files: &[(&str, &[u8])] = &[
        ("a.txt", b"a\n"),
        (
            "token.txt.tera",
            b"{% if api_token %}token configured{% else %}no token{% endif %}\n",
        ),
    ];
    let env = UpdateEnv::new();
    env.template("1.0.0", secret, files)
        .spawn(&["--define", "api_token=s3cr3t-value"]);
    assert_eq!(env.read("token.txt"), "token configured\n");
    assert!(!env.read(".osorganic.toml").contains("s3cr3t-value"));
    let stderr = env.update_expecting(&["--yes"], 0);
    assert!(stderr.contains("already up to date"), "{stderr}");
    assert_eq!(env.read("token.txt"), "token configured\n");

    env.write("a.txt", "user\n").commit("edit");
    let changed: &[(&str, &[u8])] = &[("a.txt", b"template\n"), files[1]];
    env.template("2.0.0", secret, changed);
    env.update_expecting(&["--yes", "--define", "api_token=s3cr3t-value"], 1);
    let stderr = env.update_expecting(&["--yes"], 1);
    assert!(stderr.contains("unfinished update"), "{stderr}");
    assert!(!env.read(".osorganic.toml").contains("s3cr3t-value"));
    env.update_expecting(&["--abort"], 0);
    assert_eq!(env.read("a.txt"), "user\n");
    assert_eq!(env.status(), "");
}

// The base travels with the child: an update works in a plain `git clone`, where refs/osorganic/template is absent.
#[test]
fn update_works_in_a_fresh_clone_of_a_child() {
    let env = child_of(&[("a.txt", LINES.as_bytes())], NO_QUESTIONS);
    env.write("a.txt", lines_with(&[(1, "user one")]))
        .commit("edit");
    let clone = env.child_dir().with_file_name("clone");
    env.git_in(
        env.child_dir().parent().unwrap(),
        &["clone", "-q", "child", "clone"],
    );
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", lines_with(&[(7, "template seven")]).as_bytes())],
    );
    let output = env.osorganic(&clone).arg("update").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let merged = std::fs::read_to_string(clone.join("a.txt")).unwrap();
    assert_eq!(
        merged,
        lines_with(&[(1, "user one"), (7, "template seven")])
    );
}

// --abort restores the child exactly: HEAD, index, working tree, the template ref.
#[test]
fn update_abort_restores_the_child_exactly() {
    let env = child_of(
        &[("a.txt", b"base\n"), ("pic.bin", b"\0base")],
        NO_QUESTIONS,
    );
    env.write("a.txt", "user\n")
        .write("pic.bin", b"\0user")
        .commit("edit");
    let head = env.head();
    let template_ref = env.git(&["rev-parse", "refs/osorganic/template"]);
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[
            ("a.txt", b"template\n"),
            ("pic.bin", b"\0template"),
            ("new.txt", b"n\n"),
        ],
    );
    env.update_expecting(&[], 1);
    env.update_expecting(&["--abort"], 0);
    assert_eq!(env.head(), head);
    assert_eq!(env.status(), "");
    assert_eq!(
        env.git(&["rev-parse", "refs/osorganic/template"]),
        template_ref
    );
    assert!(!env.exists("new.txt") && !env.exists("pic.bin.template-2.0.0"));
}

// A dirty working tree is refused before anything is written, naming the files.
#[test]
fn update_refuses_a_dirty_tree_and_names_the_files() {
    let env = child_of(&[("a.txt", b"a\n")], NO_QUESTIONS);
    env.write("a.txt", "uncommitted\n");
    env.template("2.0.0", NO_QUESTIONS, &[("a.txt", b"new\n")]);
    let stderr = env.update_expecting(&[], 1);
    assert!(
        stderr.contains("a.txt") && stderr.contains("stash"),
        "{stderr}"
    );
    assert_eq!(env.read("a.txt"), "uncommitted\n");
}

// --dry-run and --json show the plan per file and write nothing.
#[test]
fn update_dry_run_json_lists_files_and_writes_nothing() {
    let env = child_of(&[("a.txt", b"a\n"), ("b.txt", b"b\n")], NO_QUESTIONS);
    env.write("b.txt", "user\n").commit("edit");
    env.template(
        "2.0.0",
        NO_QUESTIONS,
        &[("a.txt", b"new\n"), ("b.txt", b"template\n")],
    );
    let head = env.head();
    let output = env.update(&["--dry-run", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|file| file["path"] == "a.txt" && file["change"] == "updated"),
        "{report}"
    );
    assert!(
        files
            .iter()
            .any(|file| file["path"] == "b.txt" && file["conflict"] == "content"),
        "{report}"
    );
    assert_eq!(env.head(), head);
    assert_eq!(env.status(), "");
}

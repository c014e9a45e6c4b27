//! The merge policy on real repositories made in temporary folders.

use git2::{Oid, Repository};

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    repo: Repository,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        Self { _dir: dir, repo }
    }

    /// A tree of (path, content) files; a path ending in `*` is executable.
    fn tree(&self, files: &[(&str, &[u8])]) -> Tree<'_> {
        let mut index = git2::Index::new().unwrap();
        for (path, content) in files {
            let (path, mode) = match path.strip_suffix('*') {
                Some(path) => (path, 0o100755),
                None => (*path, 0o100644),
            };
            let id = self.repo.blob(content).unwrap();
            index
                .add(&outcome::index_entry(path, Entry { id, mode }, 0))
                .unwrap();
        }
        let id = index.write_tree_to(&self.repo).unwrap();
        self.repo.find_tree(id).unwrap()
    }

    fn merge(
        &self,
        base: &[(&str, &[u8])],
        ours: &[(&str, &[u8])],
        theirs: &[(&str, &[u8])],
    ) -> MergeOutcome {
        let trees = ThreeTrees {
            base: self.tree(base),
            ours: self.tree(ours),
            theirs: self.tree(theirs),
        };
        three_way(&self.repo, &trees, &Labels::new("1.0.0", "2.0.0")).unwrap()
    }

    fn content(&self, id: Oid) -> String {
        String::from_utf8_lossy(self.repo.find_blob(id).unwrap().content()).into_owned()
    }

    fn result(&self, outcome: &MergeOutcome, path: &str) -> String {
        self.content(outcome.entries[path].id)
    }
}

fn change(outcome: &MergeOutcome, path: &str) -> Option<(FileChange, Option<ConflictKind>)> {
    outcome
        .files
        .iter()
        .find(|file| file.path == path)
        .map(|file| (file.change, file.conflict))
}

const LINES: &[u8] = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

#[test]
fn one_sided_changes_are_taken_by_blob_id() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[
            ("template.txt", b"old\n"),
            ("user.txt", b"old\n"),
            ("gone.txt", b"x\n"),
        ],
        &[
            ("template.txt", b"old\n"),
            ("user.txt", b"mine\n"),
            ("gone.txt", b"x\n"),
        ],
        &[
            ("template.txt", b"new\n"),
            ("user.txt", b"old\n"),
            ("added.txt", b"a\n"),
        ],
    );
    assert!(outcome.is_clean());
    assert_eq!(fixture.result(&outcome, "template.txt"), "new\n");
    assert_eq!(fixture.result(&outcome, "user.txt"), "mine\n");
    assert_eq!(
        change(&outcome, "template.txt"),
        Some((FileChange::Updated, None))
    );
    assert_eq!(change(&outcome, "user.txt"), None);
    assert_eq!(
        change(&outcome, "gone.txt"),
        Some((FileChange::Removed, None))
    );
    assert_eq!(
        change(&outcome, "added.txt"),
        Some((FileChange::Added, None))
    );
}

#[test]
fn different_lines_merge_and_same_lines_conflict_with_labels() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[("a.txt", LINES), ("b.txt", LINES)],
        &[
            ("a.txt", b"ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n"),
            ("b.txt", b"one\nmine\nthree\nfour\nfive\nsix\nseven\n"),
        ],
        &[
            ("a.txt", b"one\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n"),
            ("b.txt", b"one\ntheirs\nthree\nfour\nfive\nsix\nseven\n"),
        ],
    );
    assert_eq!(
        fixture.result(&outcome, "a.txt"),
        "ONE\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n"
    );
    assert_eq!(change(&outcome, "a.txt"), Some((FileChange::Merged, None)));
    assert_eq!(
        change(&outcome, "b.txt"),
        Some((FileChange::Conflict, Some(ConflictKind::Content)))
    );
    let conflict = &outcome.conflicts[0];
    let markers = fixture.content(conflict.worktree.id);
    assert!(markers.contains("<<<<<<< child\nmine\n"), "{markers}");
    assert!(
        markers.contains("||||||| template@1.0.0\ntwo\n"),
        "{markers}"
    );
    assert!(
        markers.contains("=======\ntheirs\n>>>>>>> template@2.0.0\n"),
        "{markers}"
    );
    assert_eq!(
        fixture.content(conflict.ours.as_ref().unwrap().entry.id),
        "one\nmine\nthree\nfour\nfive\nsix\nseven\n"
    );
}

#[test]
fn deletions_against_edits_are_modify_delete_conflicts() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[("edited.txt", b"base\n"), ("deleted.txt", b"base\n")],
        &[("edited.txt", b"mine\n")],
        &[("deleted.txt", b"new\n")],
    );
    assert_eq!(
        change(&outcome, "edited.txt"),
        Some((FileChange::Conflict, Some(ConflictKind::ModifyDelete)))
    );
    assert_eq!(
        change(&outcome, "deleted.txt"),
        Some((FileChange::Conflict, Some(ConflictKind::DeleteModify)))
    );
    let edited = outcome
        .conflicts
        .iter()
        .find(|conflict| conflict.path == "edited.txt")
        .unwrap();
    assert_eq!(fixture.content(edited.worktree.id), "mine\n");
}

#[test]
fn an_edit_follows_the_template_rename() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[("old/name.py", LINES)],
        &[(
            "old/name.py",
            b"one\ntwo\nthree\nfour\nfive\nsix\nseven\nmine\n",
        )],
        &[("new/name.py", LINES)],
    );
    assert!(outcome.is_clean(), "{:?}", outcome.conflicts);
    assert!(!outcome.entries.contains_key("old/name.py"));
    assert!(
        fixture
            .result(&outcome, "new/name.py")
            .ends_with("seven\nmine\n")
    );
}

#[test]
fn add_add_is_a_conflict_with_both_contents() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(&[], &[("new.txt", b"mine\n")], &[("new.txt", b"theirs\n")]);
    assert_eq!(
        change(&outcome, "new.txt"),
        Some((FileChange::Conflict, Some(ConflictKind::AddAdd)))
    );
    let markers = fixture.content(outcome.conflicts[0].worktree.id);
    assert!(
        markers.contains("mine") && markers.contains("theirs"),
        "{markers}"
    );
}

#[test]
fn binary_files_are_never_text_merged() {
    let fixture = Fixture::new();
    let base: &[u8] = b"\x89PNG\0base";
    let outcome = fixture.merge(
        &[("one.png", base), ("both.png", base)],
        &[("one.png", base), ("both.png", b"\x89PNG\0mine")],
        &[
            ("one.png", b"\x89PNG\0theirs"),
            ("both.png", b"\x89PNG\0theirs"),
        ],
    );
    assert_eq!(
        fixture
            .repo
            .find_blob(outcome.entries["one.png"].id)
            .unwrap()
            .content(),
        b"\x89PNG\0theirs"
    );
    let conflict = &outcome.conflicts[0];
    assert_eq!(conflict.kind, ConflictKind::Binary);
    assert_eq!(
        fixture
            .repo
            .find_blob(conflict.worktree.id)
            .unwrap()
            .content(),
        b"\x89PNG\0mine"
    );
    let (copy_path, copy) = conflict.template_copy.clone().unwrap();
    assert_eq!(copy_path, "both.png.template-2.0.0");
    assert_eq!(
        fixture.repo.find_blob(copy).unwrap().content(),
        b"\x89PNG\0theirs"
    );
}

#[test]
fn executable_bits_are_carried() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[("run.sh", b"echo\n")],
        &[("run.sh", b"echo\n")],
        &[("run.sh*", b"echo\n")],
    );
    assert_eq!(outcome.entries["run.sh"].mode, 0o100755);
    assert_eq!(
        change(&outcome, "run.sh"),
        Some((FileChange::Updated, None))
    );
}

#[test]
fn crlf_children_merge_line_by_line_and_keep_their_endings() {
    let fixture = Fixture::new();
    let outcome = fixture.merge(
        &[("a.txt", LINES), ("b.txt", b"x\ny")],
        &[
            (
                "a.txt",
                b"\xEF\xBB\xBFone\r\ntwo\r\nthree\r\nfour\r\nfive\r\nsix\r\nseven\r\nmine\r\n",
            ),
            ("b.txt", b"x\r\ny"),
        ],
        &[
            ("a.txt", b"ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n"),
            ("b.txt", b"x\ny\nz"),
        ],
    );
    assert!(outcome.is_clean(), "{:?}", outcome.conflicts);
    assert_eq!(
        fixture.result(&outcome, "a.txt"),
        "\u{feff}ONE\r\ntwo\r\nthree\r\nfour\r\nfive\r\nsix\r\nseven\r\nmine\r\n"
    );
    assert_eq!(fixture.result(&outcome, "b.txt"), "x\r\ny\r\nz");
}

#[test]
fn an_inserted_line_lands_in_the_right_one_of_two_identical_functions() {
    let fixture = Fixture::new();
    let function = |name: &str, extra: &str| {
        format!("def {name}():\n    a = 1\n    b = 2\n{extra}    return a + b\n\n")
    };
    let base = format!("{}{}", function("first", ""), function("second", ""));
    let ours = format!(
        "{}{}",
        function("first", ""),
        function("second", "    print(a)\n")
    );
    let theirs = format!(
        "# header\n{}{}",
        function("first", ""),
        function("second", "")
    );
    let outcome = fixture.merge(
        &[("f.py", base.as_bytes())],
        &[("f.py", ours.as_bytes())],
        &[("f.py", theirs.as_bytes())],
    );
    assert!(outcome.is_clean());
    assert_eq!(
        fixture.result(&outcome, "f.py"),
        format!("# header\n{ours}")
    );
}

/// A child repository on disk: base commit P, child commit M on main (parent P), template commit T (parent P).
struct Child {
    dir: tempfile::TempDir,
    repo: Repository,
}

impl Child {
    fn new(
        base: &[(&str, &[u8])],
        ours: &[(&str, &[u8])],
        theirs: &[(&str, &[u8])],
    ) -> (Self, Oid) {
        let dir = tempfile::tempdir().unwrap();
        Repository::init(dir.path()).unwrap();
        let fixture = Fixture {
            _dir: tempfile::tempdir().unwrap(),
            repo: Repository::open(dir.path()).unwrap(),
        };
        let repo = &fixture.repo;
        let signature = git2::Signature::now("Test", "test@example.com").unwrap();
        let commit = |tree: &Tree<'_>, parents: &[&git2::Commit<'_>], update: Option<&str>| {
            repo.commit(update, &signature, &signature, "c", tree, parents)
                .unwrap()
        };
        let base_commit = repo
            .find_commit(commit(&fixture.tree(base), &[], None))
            .unwrap();
        let mut ours_files = ours.to_vec();
        ours_files.push((".osorganic.toml", b"version = 1\n"));
        commit(&fixture.tree(&ours_files), &[&base_commit], Some("HEAD"));
        let template = commit(&fixture.tree(theirs), &[&base_commit], None);
        let mut options = git2::build::CheckoutBuilder::new();
        repo.checkout_head(Some(options.force())).unwrap();
        (
            Self {
                repo: Repository::open(dir.path()).unwrap(),
                dir,
            },
            template,
        )
    }

    fn trees(&self, template: Oid) -> ThreeTrees<'_> {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        let base = head.parent(0).unwrap().tree().unwrap();
        let mut without_record = git2::build::TreeUpdateBuilder::new();
        without_record.remove(".osorganic.toml");
        let ours = without_record
            .create_updated(&self.repo, &head.tree().unwrap())
            .unwrap();
        ThreeTrees {
            base,
            ours: self.repo.find_tree(ours).unwrap(),
            theirs: self.repo.find_commit(template).unwrap().tree().unwrap(),
        }
    }

    fn git(&self, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(path)).unwrap()
    }
}

#[test]
fn a_conflicted_update_is_a_real_git_merge_state() {
    let (child, template) = Child::new(
        &[
            ("a.txt", b"base\n"),
            ("b.txt", b"base\n"),
            ("pic.png", b"\0base"),
            ("gone.txt", b"g\n"),
        ],
        &[
            ("a.txt", b"mine\n"),
            ("b.txt", b"base\n"),
            ("pic.png", b"\0mine"),
            ("gone.txt", b"g\n"),
        ],
        &[
            ("a.txt", b"theirs\n"),
            ("b.txt", b"new\n"),
            ("pic.png", b"\0theirs"),
            ("c.txt", b"c\n"),
        ],
    );
    let outcome = three_way(&child.repo, &child.trees(template), &Labels::new("1", "2")).unwrap();
    let signature = git2::Signature::now("Test", "test@example.com").unwrap();
    let finish = write::Finish {
        record_path: ".osorganic.toml",
        record: b"version = 2\n",
        template_commit: template,
        message: "osorganic: update to 2",
        signature: &signature,
    };
    let written = write::leave_conflicts(
        &child.repo,
        &outcome,
        &finish,
        write::prepare(&child.repo, &outcome, &finish).unwrap(),
    )
    .unwrap();
    assert_eq!(
        written.template_copies,
        vec![std::path::PathBuf::from("pic.png.template-2")]
    );
    let status = child.git(&["status", "--porcelain"]);
    assert_eq!(
        status,
        "M  .osorganic.toml\nUU a.txt\nM  b.txt\nA  c.txt\nD  gone.txt\nUU pic.png\n?? pic.png.template-2\n",
        "{status}"
    );
    assert!(String::from_utf8_lossy(&child.read("a.txt")).contains("<<<<<<< child"));
    assert_eq!(child.read("pic.png"), b"\0mine");
    assert_eq!(child.read(".osorganic.toml"), b"version = 2\n");
    assert_eq!(child.repo.state(), git2::RepositoryState::Merge);

    child.git(&["merge", "--abort"]);
    assert_eq!(
        child.git(&["status", "--porcelain"]),
        "?? pic.png.template-2\n"
    );
    assert_eq!(child.read("a.txt"), b"mine\n");
}

#[test]
fn a_resolved_update_is_finished_by_git_commit() {
    let (child, template) = Child::new(
        &[("a.txt", b"base\n")],
        &[("a.txt", b"mine\n")],
        &[("a.txt", b"theirs\n")],
    );
    let outcome = three_way(&child.repo, &child.trees(template), &Labels::new("1", "2")).unwrap();
    let signature = git2::Signature::now("Test", "test@example.com").unwrap();
    let finish = write::Finish {
        record_path: ".osorganic.toml",
        record: b"version = 2\n",
        template_commit: template,
        message: "osorganic: update to 2",
        signature: &signature,
    };
    write::leave_conflicts(
        &child.repo,
        &outcome,
        &finish,
        write::prepare(&child.repo, &outcome, &finish).unwrap(),
    )
    .unwrap();
    std::fs::write(child.dir.path().join("a.txt"), "resolved\n").unwrap();
    child.git(&["add", "a.txt"]);
    child.git(&["commit", "--no-edit"]);
    assert_eq!(
        child.git(&["rev-parse", "HEAD^2"]).trim(),
        template.to_string()
    );
    assert_eq!(child.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_clean_update_is_a_merge_commit_with_a_clean_tree() {
    let (child, template) = Child::new(
        &[("a.txt", LINES), ("gone.txt", b"g\n")],
        &[
            ("a.txt", b"ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n"),
            ("gone.txt", b"g\n"),
        ],
        &[
            ("a.txt", b"one\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n"),
            ("new/c.sh*", b"c\n"),
        ],
    );
    let outcome = three_way(&child.repo, &child.trees(template), &Labels::new("1", "2")).unwrap();
    let signature = git2::Signature::now("Test", "test@example.com").unwrap();
    let finish = write::Finish {
        record_path: ".osorganic.toml",
        record: b"version = 2\n",
        template_commit: template,
        message: "osorganic: update to 2",
        signature: &signature,
    };
    write::commit_merge(
        &child.repo,
        &outcome,
        &finish,
        write::prepare(&child.repo, &outcome, &finish).unwrap(),
    )
    .unwrap();
    assert_eq!(child.git(&["status", "--porcelain"]), "");
    assert_eq!(
        child.git(&["rev-parse", "HEAD^2"]).trim(),
        template.to_string()
    );
    assert_eq!(
        child.read("a.txt"),
        b"ONE\ntwo\nthree\nfour\nfive\nsix\nSEVEN\n"
    );
    assert!(!child.dir.path().join("gone.txt").exists());
    assert_eq!(
        child.git(&["ls-files", "-s", "new/c.sh"]).split(' ').next(),
        Some("100755")
    );
}

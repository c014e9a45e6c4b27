//! An update killed at any moment leaves the child untouched, or an unfinished update that `--abort` restores byte
//! for byte; a rerun then finishes it.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::update_env::{UpdateEnv, text};

const FILES: usize = 1500;

fn files(version: &str) -> Vec<(String, Vec<u8>)> {
    (0..FILES)
        .map(|index| {
            let path = format!("pkg{}/file{index}.txt", index % 20);
            (
                path,
                format!("file {index}\nversion {version}\n").into_bytes(),
            )
        })
        .collect()
}

/// Every file of the working tree (outside `.git`), by path.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                folders.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn update_killed_at_any_moment_is_undone_by_abort_and_finished_by_a_rerun() {
    let env = UpdateEnv::new();
    let v1 = files("1");
    let v1_refs: Vec<(&str, &[u8])> = v1.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    env.template("1.0.0", "", &v1_refs).spawn(&[]);
    let v2 = files("2");
    let v2_refs: Vec<(&str, &[u8])> = v2.iter().map(|(p, c)| (p.as_str(), c.as_slice())).collect();
    env.template("2.0.0", "", &v2_refs);
    let child = env.child_dir();
    let before = snapshot(&child);
    let head = env.head();
    let template_ref = env.git(&["rev-parse", "refs/osorganic/template"]);
    for delay in [0, 5, 20, 50, 100, 150, 200, 250, 300, 350, 600] {
        let mut running = env
            .osorganic_process(&child)
            .args(["update", "--yes"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = running.kill();
        let _ = running.wait();
        if child.join(".git/MERGE_HEAD").exists() {
            let output = env.update(&["--abort"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "after {delay} ms: {}",
                text(&output.stderr)
            );
        } else if env.head() != head {
            // It finished before the kill: a clean, committed update.
            assert_eq!(env.status(), "", "after {delay} ms");
            assert_eq!(env.read("pkg0/file0.txt"), "file 0\nversion 2\n");
            env.git(&["reset", "--quiet", "--hard", &head]);
            env.git(&["update-ref", "refs/osorganic/template", template_ref.trim()]);
        }
        assert_eq!(env.head(), head, "after {delay} ms");
        assert!(
            snapshot(&child) == before,
            "after {delay} ms the files differ from before"
        );
        assert_eq!(env.status(), "", "after {delay} ms");
    }
    // A rerun after the kills finishes the update.
    env.update_expecting(&["--yes"], 0);
    assert_eq!(env.read("pkg19/file1499.txt"), "file 1499\nversion 2\n");
    assert_eq!(env.status(), "");
}

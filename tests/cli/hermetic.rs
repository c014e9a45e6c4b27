//! No test runs the binary in the repository root: after `osorganic spawn demo` there, a test spawning `demo` in
//! its current folder would fail, and a test's own spawn would leave a folder in the user's clone.

use std::path::Path;

/// How the test sources start the binary.
const BINARY_STARTS: [&str; 3] = ["cargo_bin(", "cargo_bin!(", "CARGO_BIN_EXE_osorganic"];

/// How many lines after a start the folder must be named.
const LINES_TO_THE_FOLDER: usize = 4;

/// A start of the binary names its folder when it goes through `TestEnv::command(program, folder)`, sets
/// `current_dir` within a few lines, or only takes the binary's path (to put it on a `PATH`).
fn names_its_folder(lines: &[&str], index: usize) -> bool {
    let line = lines[index];
    if line.contains(".command(") || line.contains("PathBuf::from(") {
        return true;
    }
    lines[index..]
        .iter()
        .take(LINES_TO_THE_FOLDER + 1)
        .any(|line| line.contains("current_dir"))
}

#[test]
fn every_run_of_the_binary_names_a_temporary_folder() {
    let tests_folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut unplaced = Vec::new();
    for entry in std::fs::read_dir(&tests_folder).unwrap() {
        let path = entry.unwrap().path();
        let is_rust_source = path.extension().is_some_and(|extension| extension == "rs");
        if !is_rust_source || path.file_name().is_some_and(|name| name == "hermetic.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (index, line) in lines.iter().enumerate() {
            let starts_the_binary = BINARY_STARTS.iter().any(|start| line.contains(start));
            if starts_the_binary && !names_its_folder(&lines, index) {
                unplaced.push(format!("{}:{}: {}", path.display(), index + 1, line.trim()));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "these runs of osorganic would run in the repository root; use `TestEnv::osorganic()` or \
         `TestEnv::command(..., &env.work())`:\n{}",
        unplaced.join("\n")
    );
}

#[test]
fn the_test_environment_runs_in_a_temporary_folder() {
    let env = crate::support::TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let work = env.work().canonicalize().unwrap();
    assert!(!work.starts_with(&root), "{}", work.display());
    // A spawn with the README's own command lands in the work folder, not in the clone.
    env.spawn(&["demo", "--yes"]).success();
    assert!(env.path("demo/.osorganic.toml").is_file());
}

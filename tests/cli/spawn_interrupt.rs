//! Ctrl-C during a spawn leaves either the finished child or nothing at all: never a half-written folder, never the
//! hidden staging folder.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TestEnv;

const FILES: usize = 30_000;

/// A folder template of many small files, so that writing them takes long enough to be interrupted.
fn large_template(env: &TestEnv) -> String {
    let mut files = vec![(
        "template.toml".to_string(),
        "[template]\nname = \"large\"\nversion = \"1.0.0\"\n".to_string(),
    )];
    for index in 0..FILES {
        files.push((
            format!("d{}/f{index}.txt", index % 100),
            format!("file {index}\n"),
        ));
    }
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    env.template("large", &borrowed)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn ctrl_c_during_spawn_leaves_the_whole_child_or_nothing() {
    let env = TestEnv::new();
    let template = large_template(&env);
    let mut interrupted_runs = 0;
    for (attempt, delay_ms) in [300u64, 700, 1200, 2000].into_iter().enumerate() {
        let name = format!("big{attempt}");
        let mut child = env
            .command(env!("CARGO_BIN_EXE_osorganic"), &env.work())
            .args(["spawn", &name, "--yes", "--template", &template])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("osorganic starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let started = Instant::now();
        let status = child.wait().expect("osorganic ends");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the spawn did not stop"
        );

        let leftovers: Vec<String> = env
            .work_entries()
            .into_iter()
            .filter(|entry| entry.starts_with(".osorganic-spawn-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "staging folders left behind: {leftovers:?}"
        );
        let destination = env.path(&name);
        if status.success() {
            // Finished before the signal: the child is complete and committed.
            assert!(destination.join(".osorganic.toml").is_file());
            assert!(destination.join("d99/f29999.txt").is_file());
            assert_eq!(env.git(&destination, &["status", "--porcelain"]), "");
        } else {
            interrupted_runs += 1;
            assert!(
                !destination.exists(),
                "an interrupted spawn left `{name}` behind"
            );
        }
    }
    assert!(
        interrupted_runs > 0,
        "no run was interrupted: the test proved nothing"
    );
}

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

/// Ctrl-C in a choice menu (which hides the cursor) ends the spawn with the cursor shown again and nothing written.
/// The prompts need a terminal: `script` (util-linux) gives the spawn a pseudo-terminal and passes our keys to it.
#[test]
fn ctrl_c_in_a_choice_menu_shows_the_cursor_again() {
    use std::io::Write;
    const HIDE_CURSOR: &str = "\x1b[?25l";
    const SHOW_CURSOR: &str = "\x1b[?25h";
    let env = TestEnv::new();
    // Only the binary's path: `script` runs it, in the work folder.
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_osorganic"));
    let command = format!("{} spawn demo", binary.display());
    let mut script = env
        .command("script", &env.work())
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            &command,
            "/dev/null",
        ])
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs");
    let mut keys = script.stdin.take().unwrap();
    let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let screen = std::sync::Arc::clone(&screen);
        let mut stdout = script.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stdout.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        })
    };
    let shown = |text: &str| String::from_utf8_lossy(&screen.lock().unwrap()).contains(text);
    // Accept the first question's default; the second is the `domain` choice menu: Ctrl-C once it is shown.
    keys.write_all(b"\r").unwrap();
    keys.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !shown(HIDE_CURSOR) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    keys.write_all(b"\x03").unwrap();
    keys.flush().unwrap();
    let status = script.wait().unwrap();
    drop(keys);
    reader.join().unwrap();
    let screen = String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();

    let hidden_at = screen
        .rfind(HIDE_CURSOR)
        .unwrap_or_else(|| panic!("the choice menu never hid the cursor: {screen:?}"));
    assert!(
        screen[hidden_at..].contains(SHOW_CURSOR),
        "the cursor is still hidden after Ctrl-C: {screen:?}"
    );
    assert_ne!(status.code(), Some(0), "{screen:?}");
    assert!(env.work_entries().is_empty(), "{:?}", env.work_entries());
}

//! `UpdateEnv`: a folder template that evolves version by version, a child spawned from it, and git around them.
//! It is a layer over the one harness, `TestEnv` (its hermetic temporary folder and environment), with a pinned git
//! identity.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use crate::support::TestEnv;

/// Seven numbered lines: room for changes on different lines.
pub const LINES: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

pub struct UpdateEnv {
    env: TestEnv,
}

impl UpdateEnv {
    pub fn new() -> Self {
        Self {
            env: TestEnv::new().with_git_identity("Test", "test@example.com"),
        }
    }

    pub fn template_dir(&self) -> PathBuf {
        self.env.path("template")
    }

    pub fn child_dir(&self) -> PathBuf {
        self.env.path("child")
    }

    /// Replaces the template folder with this version: `questions` is TOML under `[questions]`, files are
    /// (path, bytes); a path ending in `*` is executable.
    pub fn template(&self, version: &str, questions: &str, files: &[(&str, &[u8])]) -> &Self {
        let dir = self.template_dir();
        if dir.exists() {
            fs::remove_dir_all(&dir).unwrap();
        }
        fs::create_dir_all(&dir).unwrap();
        let manifest = format!(
            "[template]\nname = \"test-template\"\nversion = \"{version}\"\n\n{questions}\n"
        );
        fs::write(dir.join("template.toml"), manifest).unwrap();
        for (path, content) in files {
            let (path, executable) = match path.strip_suffix('*') {
                Some(path) => (path, true),
                None => (*path, false),
            };
            let target = dir.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(&target, content).unwrap();
            if executable {
                set_executable(&target);
            }
        }
        self
    }

    /// `osorganic spawn child --yes --template <folder>` plus the given arguments, in the test's folder.
    pub fn spawn(&self, extra: &[&str]) -> &Self {
        let output = self
            .osorganic(&self.env.work())
            .args(["spawn", "child", "--yes", "--template"])
            .arg(self.template_dir())
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "spawn failed: {}",
            text(&output.stderr)
        );
        self
    }

    /// `osorganic update` in the child; returns the whole output.
    pub fn update(&self, args: &[&str]) -> Output {
        self.osorganic(&self.child_dir())
            .arg("update")
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `osorganic update` and checks its exit code, returning stderr.
    pub fn update_expecting(&self, args: &[&str], code: i32) -> String {
        let output = self.update(args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "update {args:?}\nstdout: {}\nstderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stderr)
    }

    pub fn osorganic(&self, dir: &Path) -> Command {
        let mut command = self.env.osorganic();
        command.current_dir(dir);
        command
    }

    /// The built `osorganic` as a plain process, to start and stop at will.
    pub fn osorganic_process(&self, dir: &Path) -> std::process::Command {
        let binary = assert_cmd::cargo::cargo_bin!("osorganic");
        let mut command = self.env.command(&binary.to_string_lossy(), dir);
        command
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    /// git in the child; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.child_dir(), args)
    }

    /// git in `dir`, with the harness's environment; panics on failure; returns stdout as it is.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let output = self.env.command("git", dir).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> &Self {
        let target = self.child_dir().join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, content).unwrap();
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        fs::remove_file(self.child_dir().join(path)).unwrap();
        self
    }

    pub fn read(&self, path: &str) -> String {
        text(&self.read_bytes(path))
    }

    pub fn read_bytes(&self, path: &str) -> Vec<u8> {
        fs::read(self.child_dir().join(path))
            .unwrap_or_else(|error| panic!("cannot read `{path}`: {error}"))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.child_dir().join(path).exists()
    }

    /// Commits every change in the child.
    pub fn commit(&self, message: &str) -> &Self {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self
    }

    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain"])
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) {}

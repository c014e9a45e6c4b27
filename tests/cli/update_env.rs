//! `UpdateEnv`: a folder template that evolves version by version, a child spawned from it, and git around them,
//! all in one temporary folder with a pinned git identity and no global git configuration.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// Seven numbered lines: room for changes on different lines.
pub const LINES: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";

pub struct UpdateEnv {
    root: tempfile::TempDir,
}

impl UpdateEnv {
    pub fn new() -> Self {
        Self {
            root: tempfile::tempdir().unwrap(),
        }
    }

    pub fn template_dir(&self) -> PathBuf {
        self.root.path().join("template")
    }

    pub fn child_dir(&self) -> PathBuf {
        self.root.path().join("child")
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
            .osorganic(self.root.path())
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
        let mut command = Command::cargo_bin("osorganic").unwrap();
        command.current_dir(dir);
        self.hermetic(&mut command);
        command
    }

    /// The built `osorganic` as a plain process, to start and stop at will.
    pub fn osorganic_process(&self, dir: &Path) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("osorganic"));
        command
            .current_dir(dir)
            .env("HOME", self.root.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    fn hermetic(&self, command: &mut Command) {
        command
            .env("HOME", self.root.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
    }

    /// git in the child; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.child_dir(), args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let mut command = Command::new("git");
        self.hermetic(&mut command);
        let output = command.args(args).current_dir(dir).output().unwrap();
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

//! `TestEnv`: a hermetic place to run the built `osorganic`: a temporary work folder as the current directory,
//! HOME and git's global config pointed at an empty folder, no system config, no colour.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use tempfile::TempDir;

pub struct TestEnv {
    root: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("osorganic-test-")
            .tempdir()
            .expect("temporary folder");
        for folder in ["home", "work", "templates"] {
            std::fs::create_dir_all(root.path().join(folder)).expect("test folder");
        }
        Self { root }
    }

    /// The current directory of every command.
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// A path inside the work folder.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.work().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|error| panic!("cannot read `{relative}`: {error}"))
    }

    /// Writes a file inside the work folder.
    pub fn write(&self, relative: &str, text: &str) -> &Self {
        write_file(&self.work(), relative, text);
        self
    }

    /// Writes a git identity into the (otherwise empty) global git config.
    pub fn with_git_identity(self, name: &str, email: &str) -> Self {
        let config = format!("[user]\n\tname = {name}\n\temail = {email}\n");
        std::fs::write(self.home().join(".gitconfig"), config).expect("git config");
        self
    }

    /// Writes a small template folder outside the work folder and returns its path.
    pub fn template(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let folder = self.root.path().join("templates").join(name);
        for (path, text) in files {
            write_file(&folder, path, text);
        }
        folder
    }

    /// The built `osorganic`, run in the work folder with the hermetic environment.
    pub fn osorganic(&self) -> Command {
        let mut command = Command::cargo_bin("osorganic").expect("the osorganic binary is built");
        self.hermetic(command.current_dir(self.work()));
        command
    }

    /// `osorganic spawn ARGS...`, run to completion.
    pub fn spawn(&self, args: &[&str]) -> Assert {
        self.osorganic().arg("spawn").args(args).assert()
    }

    /// Runs git in `folder` with the hermetic environment; panics when it fails; returns trimmed stdout.
    pub fn git(&self, folder: &Path, args: &[&str]) -> String {
        let mut command = StdCommand::new("git");
        command.current_dir(folder).args(args);
        self.hermetic_std(&mut command);
        let output = command.output().expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A command for any program, run in `folder` with the hermetic environment.
    pub fn command(&self, program: &str, folder: &Path) -> StdCommand {
        let mut command = StdCommand::new(program);
        command.current_dir(folder);
        self.hermetic_std(&mut command);
        command
    }

    /// Names of the entries of the work folder, sorted.
    pub fn work_entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.work())
            .expect("work folder")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn hermetic(&self, command: &mut Command) {
        for (key, value) in self.env_vars() {
            command.env(key, value);
        }
        for key in REMOVED_VARS {
            command.env_remove(key);
        }
    }

    fn hermetic_std(&self, command: &mut StdCommand) {
        for (key, value) in self.env_vars() {
            command.env(key, value);
        }
        for key in REMOVED_VARS {
            command.env_remove(key);
        }
    }

    fn env_vars(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("HOME", self.home()),
            ("XDG_CONFIG_HOME", self.home().join(".config")),
            ("GIT_CONFIG_GLOBAL", self.home().join(".gitconfig")),
            ("GIT_CONFIG_NOSYSTEM", PathBuf::from("1")),
            ("NO_COLOR", PathBuf::from("1")),
        ]
    }
}

const REMOVED_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "CLICOLOR_FORCE",
];

fn write_file(root: &Path, relative: &str, text: &str) {
    let target = root.join(relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).expect("parent folder");
    }
    std::fs::write(&target, text).expect("test file");
}

/// Standard output of a finished command as text.
pub fn stdout_of(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

/// Standard error of a finished command as text.
pub fn stderr_of(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

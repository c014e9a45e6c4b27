//! Drives children from the outside: build the real binary, spawn a child with it, and run a child's own
//! Python checks (`ruff check`, `ruff format --check`, `pytest`) in a shared virtualenv.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::project_root;

/// The `osorganic` binary to drive: `$OSORGANIC_BIN` when set (already built), else a fresh build.
pub fn osorganic_binary() -> Result<PathBuf> {
    match std::env::var_os("OSORGANIC_BIN") {
        Some(binary) => Ok(PathBuf::from(binary)),
        None => build_osorganic(),
    }
}

/// Builds the `osorganic` binary as shipped (templates embedded) and returns its path.
pub fn build_osorganic() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run_step(
        "build osorganic",
        Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--package",
                "osorganic",
                "--bin",
                "osorganic",
            ])
            .current_dir(project_root()),
    )?;
    let binary = target_dir()
        .join("debug")
        .join(format!("osorganic{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!("`{}` was not produced by the build", binary.display());
    }
    Ok(binary)
}

/// Where cargo puts its output for this workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}

/// Spawns a child named `name` inside `parent` from `template` (`embedded` or a folder), answering with `defines`.
pub fn spawn_child(
    osorganic: &Path,
    parent: &Path,
    name: &str,
    template: &str,
    defines: &[String],
) -> Result<PathBuf> {
    let mut command = Command::new(osorganic);
    command
        .args(["spawn", name, "--yes", "--template", template])
        .current_dir(parent)
        .env("NO_COLOR", "1");
    for define in defines {
        command.args(["--define", define]);
    }
    run_captured(&format!("spawn {name} {}", defines.join(" ")), &mut command)?;
    Ok(parent.join(name))
}

/// `osorganic doctor --offline` on a child, with every variable of its `.env.example` given a plausible value:
/// any error fails the step.
pub fn doctor_child(osorganic: &Path, copy: &Path, scratch: &Path, label: &str) -> Result<()> {
    let env_file = scratch.join("doctor.env");
    std::fs::write(
        &env_file,
        plausible_environment(&copy.join(".env.example"))?,
    )?;
    run_captured(
        label,
        Command::new(osorganic)
            .args(["doctor", "--offline", "--path"])
            .arg(copy)
            .arg("--env-file")
            .arg(&env_file)
            .env("NO_COLOR", "1"),
    )?;
    Ok(())
}

/// A `.env` for doctor: every variable of `.env.example`, none empty; secrets long enough.
fn plausible_environment(env_example: &Path) -> Result<String> {
    let text = std::fs::read_to_string(env_example)
        .with_context(|| format!("could not read `{}`", env_example.display()))?;
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        let Some((key, example)) = line.split_once('=') else {
            continue;
        };
        if line.starts_with('#') || key.is_empty() {
            continue;
        }
        let value = match key {
            "DATABASE_URL" => {
                "postgresql://postgres.validation:validation@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
            }
            "LLM_PROVIDER" => "offline",
            "GITHUB_REPOSITORY" => "acme/test-child",
            key if key.contains("SECRET") || key.contains("TOKEN") || key.contains("KEY") => {
                "validation-secret-0123456789abcdef0123456789abcdef"
            }
            _ if !example.is_empty() => example,
            _ => "validation",
        };
        lines.push(format!("{key}={value}"));
    }
    Ok(lines.join("\n") + "\n")
}

/// A Python virtualenv kept under the target folder and shared by every child checked in one run.
pub struct PythonEnv {
    root: PathBuf,
}

impl PythonEnv {
    /// Creates the virtualenv if needed and installs `requirements` (a child's `requirements-dev.txt`) into it.
    pub fn prepare(requirements: &Path) -> Result<Self> {
        let root = target_dir().join("xtask").join("venv");
        if !root.join("bin").join("python").is_file() {
            run_captured(
                "create virtualenv",
                Command::new("python3").arg("-m").arg("venv").arg(&root),
            )?;
        }
        let env = Self { root };
        run_captured(
            "install child requirements",
            env.command("pip")
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(requirements),
        )?;
        Ok(env)
    }

    /// A command for an executable of the virtualenv (`pytest`, `ruff`, `pip`).
    pub fn command(&self, executable: &str) -> Command {
        let mut command = Command::new(self.root.join("bin").join(executable));
        command
            .env("VIRTUAL_ENV", &self.root)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// The child's lint: `ruff check` and `ruff format --check`.
    pub fn lint_child(&self, child: &Path, label: &str) -> Result<()> {
        run_captured(
            &format!("{label}: ruff check"),
            self.command("ruff")
                .args(["check", "--no-cache", "."])
                .current_dir(child),
        )?;
        run_captured(
            &format!("{label}: ruff format --check"),
            self.command("ruff")
                .args(["format", "--check", "--no-cache", "."])
                .current_dir(child),
        )?;
        Ok(())
    }

    /// Runs the child's tests, all of them when `tests` is empty, else those files only (PostgreSQL tests
    /// included: CI=true turns a missing server into a failure); returns how many tests passed.
    pub fn pytest_child(&self, child: &Path, label: &str, tests: &[&str]) -> Result<usize> {
        let output = run_captured(
            format!("{label}: pytest {}", tests.join(" ")).trim_end(),
            self.command("pytest")
                .args(["-q", "-p", "no:cacheprovider"])
                .args(tests)
                .env("CI", "true")
                .current_dir(child),
        )?;
        let passed = passed_count(&output)
            .with_context(|| format!("{label}: pytest printed no `N passed` summary"))?;
        eprintln!("    {passed} passed");
        Ok(passed)
    }
}

/// The `N passed` of pytest's closing summary line.
fn passed_count(output: &str) -> Option<usize> {
    let summary = output.lines().rev().find(|line| line.contains(" passed"))?;
    let words: Vec<&str> = summary.split_whitespace().collect();
    let position = words
        .iter()
        .position(|word| word.trim_end_matches(',') == "passed")?;
    words.get(position.checked_sub(1)?)?.parse().ok()
}

/// Runs one step with its output captured: a short line when it passes, its whole output (the last lines of a
/// long one) in the error when it fails. Returns what it printed.
pub fn run_captured(name: &str, command: &mut Command) -> Result<String> {
    eprintln!("==> {name}");
    let started = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("could not start `{name}` ({command:?})"))?;
    let seconds = started.elapsed().as_secs_f64();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        let lines: Vec<&str> = printed.lines().collect();
        let tail = lines[lines.len().saturating_sub(OUTPUT_LINES_ON_FAILURE)..].join("\n");
        bail!(
            "step `{name}` failed after {seconds:.1}s ({})\n--- its output ---\n{tail}",
            output.status
        );
    }
    eprintln!("    ok in {seconds:.1}s");
    Ok(printed)
}

/// How much of a failed step's output the error carries.
const OUTPUT_LINES_ON_FAILURE: usize = 200;

/// Runs one step with the terminal as its output (the cargo steps, whose own report is the point), printing its
/// name and duration; a failure names the step.
pub fn run_step(name: &str, command: &mut Command) -> Result<()> {
    eprintln!("==> {name}");
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("could not start `{name}` ({command:?})"))?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("step `{name}` failed after {seconds:.1}s ({status})");
    }
    eprintln!("    ok in {seconds:.1}s");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::passed_count;

    #[test]
    fn pytest_summary_gives_the_passed_count() {
        assert_eq!(
            passed_count("....\n78 passed, 1 warning in 17.96s\n"),
            Some(78)
        );
        assert_eq!(passed_count("== 5 failed, 70 passed in 3.1s =="), Some(70));
        assert_eq!(passed_count("no tests ran in 0.01s"), None);
    }
}

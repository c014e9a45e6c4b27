//! `cargo xtask validate-test-child [--write]`: proves the current template on a scratch copy of `test-child/`
//! before it ships: update (no conflict), doctor (no error), every preset spawns, and the Python checks pass:
//! ruff everywhere, the whole suite once on the copy, the preset-dependent tests on each preset.
//!
//! `test-child/` has no git history inside this repository. Its `.osorganic.toml` records, as `[template] commit`,
//! the project commit whose `templates/` it was last rendered from. The base of the update is rebuilt by spawning
//! from this repository at that commit with the recorded answers; the committed `test-child/` is laid over it as
//! the child's own commit, and `osorganic update` merges the current template into it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::child::{PythonEnv, doctor_child, osorganic_binary, run_captured, spawn_child};
use crate::project_root;
use crate::tree_copy::mirror_child_files;

/// The template under test: the one embedded in the freshly built binary, or a folder (a copy of `templates/`).
#[derive(Debug, Clone)]
pub enum TemplateUnderTest {
    Embedded,
    Folder(PathBuf),
}

impl TemplateUnderTest {
    fn source_arg(&self) -> String {
        match self {
            Self::Embedded => "embedded".to_string(),
            Self::Folder(path) => path.display().to_string(),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        match self {
            Self::Embedded => project_root().join("templates/child-template/template.toml"),
            Self::Folder(path) => path.join("template.toml"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub template: TemplateUnderTest,
    /// The committed child to validate (`test-child/`).
    pub test_child: PathBuf,
    /// Apply the update to `test-child/` itself and record the project commit.
    pub write: bool,
}

impl ValidateOptions {
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self {
            template: TemplateUnderTest::Embedded,
            test_child: project_root().join("test-child"),
            write: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--write" => options.write = true,
                "--template" => {
                    let folder = args
                        .next()
                        .context("`--template` needs a folder holding template.toml")?;
                    options.template = TemplateUnderTest::Folder(PathBuf::from(folder));
                }
                other => {
                    bail!("unknown argument `{other}` (expected `--write` or `--template DIR`)")
                }
            }
        }
        Ok(options)
    }
}

pub fn validate_test_child(options: &ValidateOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let osorganic = osorganic_binary()?;
    let scratch = tempfile::Builder::new()
        .prefix("osorganic-validate-")
        .tempdir()
        .context("could not create a scratch folder")?;
    let record = TestChildRecord::read(&options.test_child)?;
    let copy = rebuild_with_history(&osorganic, &record, &options.test_child, scratch.path())?;
    let conflicts = update_copy(&osorganic, &copy, &options.template, scratch.path())?;
    if !conflicts.is_empty() {
        return Err(conflict_failure(options, &copy, &conflicts));
    }
    // Step 2: doctor on the updated copy.
    doctor_child(
        &osorganic,
        &copy,
        scratch.path(),
        "doctor on the updated copy",
    )?;
    let presets = spawn_every_preset(&osorganic, &options.template, scratch.path())?;
    let python = PythonEnv::prepare(&copy.join("requirements-dev.txt"))?;
    let python_tests = check_python(&python, &copy, &presets)?;
    if options.write {
        write_back(&copy, &options.test_child)?;
    }
    eprintln!(
        "validate-test-child: passed in {:.1}s{}",
        started.elapsed().as_secs_f64(),
        if options.write {
            " (test-child/ updated: review and commit it)"
        } else {
            ""
        }
    );
    // pytest's own counts, summed, with where each ran.
    println!("{}", python_tests.summary());
    Ok(())
}

/// The tests that depend on the domain preset: the agents' specialisation and the packaging. The runtime package
/// and the rest of its tests are the same bytes in every preset, so they run once, on the copy.
pub const PRESET_TESTS: [&str; 2] = ["tests/test_agents.py", "tests/test_packaging.py"];

/// How many Python tests passed where: the copy ran its whole suite, each preset [`PRESET_TESTS`].
#[derive(Debug, Default, PartialEq)]
pub struct PythonTests {
    pub copy: usize,
    pub presets: Vec<(String, usize)>,
}

impl PythonTests {
    pub fn summary(&self) -> String {
        let preset_total: usize = self.presets.iter().map(|(_, passed)| passed).sum();
        format!(
            "python: {} passed, 0 failed (test-child copy: the whole suite, {}; {} presets: {}, {} in all)",
            self.copy + preset_total,
            self.copy,
            self.presets.len(),
            PRESET_TESTS.join(" "),
            preset_total
        )
    }
}

/// Step 4: ruff (lint and format) everywhere; the whole suite on the copy, the preset-dependent tests on each
/// preset.
fn check_python(python: &PythonEnv, copy: &Path, presets: &[PathBuf]) -> Result<PythonTests> {
    let label = "test-child (updated copy)";
    python.lint_child(copy, label)?;
    let mut tests = PythonTests {
        copy: python.pytest_child(copy, label, &[])?,
        presets: Vec::new(),
    };
    for preset in presets {
        let label = format!("preset {}", file_name(preset));
        python.lint_child(preset, &label)?;
        let passed = python.pytest_child(preset, &label, &PRESET_TESTS)?;
        tests.presets.push((file_name(preset), passed));
    }
    Ok(tests)
}

/// What `test-child/.osorganic.toml` says: the child name, the answers and the project commit of its base.
struct TestChildRecord {
    name: String,
    answers: toml::Table,
    project_commit: String,
}

impl TestChildRecord {
    fn read(test_child: &Path) -> Result<Self> {
        let path = test_child.join(".osorganic.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read `{}`", path.display()))?;
        let record: toml::Table =
            toml::from_str(&text).with_context(|| format!("`{}` is not TOML", path.display()))?;
        let field = |table: &toml::Table, key: &str| {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        };
        let name = field(&record, "name")
            .with_context(|| format!("`{}` has no `name`", path.display()))?;
        let template = record
            .get("template")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        let project_commit = field(&template, "commit").with_context(|| {
            format!(
                "`{}` has no `[template] commit`: it must name the project commit test-child was rendered from \
                 (run `cargo xtask validate-test-child --write` on a clean checkout to record it)",
                path.display()
            )
        })?;
        let answers = record
            .get("answers")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            name,
            answers,
            project_commit,
        })
    }
}

/// Spawns the base from this repository at the recorded commit, then commits the committed `test-child/` over it.
fn rebuild_with_history(
    osorganic: &Path,
    record: &TestChildRecord,
    test_child: &Path,
    scratch: &Path,
) -> Result<PathBuf> {
    let answers_file = scratch.join("test-child-answers.toml");
    std::fs::write(&answers_file, toml::to_string(&record.answers)?)
        .context("could not write the answers file")?;
    let copy = scratch.join(&record.name);
    run_captured(
        &format!(
            "rebuild the base: spawn at project commit {}",
            short(&record.project_commit)
        ),
        Command::new(osorganic)
            .args(["spawn", &record.name, "--yes", "--template"])
            .arg(project_root())
            .args(["--ref", &record.project_commit, "--answers-file"])
            .arg(&answers_file)
            .arg("--dest")
            .arg(&copy)
            .env("NO_COLOR", "1"),
    )?;
    let base = git_output(&copy, &["rev-parse", "refs/osorganic/template"])?;
    mirror_child_files(test_child, &copy)?;
    set_record_base(&copy, &base)?;
    git(&copy, &["add", "--all"])?;
    git(
        &copy,
        &[
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "test-child as committed",
        ],
    )?;
    Ok(copy)
}

/// The copy's record names the rebuilt base, so the update merges from exactly that render.
fn set_record_base(copy: &Path, base: &str) -> Result<()> {
    let path = copy.join(".osorganic.toml");
    let mut record: toml::Table = toml::from_str(&std::fs::read_to_string(&path)?)?;
    let template = record
        .get_mut("template")
        .and_then(toml::Value::as_table_mut)
        .context("the record has no [template] table")?;
    template.insert("base".to_string(), toml::Value::String(base.to_string()));
    std::fs::write(&path, toml::to_string(&record)?)?;
    Ok(())
}

/// Step 1: merge the template under test into the copy; returns the files left in conflict (none when clean).
fn update_copy(
    osorganic: &Path,
    copy: &Path,
    template: &TemplateUnderTest,
    scratch: &Path,
) -> Result<Vec<String>> {
    eprintln!("==> update the copy to the template under test");
    let started = std::time::Instant::now();
    let output = Command::new(osorganic)
        .args([
            "update",
            "--yes",
            "--json",
            "--from",
            &template.source_arg(),
            "--path",
        ])
        .arg(copy)
        .env("NO_COLOR", "1")
        .output()
        .context("could not run `osorganic update`")?;
    let report_path = scratch.join("update.json");
    std::fs::write(&report_path, &output.stdout)?;
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    let files_with = |change: &str| -> Vec<String> {
        report["files"]
            .as_array()
            .map(|files| {
                files
                    .iter()
                    .filter(|file| change.is_empty() || file["change"] == change)
                    .filter_map(|file| file["path"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    match output.status.code() {
        Some(0) => {
            let touched = files_with("");
            if touched.is_empty() {
                eprintln!("    test-child is up to date with the template");
            } else {
                eprintln!(
                    "    the template change touches {} test-child file(s):",
                    touched.len()
                );
                for file in report["files"].as_array().into_iter().flatten() {
                    eprintln!(
                        "      {:<8} {}",
                        file["change"].as_str().unwrap_or("?"),
                        file["path"].as_str().unwrap_or("?")
                    );
                }
            }
            eprintln!("    ok in {:.1}s", started.elapsed().as_secs_f64());
            Ok(Vec::new())
        }
        Some(1) => {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            Ok(files_with("conflict"))
        }
        _ => {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            bail!(
                "`osorganic update` failed on the copy of test-child ({})",
                output.status
            )
        }
    }
}

/// A conflict fails the validation. With `--write` the conflicted copy becomes `test-child/`, markers and all, so
/// the maintainer resolves them there: the next run then finds test-child up to date with this template.
fn conflict_failure(options: &ValidateOptions, copy: &Path, conflicts: &[String]) -> anyhow::Error {
    let files = conflicts.join(", ");
    if !options.write {
        return anyhow::anyhow!(
            "the template change conflicts with test-child's specialisation in: {files}\n\
             hint: `cargo xtask validate-test-child --write` brings the conflicts into test-child/ to resolve"
        );
    }
    match write_back(copy, &options.test_child) {
        Ok(()) => anyhow::anyhow!(
            "the template change conflicts with test-child's specialisation in: {files}\n\
             test-child/ now holds the update with conflict markers in those files: resolve them, run \
             `cargo xtask validate-test-child` again, and commit test-child/"
        ),
        Err(error) => error.context(format!(
            "the template change conflicts with test-child's specialisation in: {files}"
        )),
    }
}

/// Step 3: spawn one child per domain preset, so no preset rots; their checks run after the copy's.
fn spawn_every_preset(
    osorganic: &Path,
    template: &TemplateUnderTest,
    scratch: &Path,
) -> Result<Vec<PathBuf>> {
    let presets_folder = scratch.join("presets");
    std::fs::create_dir_all(&presets_folder)?;
    let mut children = Vec::new();
    for preset in domain_presets(&template.manifest_path())? {
        let name = format!("preset-{preset}");
        let defines = [format!("domain={preset}")];
        let child = spawn_child(
            osorganic,
            &presets_folder,
            &name,
            &template.source_arg(),
            &defines,
        )
        .with_context(|| format!("the `{preset}` preset does not spawn"))?;
        children.push(child);
    }
    Ok(children)
}

/// The `domain` question's choices.
pub fn domain_presets(manifest_path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("could not read `{}`", manifest_path.display()))?;
    let manifest: toml::Table = toml::from_str(&text)
        .with_context(|| format!("`{}` is not valid TOML", manifest_path.display()))?;
    let choices = manifest
        .get("questions")
        .and_then(|questions| questions.get("domain"))
        .and_then(|domain| domain.get("choices"))
        .and_then(toml::Value::as_array)
        .with_context(|| {
            format!(
                "`{}` has no `questions.domain.choices`",
                manifest_path.display()
            )
        })?;
    Ok(choices
        .iter()
        .filter_map(|choice| choice.as_str().map(str::to_string))
        .collect())
}

/// `--write`: the updated copy becomes `test-child/`, its record naming the project commit of the template.
fn write_back(copy: &Path, test_child: &Path) -> Result<()> {
    let dirty = git_output(
        &project_root(),
        &["status", "--porcelain", "--", "templates"],
    )?;
    if !dirty.is_empty() {
        bail!(
            "`templates/` has uncommitted changes: commit the template change first, then run \
             `cargo xtask validate-test-child --write` and commit test-child/ (its record names that commit)"
        );
    }
    let project_commit = git_output(&project_root(), &["rev-parse", "HEAD"])?;
    mirror_child_files(copy, test_child)?;
    let path = test_child.join(".osorganic.toml");
    let text = std::fs::read_to_string(&path)?;
    let mut record: toml::Table = toml::from_str(&text)?;
    if let Some(template) = record
        .get_mut("template")
        .and_then(toml::Value::as_table_mut)
    {
        template.remove("base");
        template.remove("rev");
        template.insert("source".to_string(), "embedded".into());
        template.insert("kind".to_string(), "embedded".into());
        template.insert(
            "commit".to_string(),
            toml::Value::String(project_commit.clone()),
        );
    }
    let header: String = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(&path, header + &toml::to_string(&record)?)?;
    eprintln!(
        "    test-child/ now matches the template of project commit {}",
        short(&project_commit)
    );
    Ok(())
}

fn git(repo: &Path, args: &[&str]) -> Result<()> {
    let status = git_command(repo)
        .args(args)
        .status()
        .with_context(|| format!("could not run git {args:?}"))?;
    if !status.success() {
        bail!("`git {}` failed in `{}`", args.join(" "), repo.display());
    }
    Ok(())
}

fn git_output(repo: &Path, args: &[&str]) -> Result<String> {
    let output = git_command(repo)
        .args(args)
        .output()
        .with_context(|| format!("could not run git {args:?}"))?;
    if !output.status.success() {
        bail!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            repo.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn git_command(repo: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(repo).args([
        "-c",
        "user.name=osorganic xtask",
        "-c",
        "user.email=xtask@osorganic.invalid",
    ]);
    command
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;

//! `cargo xtask upgrade-paths`: every released template version still upgrades to the current one. Each release in
//! `templates/releases.toml` names the commit of this repository that holds it. For each, a child is spawned from
//! this repository at that commit (with test-child's answers), updated to the template embedded in the freshly built
//! binary, and checked like test-child: no conflict, the new version recorded, doctor without error, ruff, and the
//! whole pytest suite.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::child::{PythonEnv, doctor_child, osorganic_binary, run_captured};
use crate::project_root;

/// Where the released versions are listed.
pub const RELEASES_FILE: &str = "templates/releases.toml";
const ANSWERS_FILE: &str = "xtask/test-child.answers.toml";
const MANIFEST: &str = "templates/child-template/template.toml";

/// One released template version and the commit of this repository whose `templates/` is that release.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub version: String,
    pub commit: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleasesFile {
    #[serde(default, rename = "release")]
    releases: Vec<Release>,
}

/// The releases of `text` (a `releases.toml`), oldest first as listed.
pub fn parse_releases(text: &str) -> Result<Vec<Release>> {
    let file: ReleasesFile =
        toml::from_str(text).with_context(|| format!("`{RELEASES_FILE}` is not valid"))?;
    for release in &file.releases {
        let is_commit =
            release.commit.len() == 40 && release.commit.chars().all(|c| c.is_ascii_hexdigit());
        if !is_commit {
            bail!(
                "`{RELEASES_FILE}`: release {} names `{}`, not a full 40-character commit id",
                release.version,
                release.commit
            );
        }
    }
    Ok(file.releases)
}

pub fn upgrade_paths() -> Result<()> {
    let started = std::time::Instant::now();
    let root = project_root();
    let releases = parse_releases(
        &std::fs::read_to_string(root.join(RELEASES_FILE))
            .with_context(|| format!("could not read `{RELEASES_FILE}`"))?,
    )?;
    let current = manifest_version(&std::fs::read_to_string(root.join(MANIFEST))?)?;
    let osorganic = osorganic_binary()?;
    let scratch = tempfile::Builder::new()
        .prefix("osorganic-upgrade-")
        .tempdir()
        .context("could not create a scratch folder")?;
    let mut python: Option<PythonEnv> = None;
    for release in &releases {
        if release.version == current {
            bail!(
                "`{RELEASES_FILE}` lists {current}, the version being developed: bump `version` in `{MANIFEST}` \
                 when a release is recorded"
            );
        }
        check_release_commit(&root, release)?;
        let child = spawn_at_release(&osorganic, release, scratch.path())?;
        update_to_current(&osorganic, &child, release, &current)?;
        doctor_child(
            &osorganic,
            &child,
            scratch.path(),
            &format!("doctor on the child upgraded from {}", release.version),
        )?;
        let env = match python.take() {
            Some(env) => env,
            None => PythonEnv::prepare(&child.join("requirements-dev.txt"))?,
        };
        let label = format!("upgraded from {}", release.version);
        env.lint_child(&child, &label)?;
        env.pytest_child(&child, &label, &[])?;
        python = Some(env);
    }
    eprintln!(
        "upgrade-paths: {} release(s) upgrade to {current} in {:.1}s",
        releases.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `[template] version` of a `template.toml`.
fn manifest_version(text: &str) -> Result<String> {
    let manifest: toml::Table =
        toml::from_str(text).context("the template manifest is not TOML")?;
    manifest
        .get("template")
        .and_then(|template| template.get("version"))
        .and_then(toml::Value::as_str)
        .map(str::to_string)
        .context("the template manifest has no [template] version")
}

/// The commit exists here (a shallow clone lacks it) and its template says the version the release claims.
fn check_release_commit(root: &Path, release: &Release) -> Result<()> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("{}:{MANIFEST}", release.commit)])
        .output()
        .context("could not run git")?;
    if !output.status.success() {
        bail!(
            "release {}: commit {} is not in this clone ({}); fetch the whole history: `git fetch --unshallow`",
            release.version,
            release.commit,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let version = manifest_version(&String::from_utf8_lossy(&output.stdout))?;
    if version != release.version {
        bail!(
            "`{RELEASES_FILE}`: commit {} holds template {version}, not {}",
            release.commit,
            release.version
        );
    }
    Ok(())
}

/// Spawns a child from this repository at the release's commit, with test-child's answers.
fn spawn_at_release(osorganic: &Path, release: &Release, scratch: &Path) -> Result<PathBuf> {
    let child = scratch.join(format!("from-{}", release.version));
    run_captured(
        &format!(
            "spawn at template {} ({})",
            release.version,
            &release.commit[..12]
        ),
        Command::new(osorganic)
            .args(["spawn", "test-child", "--yes", "--template"])
            .arg(project_root())
            .args(["--ref", &release.commit, "--answers-file"])
            .arg(project_root().join(ANSWERS_FILE))
            .arg("--dest")
            .arg(&child)
            .env("NO_COLOR", "1"),
    )?;
    Ok(child)
}

/// `osorganic update --from embedded --yes`: it must finish without conflict and record the current version.
fn update_to_current(
    osorganic: &Path,
    child: &Path,
    release: &Release,
    current: &str,
) -> Result<()> {
    run_captured(
        &format!("update {} -> {current}", release.version),
        Command::new(osorganic)
            .args(["update", "--from", "embedded", "--yes", "--path"])
            .arg(child)
            .env("NO_COLOR", "1"),
    )?;
    let record = std::fs::read_to_string(child.join(".osorganic.toml"))?;
    let record: toml::Table = toml::from_str(&record)?;
    let recorded = record
        .get("template")
        .and_then(|template| template.get("version"))
        .and_then(toml::Value::as_str)
        .unwrap_or_default();
    if recorded != current {
        bail!(
            "after the update from {}, the child records template {recorded}, not {current}",
            release.version
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_releases_file_parses_and_lists_only_older_versions() {
        let text = std::fs::read_to_string(project_root().join(RELEASES_FILE)).unwrap();
        let releases = parse_releases(&text).unwrap();
        assert!(!releases.is_empty());
        let current =
            manifest_version(&std::fs::read_to_string(project_root().join(MANIFEST)).unwrap())
                .unwrap();
        assert!(releases.iter().all(|release| release.version != current));
    }

    #[test]
    fn a_release_must_name_a_full_commit() {
        let error =
            parse_releases("[[release]]\nversion = \"0.1.0\"\ncommit = \"6b7b132\"\n").unwrap_err();
        assert!(
            format!("{error:#}").contains("not a full 40-character commit id"),
            "{error:#}"
        );
    }
}

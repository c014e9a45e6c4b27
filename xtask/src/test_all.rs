//! `cargo xtask test`: every test of the project, in the order a failure is cheapest to find.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::child::{PythonEnv, build_osorganic, run_step, spawn_child};
use crate::project_root;

pub fn test_all() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run_step(
        "cargo test --workspace",
        Command::new(&cargo)
            .args(["test", "--workspace"])
            .current_dir(project_root()),
    )?;
    let osorganic = build_osorganic()?;
    let scratch = tempfile::Builder::new()
        .prefix("osorganic-xtask-")
        .tempdir()
        .context("could not create a scratch folder")?;
    let presets = domain_presets(&project_root().join("templates/child-template/template.toml"))?;
    let mut python: Option<PythonEnv> = None;
    for preset in &presets {
        let name = format!("child-{preset}");
        let child = spawn_child(
            &osorganic,
            scratch.path(),
            &name,
            &[format!("domain={preset}")],
        )?;
        let env = match python.take() {
            Some(env) => env,
            None => PythonEnv::prepare(&child.join("requirements-dev.txt"))?,
        };
        env.check_child(&child, &name)?;
        python = Some(env);
    }
    let test_child = project_root().join("test-child");
    if test_child.join(".osorganic.toml").is_file() {
        let env = PythonEnv::prepare(&test_child.join("requirements-dev.txt"))?;
        env.check_child(&test_child, "test-child")?;
    }
    eprintln!("all tests passed");
    Ok(())
}

/// The `domain` question's choices: one child is spawned and tested for each, so no preset rots.
fn domain_presets(manifest_path: &Path) -> Result<Vec<String>> {
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

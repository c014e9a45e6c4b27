//! GitHub checks: every workflow is YAML with `on` and `jobs`, the CI workflow lints with ruff and
//! tests with pytest, and every secret a workflow reads is documented for the child's owner.

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, Yaml};

use super::check::{Check, Group};
use super::child::Child;

const GROUP: Group = Group::GitHub;
const WORKFLOWS: &str = ".github/workflows";
const CI_WORKFLOWS: [&str; 2] = [".github/workflows/ci.yml", ".github/workflows/ci.yaml"];
/// Where a child's owner learns which secrets to set.
const SECRET_DOCS: [&str; 2] = ["README.md", ".env.example"];

/// What doctor needs from one parsed workflow.
struct Workflow {
    file: String,
    text: String,
    runs: Vec<String>,
    strings: Vec<String>,
}

pub fn checks(child: &Child) -> Vec<Check> {
    let mut checks = Vec::new();
    let files: Vec<&str> = child
        .files_in(WORKFLOWS)
        .filter(|file| file.ends_with(".yml") || file.ends_with(".yaml"))
        .collect();
    if files.is_empty() {
        checks.push(
            Check::error(
                "github.workflows",
                GROUP,
                format!("no workflows in `{WORKFLOWS}`"),
            )
            .file(WORKFLOWS)
            .fix("restore them from the template: `osorganic update`"),
        );
    }
    let mut workflows = Vec::new();
    for file in files {
        match load(child, file) {
            Ok(workflow) => {
                checks.push(Check::ok(
                    "github.workflows",
                    GROUP,
                    format!("`{file}` has `on` and `jobs`"),
                ));
                workflows.push(workflow);
            }
            Err(check) => checks.push(*check),
        }
    }
    checks.push(ci(&workflows));
    checks.extend(documented_secrets(child, &workflows));
    checks
}

fn load(child: &Child, file: &str) -> Result<Workflow, Box<Check>> {
    let problem = |message: String, line: Option<u64>, fix: &str| {
        Box::new(
            Check::error("github.workflows", GROUP, message)
                .file(file)
                .line(line)
                .fix(fix),
        )
    };
    let text = child.read(file).map_err(|problem_kind| {
        problem(
            problem_kind.describe(file),
            None,
            "keep workflows small text files; restore it from git",
        )
    })?;
    let documents = Yaml::load_from_str(&text).map_err(|error| {
        problem(
            format!("`{file}` is not valid YAML: {}", error.info()),
            Some(error.marker().line() as u64),
            "fix the YAML at that line (indentation, a missing `:` or quote)",
        )
    })?;
    let Some(root) = documents.first().filter(|root| root.is_mapping()) else {
        return Err(problem(
            format!("`{file}` is not a YAML mapping"),
            None,
            "start it with `name:`, `on:` and `jobs:`",
        ));
    };
    let missing: Vec<&str> = ["on", "jobs"]
        .into_iter()
        .filter(|key| root.as_mapping_get(key).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(problem(
            format!("`{file}` has no `{}`", missing.join("` or `")),
            None,
            "a workflow needs `on:` (its triggers) and `jobs:`",
        ));
    }
    let mut strings = Vec::new();
    let mut runs = Vec::new();
    collect_strings(root, None, &mut strings, &mut runs);
    Ok(Workflow {
        file: file.to_string(),
        text,
        runs,
        strings,
    })
}

/// Every string in the document, and apart from them the `run:` scripts.
fn collect_strings(
    node: &Yaml,
    key: Option<&str>,
    strings: &mut Vec<String>,
    runs: &mut Vec<String>,
) {
    if let Some(text) = node.as_str() {
        strings.push(text.to_string());
        if key == Some("run") {
            runs.push(text.to_string());
        }
    } else if let Some(sequence) = node.as_vec() {
        for item in sequence {
            collect_strings(item, None, strings, runs);
        }
    } else if let Some(mapping) = node.as_mapping() {
        for (name, value) in mapping {
            collect_strings(value, name.as_str(), strings, runs);
        }
    }
}

/// The CI workflow must lint with ruff and test with pytest.
fn ci(workflows: &[Workflow]) -> Check {
    let Some(workflow) = workflows
        .iter()
        .find(|workflow| CI_WORKFLOWS.contains(&workflow.file.as_str()))
    else {
        return Check::error(
            "github.ci",
            GROUP,
            "no CI workflow (`.github/workflows/ci.yml`)",
        )
        .file(CI_WORKFLOWS[0])
        .fix("restore it from the template: `osorganic update`");
    };
    let script = workflow.runs.join("\n");
    let missing: Vec<&str> = ["ruff", "pytest"]
        .into_iter()
        .filter(|tool| !script.contains(tool))
        .collect();
    if missing.is_empty() {
        Check::ok(
            "github.ci",
            GROUP,
            format!("`{}` runs ruff and pytest", workflow.file),
        )
    } else {
        Check::error(
            "github.ci",
            GROUP,
            format!("`{}` does not run {}", workflow.file, missing.join(" or ")),
        )
        .file(workflow.file.as_str())
        .fix("add steps `run: ruff check .` and `run: pytest`")
    }
}

/// Secrets the workflows read must be named in the README or `.env.example`.
fn documented_secrets(child: &Child, workflows: &[Workflow]) -> Vec<Check> {
    let docs: String = SECRET_DOCS
        .iter()
        .filter_map(|doc| child.read(doc).ok())
        .collect::<Vec<_>>()
        .join("\n");
    // The first workflow and line each secret appears on.
    let mut secrets: BTreeMap<String, (&Workflow, Option<u64>)> = BTreeMap::new();
    for workflow in workflows {
        for text in &workflow.strings {
            for name in secret_references(text) {
                let line = line_of(&workflow.text, &format!("secrets.{name}"));
                secrets.entry(name.to_string()).or_insert((workflow, line));
            }
        }
    }
    // GitHub provides GITHUB_TOKEN itself.
    secrets.remove("GITHUB_TOKEN");
    let mut checks = Vec::new();
    for (name, (workflow, line)) in &secrets {
        if !mentions(&docs, name) {
            checks.push(
                Check::error(
                    "github.secrets",
                    GROUP,
                    format!(
                        "secret `{name}` is used by `{}` but not documented",
                        workflow.file
                    ),
                )
                .file(workflow.file.as_str())
                .line(*line)
                .fix(format!(
                    "describe `{name}` in README.md (workflow secrets) or add it to `.env.example`"
                )),
            );
        }
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "github.secrets",
            GROUP,
            format!("{} workflow secrets documented", secrets.len()),
        ));
    }
    checks
}

/// Names in `secrets.NAME` expressions.
fn secret_references(text: &str) -> Vec<&str> {
    text.match_indices("secrets.")
        .filter(|(start, _)| {
            !text[..*start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
        .filter_map(|(start, found)| {
            let rest = &text[start + found.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

/// `name` appears as a whole word.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + name.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

fn line_of(text: &str, needle: &str) -> Option<u64> {
    let offset = text.find(needle)?;
    Some(text[..offset].matches('\n').count() as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_read_from_expressions() {
        assert_eq!(
            secret_references("${{ secrets.DATABASE_URL }} ${{ secrets.X_1}}"),
            vec!["DATABASE_URL", "X_1"]
        );
        assert!(secret_references("mysecrets.A").is_empty());
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("set `DATABASE_URL` first", "DATABASE_URL"));
        assert!(!mentions("SUPABASE_DATABASE_URL=", "DATABASE_URL"));
    }

    #[test]
    fn on_stays_a_key_and_runs_are_collected() {
        let documents =
            Yaml::load_from_str("on:\n  push:\njobs:\n  test:\n    steps:\n      - run: pytest\n")
                .unwrap();
        let root = &documents[0];
        assert!(root.as_mapping_get("on").is_some());
        let (mut strings, mut runs) = (Vec::new(), Vec::new());
        collect_strings(root, None, &mut strings, &mut runs);
        assert_eq!(runs, vec!["pytest".to_string()]);
    }
}

//! Vercel checks: `vercel.json` parses and Vercel will accept it for this plan, every function,
//! rewrite and cron path names a real function, and the declared Python version is one Vercel runs.

use globset::GlobBuilder;
use serde_json::{Map, Value};

use super::check::Check;
use super::child::Child;

mod layout;
mod paths;

use layout::{GROUP, VERCEL_JSON, line_of, line_of_after};

const PYTHON_VERSION_FILE: &str = ".python-version";

/// Python versions Vercel's Python runtime runs; anything else silently falls back to its default.
const SUPPORTED_PYTHON: &[&str] = &["3.12", "3.13", "3.14"];

pub fn checks(child: &Child) -> Vec<Check> {
    let mut checks = Vec::new();
    match child.read(VERCEL_JSON) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(config)) => {
                checks.push(
                    Check::ok("vercel.json", GROUP, "`vercel.json` parses").file(VERCEL_JSON),
                );
                checks.extend(config_checks(child, &config, &text));
            }
            Ok(_) => checks.push(
                Check::error("vercel.json", GROUP, "`vercel.json` is not a JSON object")
                    .file(VERCEL_JSON)
                    .fix("make the top level an object: `{ ... }`"),
            ),
            Err(error) => checks.push(
                Check::error(
                    "vercel.json",
                    GROUP,
                    format!("`vercel.json` is not valid JSON: {error}"),
                )
                .file(VERCEL_JSON)
                .line(Some(error.line() as u64))
                .fix(
                    "fix the syntax at that line (`python3 -m json.tool vercel.json` shows it too)",
                ),
            ),
        },
        Err(problem) => checks.push(
            Check::error("vercel.json", GROUP, problem.describe(VERCEL_JSON))
                .file(VERCEL_JSON)
                .fix(problem.fix_keeping_your_work(VERCEL_JSON)),
        ),
    }
    checks.push(python_version(child));
    checks
}

fn config_checks(child: &Child, config: &Map<String, Value>, text: &str) -> Vec<Check> {
    let problem = |id, message: String, key: &str, fix: &str| {
        Check::error(id, GROUP, message)
            .file(VERCEL_JSON)
            .line(line_of(text, &format!("\"{key}\"")))
            .fix(fix)
    };
    let mut checks = Vec::new();
    if config.contains_key("builds") && config.contains_key("functions") {
        checks.push(problem(
            "vercel.builds-functions",
            "`builds` and `functions` cannot be used together (Vercel's FUNCTIONS_AND_BUILDS)"
                .into(),
            "builds",
            "remove `builds`; configure functions under `functions`",
        ));
    }
    if config.contains_key("routes") {
        let mixed: Vec<&str> = [
            "rewrites",
            "redirects",
            "headers",
            "cleanUrls",
            "trailingSlash",
        ]
        .into_iter()
        .filter(|key| config.contains_key(*key))
        .collect();
        if !mixed.is_empty() {
            checks.push(problem(
                "vercel.routes-mixed",
                format!("`routes` cannot be used with `{}`", mixed.join("`, `")),
                "routes",
                "replace `routes` with `rewrites`, `redirects` and `headers`",
            ));
        }
    }
    checks.extend(functions(child, config, text));
    checks.extend(secret_references(config, text));
    checks.extend(paths::paths_point_at_functions(child, config, text));
    checks
}

/// Every `functions` pattern matches a file; `maxDuration` fits the plan; `memory` is ignored.
fn functions(child: &Child, config: &Map<String, Value>, text: &str) -> Vec<Check> {
    let Some(functions) = config.get("functions").and_then(Value::as_object) else {
        return Vec::new();
    };
    let plan = child
        .answer("vercel_plan")
        .unwrap_or_else(|| "hobby".to_string());
    let limit = if plan == "pro" { 800 } else { 300 };
    let mut checks = Vec::new();
    for (pattern, settings) in functions {
        let line = line_of(text, &format!("\"{pattern}\""));
        let matcher = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map(|glob| glob.compile_matcher());
        let matches = match &matcher {
            Ok(matcher) => child.files.iter().any(|file| matcher.is_match(file)),
            Err(_) => false,
        };
        if matches {
            checks.push(Check::ok(
                "vercel.functions",
                GROUP,
                format!("`{pattern}` matches a function"),
            ));
        } else {
            checks.push(
                Check::error("vercel.functions", GROUP, format!("functions pattern `{pattern}` matches no file"))
                    .file(VERCEL_JSON)
                    .line(line)
                    .fix("correct the pattern (relative to the child root, e.g. `api/**/*.py`) or remove it"),
            );
        }
        if let Some(duration) = settings.get("maxDuration") {
            match duration.as_f64() {
                Some(seconds) if seconds >= 1.0 && seconds <= f64::from(limit) => checks.push(Check::ok(
                    "vercel.max-duration",
                    GROUP,
                    format!("`{pattern}` maxDuration {seconds} s fits the {plan} plan"),
                )),
                _ => checks.push(
                    Check::error(
                        "vercel.max-duration",
                        GROUP,
                        format!("`{pattern}` maxDuration {duration} is outside 1-{limit} s, the {plan} plan's range"),
                    )
                    .file(VERCEL_JSON)
                    .line(line_of_after(text, &format!("\"{pattern}\""), "\"maxDuration\"").or(line))
                    .fix(format!("set `maxDuration` to at most {limit}")),
                ),
            }
        }
        if settings.get("memory").is_some() {
            checks.push(
                Check::warn(
                    "vercel.memory",
                    GROUP,
                    format!("`{pattern}` sets `memory`, which Fluid compute ignores"),
                )
                .file(VERCEL_JSON)
                .line(line_of_after(text, &format!("\"{pattern}\""), "\"memory\"").or(line))
                .fix(
                    "remove `memory`; choose memory in the project's Functions settings on Vercel",
                ),
            );
        }
    }
    checks
}

/// `@name` values in `env` and `build.env` referred to Vercel secrets, retired in 2024.
fn secret_references(config: &Map<String, Value>, text: &str) -> Vec<Check> {
    let environments = [
        config.get("env"),
        config.get("build").and_then(|build| build.get("env")),
    ];
    let mut checks = Vec::new();
    for (name, value) in environments
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flatten()
    {
        if let Some(reference) = value.as_str().filter(|value| value.starts_with('@')) {
            checks.push(
                Check::error(
                    "vercel.secret-refs",
                    GROUP,
                    format!(
                        "`{name}` refers to secret `{reference}`; Vercel retired secrets in 2024"
                    ),
                )
                .file(VERCEL_JSON)
                .line(line_of(text, reference))
                .fix(format!(
                    "remove it from vercel.json and set it with `vercel env add {name}`"
                )),
            );
        }
    }
    checks
}

/// The version in `.python-version` must be one Vercel runs.
fn python_version(child: &Child) -> Check {
    let declared = match child.read(PYTHON_VERSION_FILE) {
        Ok(text) => text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_string),
        Err(_) => None,
    };
    let Some(declared) = declared else {
        return Check::warn(
            "vercel.python",
            GROUP,
            "no `.python-version`; Vercel will pick its default Python",
        )
        .file(PYTHON_VERSION_FILE)
        .fix("write the version to run, e.g. `echo 3.12 > .python-version`");
    };
    let minor: String = declared.split('.').take(2).collect::<Vec<_>>().join(".");
    if SUPPORTED_PYTHON.contains(&minor.as_str()) {
        Check::ok(
            "vercel.python",
            GROUP,
            format!("Python {declared} runs on Vercel"),
        )
        .file(PYTHON_VERSION_FILE)
    } else {
        Check::error(
            "vercel.python",
            GROUP,
            format!("Python {declared} is not run by Vercel (3.12-3.14); it would silently use another version"),
        )
        .file(PYTHON_VERSION_FILE)
        .line(Some(1))
        .fix("declare a supported version: `echo 3.12 > .python-version`")
    }
}

//! Runtime checks: every variable of `.env.example` is set (values are never printed), the webhook
//! secret is long enough, and `requirements.txt` covers what the deployed code imports.

use std::collections::{BTreeMap, BTreeSet};

use super::check::{Check, Group};
use super::child::Child;
use super::python::{imports, is_provided, is_standard_library, requirements};
use super::settings::{DOT_ENV, Origin, Settings, is_placeholder};

const GROUP: Group = Group::Runtime;
const ENV_EXAMPLE: &str = ".env.example";
const REQUIREMENTS: &str = "requirements.txt";
/// Folders whose Python Vercel deploys (tests and tools are not deployed).
const DEPLOYED_CODE: &[&str] = &["api", "osorganicai", "src"];
/// GitHub webhook secrets shorter than this are guessable; `openssl rand -hex 32` gives 64.
const MIN_WEBHOOK_SECRET: usize = 32;
/// The console signs its session cookies with this; `osorganicai/settings.py` refuses shorter ones.
const MIN_SESSION_SECRET: usize = 32;
/// The console's sign-in: a GitHub OAuth App and the key that signs sessions. All three, or none.
const CONSOLE_SIGN_IN: [&str; 3] = [
    "GITHUB_OAUTH_CLIENT_ID",
    "GITHUB_OAUTH_CLIENT_SECRET",
    "CONSOLE_SESSION_SECRET",
];
/// Addresses of GitHub the runtime calls: the web (sign-in) and the REST API.
const GITHUB_ADDRESSES: [&str; 2] = ["GITHUB_SERVER_URL", "GITHUB_API_URL"];

pub fn checks(child: &Child, settings: &Settings) -> Vec<Check> {
    let environment = settings.values();
    let mut checks = variables(child, settings);
    checks.push(webhook_secret(&environment));
    checks.extend(console_sign_in(&environment));
    checks.extend(requirements_cover_imports(child));
    checks
}

/// A variable `.env.example` names, its example value, and whether its comment calls it optional.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    name: String,
    line: u64,
    optional: bool,
    example: String,
}

/// `NAME=value` lines; a `# NAME=...` line or one whose comment (inline or just above) says
/// "optional" is optional.
fn example_variables(text: &str) -> Vec<Variable> {
    let mut variables = Vec::new();
    let mut comment_says_optional = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            comment_says_optional = false;
            continue;
        }
        let (commented, body) = match line.strip_prefix('#') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let body = body.strip_prefix("export ").unwrap_or(body);
        let assignment = body
            .split_once('=')
            .map(|(name, value)| (name.trim(), value.trim()))
            .filter(|(name, _)| is_variable_name(name));
        match assignment {
            Some((name, example)) => {
                let inline_optional = body.to_lowercase().contains("optional");
                variables.push(Variable {
                    name: name.to_string(),
                    line: index as u64 + 1,
                    optional: commented || comment_says_optional || inline_optional,
                    example: example.trim_matches(['"', '\'']).to_string(),
                });
                comment_says_optional = false;
            }
            None if commented => {
                comment_says_optional = body.to_lowercase().contains("optional");
            }
            None => {}
        }
    }
    variables
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Variables the runtime reads with a default or only for some set-ups (see `osorganicai/settings.py`).
const OPTIONAL: &[&str] = &[
    "GITHUB_WEBHOOK_SECRET_PREVIOUS",
    "GITHUB_API_URL",
    "LLM_MODEL",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
];
/// A GitHub App's three variables stand in for `GITHUB_TOKEN`.
const GITHUB_APP: [&str; 3] = [
    "GITHUB_APP_ID",
    "GITHUB_APP_PRIVATE_KEY",
    "GITHUB_APP_INSTALLATION_ID",
];

fn variables(child: &Child, settings: &Settings) -> Vec<Check> {
    let environment = &settings.values();
    let text = match child.read(ENV_EXAMPLE) {
        Ok(text) => text,
        Err(problem) => {
            return vec![
                Check::error("runtime.env", GROUP, problem.describe(ENV_EXAMPLE))
                    .file(ENV_EXAMPLE)
                    .fix(problem.fix_keeping_your_work(ENV_EXAMPLE)),
            ];
        }
    };
    let is_set = |name: &str| {
        environment
            .get(name)
            .is_some_and(|value| !value.trim().is_empty())
    };
    let provider = environment
        .get("LLM_PROVIDER")
        .filter(|provider| !provider.trim().is_empty())
        .cloned()
        .or_else(|| child.answer("llm_provider"))
        .unwrap_or_else(|| "openai".to_string())
        .to_lowercase();
    let token_set = is_set("GITHUB_TOKEN");
    let app_started = GITHUB_APP.iter().any(|name| is_set(name));
    let mut checks = Vec::new();
    let mut seen = BTreeSet::new();
    let mut optional_unset = 0;
    for variable in example_variables(&text) {
        if !seen.insert(variable.name.clone()) {
            continue;
        }
        if is_set(&variable.name) {
            checks.extend(placeholder(&variable, settings));
            continue;
        }
        let name = variable.name.as_str();
        let needed = match name {
            "GITHUB_TOKEN" => !app_started,
            _ if GITHUB_APP.contains(&name) => app_started && !token_set,
            "OPENAI_API_KEY" => provider == "openai" && !is_set("OPENAI_BASE_URL"),
            "ANTHROPIC_API_KEY" => provider == "anthropic",
            _ => !variable.optional && !OPTIONAL.contains(&name),
        };
        if !needed {
            optional_unset += 1;
            continue;
        }
        let message = if name == "GITHUB_TOKEN" {
            "`GITHUB_TOKEN` is not set (nor a GitHub App's `GITHUB_APP_*` variables)".to_string()
        } else {
            format!("`{name}` is not set")
        };
        checks.push(
            Check::error("runtime.env", GROUP, message)
                .file(ENV_EXAMPLE)
                .line(Some(variable.line))
                .fix(format!("put it in `{DOT_ENV}` for local runs (`cp .env.example .env` gives the list), and on Vercel: `vercel env add {name}`")),
        );
    }
    if checks.is_empty() {
        let message = match optional_unset {
            0 => format!("the {} variables of `.env.example` are set", seen.len()),
            unset => format!(
                "the variables of `.env.example` this set-up needs are set ({unset} optional or alternative ones are not)"
            ),
        };
        checks.push(Check::ok("runtime.env", GROUP, message));
    }
    checks.push(origins(&seen, settings));
    checks
}

/// A set variable whose value is still `.env.example`'s placeholder (the `PASSWORD` in a connection string).
fn placeholder(variable: &Variable, settings: &Settings) -> Option<Check> {
    let value = settings.values().remove(&variable.name)?;
    if value != variable.example || !is_placeholder(&variable.example) {
        return None;
    }
    let origin = settings.origin(&variable.name)?;
    let name = &variable.name;
    let check = Check::error(
        "runtime.placeholder",
        GROUP,
        format!(
            "`{name}` (from {}) is still the placeholder of `.env.example`",
            origin.describe()
        ),
    )
    .fix(format!(
        "replace it with the real value in {}",
        origin.describe()
    ));
    Some(match origin.file() {
        Some(file) => check.file(file),
        None => check.file(ENV_EXAMPLE).line(Some(variable.line)),
    })
}

/// Where each variable of `.env.example` that is set came from: `.env`, the environment or `--env-file`.
fn origins(names: &BTreeSet<String>, settings: &Settings) -> Check {
    let mut by_origin: BTreeMap<Origin, Vec<&str>> = BTreeMap::new();
    for name in names {
        if let Some(origin) = settings.origin(name) {
            by_origin.entry(origin.clone()).or_default().push(name);
        }
    }
    let parts: Vec<String> = by_origin
        .iter()
        .map(|(origin, names)| format!("from {}: {}", origin.describe(), names.join(", ")))
        .collect();
    let message = if parts.is_empty() {
        "no variable of `.env.example` is set".to_string()
    } else {
        format!("settings {}", parts.join("; "))
    };
    Check::ok("runtime.origins", GROUP, message)
}

fn webhook_secret(environment: &BTreeMap<String, String>) -> Check {
    let Some(secret) = environment
        .get("GITHUB_WEBHOOK_SECRET")
        .filter(|secret| !secret.is_empty())
    else {
        return Check::ok(
            "runtime.webhook-secret",
            GROUP,
            "`GITHUB_WEBHOOK_SECRET` not set; length not checked",
        );
    };
    let length = secret.chars().count();
    if length >= MIN_WEBHOOK_SECRET {
        Check::ok(
            "runtime.webhook-secret",
            GROUP,
            "`GITHUB_WEBHOOK_SECRET` is long enough",
        )
    } else {
        Check::error(
            "runtime.webhook-secret",
            GROUP,
            format!(
                "`GITHUB_WEBHOOK_SECRET` has {length} characters; use at least {MIN_WEBHOOK_SECRET}"
            ),
        )
        .fix("generate one with `openssl rand -hex 32` and set it on GitHub and Vercel alike")
    }
}

/// The operator console's sign-in settings: all of them or none (the console is then off), a session secret long
/// enough, and GitHub addresses that are web addresses.
fn console_sign_in(environment: &BTreeMap<String, String>) -> Vec<Check> {
    let value = |name: &str| {
        environment
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    };
    let mut checks = Vec::new();
    for name in GITHUB_ADDRESSES {
        if let Some(address) = value(name)
            && !(address.starts_with("https://") || address.starts_with("http://"))
        {
            checks.push(
                Check::error(
                    "runtime.console",
                    GROUP,
                    format!("`{name}` is `{address}`, not a web address"),
                )
                .fix(format!(
                    "set `{name}` to an address starting with https:// (GitHub Enterprise Server: your server's), or leave it unset for github.com"
                )),
            );
        }
    }
    let set: Vec<&str> = CONSOLE_SIGN_IN
        .into_iter()
        .filter(|name| value(name).is_some())
        .collect();
    if set.is_empty() {
        checks.push(Check::ok(
            "runtime.console",
            GROUP,
            "the console's sign-in is not set up (`GITHUB_OAUTH_CLIENT_ID`, `GITHUB_OAUTH_CLIENT_SECRET`, `CONSOLE_SESSION_SECRET`): /console refuses sign-in",
        ));
        return checks;
    }
    let missing: Vec<&str> = CONSOLE_SIGN_IN
        .into_iter()
        .filter(|name| !set.contains(name))
        .collect();
    if !missing.is_empty() {
        checks.push(
            Check::error(
                "runtime.console",
                GROUP,
                format!(
                    "the console's sign-in is half set up: `{}` set, `{}` not",
                    set.join("`, `"),
                    missing.join("`, `")
                ),
            )
            .file(ENV_EXAMPLE)
            .fix("create a GitHub OAuth App (callback URL https://<your deployment>/console/auth/callback), set its client id and secret, and `CONSOLE_SESSION_SECRET` from `openssl rand -hex 32`, in `.env` and on Vercel"),
        );
    }
    if let Some(secret) = value("CONSOLE_SESSION_SECRET")
        && secret.chars().count() < MIN_SESSION_SECRET
    {
        checks.push(
            Check::error(
                "runtime.console",
                GROUP,
                format!(
                    "`CONSOLE_SESSION_SECRET` has {} characters; use at least {MIN_SESSION_SECRET}",
                    secret.chars().count()
                ),
            )
            .fix("generate one with `openssl rand -hex 32`"),
        );
    }
    if checks.is_empty() {
        checks.push(Check::ok(
            "runtime.console",
            GROUP,
            "the console's sign-in is set up (GitHub OAuth App and session secret)",
        ));
    }
    checks
}

/// Every third-party module the deployed code imports is listed in `requirements.txt`.
fn requirements_cover_imports(child: &Child) -> Vec<Check> {
    let text = match child.read(REQUIREMENTS) {
        Ok(text) => text,
        Err(problem) => {
            return vec![
                Check::error(
                    "runtime.requirements",
                    GROUP,
                    problem.describe(REQUIREMENTS),
                )
                .file(REQUIREMENTS)
                .fix(problem.fix_keeping_your_work(REQUIREMENTS)),
            ];
        }
    };
    let (mut listed, includes) = requirements(&text);
    for include in includes {
        if let Ok(included) = child.read(&include) {
            listed.extend(requirements(&included).0);
        }
    }
    let local = local_modules(child);
    let mut missing: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let sources = DEPLOYED_CODE
        .iter()
        .flat_map(|folder| child.files_under(folder))
        .filter(|file| file.ends_with(".py"));
    for file in sources {
        let Ok(source) = child.read(file) else {
            continue;
        };
        for import in imports(&source) {
            if is_standard_library(&import.module)
                || local.contains(&import.module)
                || is_provided(&import.module, &listed)
            {
                continue;
            }
            missing
                .entry(import.module)
                .or_insert((file.to_string(), import.line));
        }
    }
    if missing.is_empty() {
        return vec![Check::ok(
            "runtime.requirements",
            GROUP,
            "`requirements.txt` covers what the runtime imports",
        )];
    }
    missing
        .into_iter()
        .map(|(module, (file, line))| {
            Check::error(
                "runtime.requirements",
                GROUP,
                format!("`{module}` is imported but not in `requirements.txt`"),
            )
            .file(file)
            .line(Some(line))
            .fix(format!(
                "add the distribution that provides `{module}` to requirements.txt"
            ))
        })
        .collect()
}

/// Top-level names importable from the child itself: its root packages and modules, and modules
/// beside the deployed code (Vercel puts a function's folder on the path).
fn local_modules(child: &Child) -> BTreeSet<String> {
    let mut local = BTreeSet::new();
    for file in &child.files {
        let first = file.split('/').next().unwrap_or_default();
        local.insert(first.trim_end_matches(".py").to_string());
        if file.ends_with(".py")
            && DEPLOYED_CODE
                .iter()
                .any(|folder| file.starts_with(&format!("{folder}/")))
        {
            let stem = file
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".py");
            local.insert(stem.to_string());
        }
    }
    local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_variables_know_what_is_optional() {
        let text = "# Database\nDATABASE_URL=postgresql://...\n\n# Optional: previous secret during rotation\nGITHUB_WEBHOOK_SECRET_PREVIOUS=\nOPENAI_BASE_URL=  # optional\n# GITHUB_APP_ID=\n";
        let variables = example_variables(text);
        let summary: Vec<(&str, bool)> = variables
            .iter()
            .map(|v| (v.name.as_str(), v.optional))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("DATABASE_URL", false),
                ("GITHUB_WEBHOOK_SECRET_PREVIOUS", true),
                ("OPENAI_BASE_URL", true),
                ("GITHUB_APP_ID", true)
            ]
        );
        assert_eq!(variables[0].line, 2);
    }

    fn console_checks(pairs: &[(&str, &str)]) -> Vec<Check> {
        let environment = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        console_sign_in(&environment)
    }

    fn statuses(checks: &[Check]) -> Vec<crate::doctor::check::Status> {
        checks.iter().map(|check| check.status).collect()
    }

    #[test]
    fn the_console_sign_in_is_all_or_nothing_with_a_long_session_secret() {
        use crate::doctor::check::Status;
        let off = console_checks(&[]);
        assert_eq!(statuses(&off), vec![Status::Ok]);
        assert!(off[0].message.contains("not set up"), "{off:?}");

        let secret = "0123456789abcdef0123456789abcdef";
        let complete = console_checks(&[
            ("GITHUB_OAUTH_CLIENT_ID", "Ov23liExample"),
            ("GITHUB_OAUTH_CLIENT_SECRET", "s3cret"),
            ("CONSOLE_SESSION_SECRET", secret),
        ]);
        assert_eq!(statuses(&complete), vec![Status::Ok]);

        let half = console_checks(&[("GITHUB_OAUTH_CLIENT_ID", "Ov23liExample")]);
        assert_eq!(statuses(&half), vec![Status::Error]);
        assert!(
            half[0].message.contains("`GITHUB_OAUTH_CLIENT_ID` set, `GITHUB_OAUTH_CLIENT_SECRET`, `CONSOLE_SESSION_SECRET` not"),
            "{half:?}"
        );

        let short = console_checks(&[
            ("GITHUB_OAUTH_CLIENT_ID", "Ov23liExample"),
            ("GITHUB_OAUTH_CLIENT_SECRET", "s3cret"),
            ("CONSOLE_SESSION_SECRET", "short"),
        ]);
        assert_eq!(statuses(&short), vec![Status::Error]);
        assert!(short[0].message.contains("has 5 characters"), "{short:?}");
    }

    #[test]
    fn github_addresses_must_be_web_addresses() {
        use crate::doctor::check::Status;
        let checks = console_checks(&[("GITHUB_SERVER_URL", "github.example.com")]);
        assert_eq!(statuses(&checks), vec![Status::Error, Status::Ok]);
        assert!(
            checks[0]
                .message
                .contains("`GITHUB_SERVER_URL` is `github.example.com`"),
            "{checks:?}"
        );
        let fine = console_checks(&[("GITHUB_API_URL", "https://ghe.example.com/api/v3")]);
        assert_eq!(statuses(&fine), vec![Status::Ok]);
    }
}

//! The settings the runtime will see, and where each came from: the child's `.env` (read, never exported), the
//! process environment over it, and `--env-file` over both. A value still equal to `.env.example`'s placeholder
//! is not a setting.

use std::collections::BTreeMap;

use super::check::{Check, Group};
use super::child::{Child, FileProblem};

const GROUP: Group = Group::Runtime;
/// The file a child keeps its local settings in (ignored by git).
pub const DOT_ENV: &str = ".env";

/// Where a setting was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// The child's `.env`.
    DotEnv,
    /// The environment doctor runs in.
    Process,
    /// The file given with `--env-file` (as the user named it).
    EnvFile(String),
}

impl Origin {
    /// "`.env`", "the environment", "`deploy.env`".
    pub fn describe(&self) -> String {
        match self {
            Origin::DotEnv => format!("`{DOT_ENV}`"),
            Origin::Process => "the environment".to_string(),
            Origin::EnvFile(path) => format!("`{path}`"),
        }
    }

    /// The file a check about this setting points at, when there is one.
    pub fn file(&self) -> Option<String> {
        match self {
            Origin::DotEnv => Some(DOT_ENV.to_string()),
            Origin::Process => None,
            Origin::EnvFile(path) => Some(path.clone()),
        }
    }
}

/// Variables by name, each with its value and origin.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    entries: BTreeMap<String, (String, Origin)>,
}

impl Settings {
    /// Adds `variables` from `origin`, over what is there.
    pub fn overlay(&mut self, variables: &BTreeMap<String, String>, origin: &Origin) {
        for (name, value) in variables {
            self.entries
                .insert(name.clone(), (value.clone(), origin.clone()));
        }
    }

    /// The values alone, for checks that do not care where they came from.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|(name, (value, _))| (name.clone(), value.clone()))
            .collect()
    }

    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.entries.get(name).map(|(_, origin)| origin)
    }
}

/// The settings doctor checks, and a finding about the child's `.env`: read, absent, or not readable (an error:
/// a file doctor cannot read is never taken as fine).
pub fn resolve(
    child: &Child,
    process: &BTreeMap<String, String>,
    env_file: Option<&(String, BTreeMap<String, String>)>,
) -> (Settings, Check) {
    let mut settings = Settings::default();
    let finding = match child.read(DOT_ENV) {
        Ok(text) => {
            let variables = parse_env_file(&text);
            settings.overlay(&variables, &Origin::DotEnv);
            Check::ok(
                "runtime.dotenv",
                GROUP,
                format!(
                    "`{DOT_ENV}` read ({} settings; the environment and `--env-file` take precedence)",
                    variables.len()
                ),
            )
        }
        Err(FileProblem::Missing) => Check::ok(
            "runtime.dotenv",
            GROUP,
            format!("no `{DOT_ENV}`; settings come from the environment and `--env-file`"),
        ),
        Err(problem) => Check::error("runtime.dotenv", GROUP, problem.describe(DOT_ENV))
            .file(DOT_ENV)
            .fix(problem.fix_keeping_your_work(DOT_ENV)),
    };
    settings.overlay(process, &Origin::Process);
    if let Some((path, variables)) = env_file {
        settings.overlay(variables, &Origin::EnvFile(path.clone()));
    }
    (settings, finding)
}

/// `NAME=value` lines as dotenv writes them: `export ` allowed, `#` comments, quotes stripped.
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut variables = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or_default(),
            _ => value.split(" #").next().unwrap_or_default().trim(),
        };
        variables.insert(name.trim().to_string(), value.to_string());
    }
    variables
}

/// An example value meant to be replaced: an upper-case word such as `PASSWORD` or `PROJECT_REF`, angle
/// brackets, or the usual "your-..." and "changeme". Real defaults (`offline`, `https://api.github.com`) are not.
pub fn is_placeholder(example: &str) -> bool {
    let lower = example.to_lowercase();
    let upper_word = example
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .any(|word| word.chars().filter(char::is_ascii_uppercase).count() >= 4);
    upper_word
        || (example.contains('<') && example.contains('>'))
        || ["your-", "your_", "changeme", "change-me", "xxxx"]
            .iter()
            .any(|marker| lower.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_read_like_dotenv() {
        let variables =
            parse_env_file("# c\nexport A=1\nB=\"two words\" \nC='x#y'\nD=plain # note\n");
        assert_eq!(variables["A"], "1");
        assert_eq!(variables["B"], "two words");
        assert_eq!(variables["C"], "x#y");
        assert_eq!(variables["D"], "plain");
    }

    #[test]
    fn placeholders_are_told_from_real_defaults() {
        assert!(is_placeholder(
            "postgresql://postgres.PROJECT_REF:PASSWORD@aws-0-REGION.pooler.supabase.com:6543/postgres"
        ));
        assert!(is_placeholder("<your token>"));
        assert!(!is_placeholder("offline"));
        assert!(!is_placeholder("https://api.github.com"));
        assert!(!is_placeholder("gpt-4o-mini"));
    }

    #[test]
    fn the_flag_wins_over_the_environment_which_wins_over_dot_env() {
        let mut settings = Settings::default();
        let one = |value: &str| BTreeMap::from([("A".to_string(), value.to_string())]);
        settings.overlay(&one("dotenv"), &Origin::DotEnv);
        settings.overlay(&one("process"), &Origin::Process);
        assert_eq!(settings.values()["A"], "process");
        settings.overlay(&one("flag"), &Origin::EnvFile("x.env".to_string()));
        assert_eq!(settings.values()["A"], "flag");
        assert_eq!(settings.origin("A").unwrap().describe(), "`x.env`");
    }
}

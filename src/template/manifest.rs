//! `template.toml`: the template's name and version, its questions in order, excluded files and included parts.
//! Parsing checks everything that can be checked before any answer exists (types, choices, regexes).

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use thiserror::Error;

/// The file that marks a template's root folder.
pub const MANIFEST_FILE: &str = "template.toml";

/// A parsed `template.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub template: TemplateInfo,
    /// In the order the manifest lists them: a question's default and `when` may use earlier answers.
    pub questions: Vec<Question>,
    pub files: FilesSection,
    pub includes: Vec<Include>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInfo {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
}

/// One `[questions.NAME]` table.
#[derive(Debug, Clone)]
pub struct Question {
    pub name: String,
    pub kind: QuestionKind,
    pub help: String,
    /// A literal, or for strings and choices a Tera expression over earlier answers (`{{ project_name }}-bot`).
    pub default: Option<toml::Value>,
    pub choices: Vec<String>,
    pub validate: Option<Regex>,
    /// A Tera condition over earlier answers; the question is asked only when it is true.
    pub when: Option<String>,
    /// Never written to disk (left out of `.osorganic.toml`).
    pub secret: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    String,
    Bool,
    Int,
    Choice,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Choice => "choice",
        }
    }
}

/// `[files]`: globs over the child's paths (after rendering, `.tera` dropped): `exclude`, never written; `managed`,
/// always the template's; `seeded`, written at spawn and never touched by an update. Every other path is `merged`.
#[derive(Debug, Clone)]
pub struct FilesSection {
    pub exclude: Vec<String>,
    pub managed: Vec<String>,
    pub seeded: Vec<String>,
    exclude_set: GlobSet,
    managed_set: GlobSet,
    seeded_set: GlobSet,
}

/// Who owns a path of the child, and so what an update does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Three-way merged: the default.
    Merged,
    /// Always the template's: a change of the child's that meets a change of the template is a conflict, never a
    /// silent merge.
    Managed,
    /// Written at spawn; an update leaves the child's version (or its absence) as it is.
    Seeded,
}

impl FilesSection {
    pub fn is_excluded(&self, child_path: &str) -> bool {
        self.exclude_set.is_match(child_path)
    }

    /// `seeded` wins over `managed`; a path neither names is merged.
    pub fn ownership(&self, child_path: &str) -> Ownership {
        if self.seeded_set.is_match(child_path) {
            Ownership::Seeded
        } else if self.managed_set.is_match(child_path) {
            Ownership::Managed
        } else {
            Ownership::Merged
        }
    }
}

/// `[[include]] from = "../vercel-configs" to = "."`: a part composed into the child.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    /// Relative to the template root; must stay inside the source tree.
    pub from: String,
    /// Folder of the child the part lands in.
    #[serde(default = "dot")]
    pub to: String,
}

fn dot() -> String {
    ".".to_string()
}

/// Why a `template.toml` cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("`template.toml` is not valid: {0}")]
    Syntax(String),
    #[error("question `{question}`: {message}")]
    Question { question: String, message: String },
    #[error("`[files] {key}` glob `{glob}` is not valid: {message}")]
    Glob {
        key: &'static str,
        glob: String,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    template: TemplateInfo,
    #[serde(default)]
    questions: toml::Table,
    #[serde(default)]
    files: RawFiles,
    #[serde(default)]
    include: Vec<Include>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    managed: Vec<String>,
    #[serde(default)]
    seeded: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    #[serde(rename = "type")]
    kind: QuestionKind,
    #[serde(default)]
    help: String,
    default: Option<toml::Value>,
    #[serde(default)]
    choices: Vec<String>,
    validate: Option<String>,
    when: Option<String>,
    #[serde(default)]
    secret: bool,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let raw: RawManifest =
            toml::from_str(text).map_err(|error| ManifestError::Syntax(error.to_string()))?;
        let questions = raw
            .questions
            .into_iter()
            .map(|(name, value)| parse_question(name, value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            template: raw.template,
            questions,
            files: files_section(raw.files)?,
            includes: raw.include,
        })
    }

    pub fn question(&self, name: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.name == name)
    }
}

fn parse_question(name: String, value: toml::Value) -> Result<Question, ManifestError> {
    let invalid = |message: String| ManifestError::Question {
        question: name.clone(),
        message,
    };
    let raw: RawQuestion = value
        .try_into()
        .map_err(|error: toml::de::Error| invalid(error.message().to_string()))?;
    if raw.kind == QuestionKind::Choice && raw.choices.is_empty() {
        return Err(invalid("a `choice` question needs `choices`".to_string()));
    }
    if raw.kind != QuestionKind::Choice && !raw.choices.is_empty() {
        return Err(invalid(format!(
            "`choices` only applies to `choice` questions, not `{}`",
            raw.kind.as_str()
        )));
    }
    check_default_type(raw.kind, raw.default.as_ref()).map_err(invalid)?;
    let validate = raw
        .validate
        .map(|pattern| {
            Regex::new(&pattern)
                .map_err(|error| invalid(format!("`validate` is not a valid regex: {error}")))
        })
        .transpose()?;
    Ok(Question {
        name,
        kind: raw.kind,
        help: raw.help,
        default: raw.default,
        choices: raw.choices,
        validate,
        when: raw.when,
        secret: raw.secret,
    })
}

fn check_default_type(kind: QuestionKind, default: Option<&toml::Value>) -> Result<(), String> {
    let matches = matches!(
        (kind, default),
        (_, None)
            | (
                QuestionKind::String | QuestionKind::Choice,
                Some(toml::Value::String(_))
            )
            | (
                QuestionKind::Bool,
                Some(toml::Value::Boolean(_) | toml::Value::String(_))
            )
            | (
                QuestionKind::Int,
                Some(toml::Value::Integer(_) | toml::Value::String(_))
            )
    );
    if matches {
        Ok(())
    } else {
        Err(format!(
            "`default` does not fit a `{}` question",
            kind.as_str()
        ))
    }
}

fn files_section(raw: RawFiles) -> Result<FilesSection, ManifestError> {
    Ok(FilesSection {
        exclude_set: glob_set("exclude", &raw.exclude)?,
        managed_set: glob_set("managed", &raw.managed)?,
        seeded_set: glob_set("seeded", &raw.seeded)?,
        exclude: raw.exclude,
        managed: raw.managed,
        seeded: raw.seeded,
    })
}

fn glob_set(key: &'static str, globs: &[String]) -> Result<GlobSet, ManifestError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let parsed = Glob::new(glob).map_err(|error| ManifestError::Glob {
            key,
            glob: glob.clone(),
            message: error.kind().to_string(),
        })?;
        builder.add(parsed);
    }
    builder.build().map_err(|error| ManifestError::Glob {
        key,
        glob: globs.join(", "),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[template]
name = "t"
version = "1.0.0"

[questions.zeta]
type = "string"
default = "z"

[questions.alpha]
type = "choice"
choices = ["a", "b"]
default = "a"
when = "zeta == 'z'"

[files]
exclude = ["docs/**"]

[[include]]
from = "../parts"
"#;

    #[test]
    fn questions_keep_the_manifest_order() {
        let manifest = Manifest::parse(MANIFEST).unwrap();
        let names: Vec<_> = manifest.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(manifest.includes[0].to, ".");
        assert!(manifest.files.is_excluded("docs/a/b.md"));
        assert!(!manifest.files.is_excluded("src/docs.md"));
    }

    #[test]
    fn choice_without_choices_is_refused() {
        let text = "[template]\nname='t'\nversion='1'\n[questions.x]\ntype='choice'\n";
        let error = Manifest::parse(text).unwrap_err();
        assert!(matches!(error, ManifestError::Question { ref question, .. } if question == "x"));
    }

    #[test]
    fn bad_regex_names_the_question() {
        let text =
            "[template]\nname='t'\nversion='1'\n[questions.x]\ntype='string'\nvalidate='('\n";
        let error = Manifest::parse(text).unwrap_err().to_string();
        assert!(error.contains("question `x`"), "{error}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text =
            "[template]\nname='t'\nversion='1'\n[questions.x]\ntype='string'\nhelpp='typo'\n";
        assert!(Manifest::parse(text).is_err());
    }
}

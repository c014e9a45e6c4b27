//! `.osorganic.toml`: how a child was made (template, source, answers, the pristine-render commit). Spawn writes
//! it, update rewrites it, doctor reads it. Errors are typed so callers can tell "not a child" from "broken".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::template::{Answers, Manifest, OSORGANIC_VERSION, SourceRecord};

/// The record's file name at the child's root.
pub const RECORD_FILE: &str = ".osorganic.toml";

const HEADER: &str = "# Written by osorganic: how this child was made. `osorganic update` rewrites it; do not edit by hand.\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildRecord {
    pub osorganic_version: String,
    /// The child name (`project_name`).
    pub name: String,
    pub template: TemplateRecord,
    /// Answers in question order; secrets and unasked questions are never here.
    #[serde(default)]
    pub answers: toml::Table,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRecord {
    pub name: String,
    pub version: String,
    /// `embedded`, an absolute folder path, or a git URL or path.
    pub source: String,
    /// `embedded`, `path` or `git`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Commit id of the pristine render (also `refs/osorganic/template`); absent with `--no-git`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("`{}` not found: this folder is not an osorganic child", .0.display())]
    Missing(PathBuf),
    #[error("could not read `{}`", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("`{}` is not a valid record: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("could not write `{}`", .path.display())]
    Unwritable {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
}

impl ChildRecord {
    /// The record of a fresh render; `base` is filled in once the pristine commit exists.
    pub fn new(
        child_name: &str,
        manifest: &Manifest,
        origin: &SourceRecord,
        answers: &Answers,
    ) -> Self {
        Self {
            osorganic_version: OSORGANIC_VERSION.to_string(),
            name: child_name.to_string(),
            template: TemplateRecord {
                name: manifest.template.name.clone(),
                version: manifest.template.version.clone(),
                source: origin.source.clone(),
                kind: origin.kind.as_str().to_string(),
                rev: origin.rev.clone(),
                commit: origin.commit.clone(),
                base: None,
            },
            answers: answers.recorded(),
        }
    }

    /// Reads `child_root/.osorganic.toml`.
    pub fn read(child_root: &Path) -> Result<Self, RecordError> {
        let path = child_root.join(RECORD_FILE);
        let text = std::fs::read_to_string(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => RecordError::Missing(path.clone()),
            _ => RecordError::Unreadable {
                path: path.clone(),
                error,
            },
        })?;
        Self::parse(&text).map_err(|message| RecordError::Invalid { path, message })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|error| error.message().to_string())
    }

    /// The file's text: a header comment, then the fields in a stable order.
    pub fn to_toml_string(&self) -> String {
        // Serialising plain strings and tables cannot fail.
        let body = toml::to_string(self).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    /// Writes `child_root/.osorganic.toml`.
    pub fn write(&self, child_root: &Path) -> Result<(), RecordError> {
        let path = child_root.join(RECORD_FILE);
        std::fs::write(&path, self.to_toml_string())
            .map_err(|error| RecordError::Unwritable { path, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ChildRecord {
        let mut answers = toml::Table::new();
        answers.insert(
            "domain".to_string(),
            toml::Value::String("fintech".to_string()),
        );
        answers.insert("count".to_string(), toml::Value::Integer(3));
        ChildRecord {
            osorganic_version: "0.1.0".to_string(),
            name: "demo".to_string(),
            template: TemplateRecord {
                name: "child-template".to_string(),
                version: "0.1.0".to_string(),
                source: "embedded".to_string(),
                kind: "embedded".to_string(),
                rev: None,
                commit: None,
                base: Some("a".repeat(40)),
            },
            answers,
        }
    }

    #[test]
    fn record_round_trips_through_its_file() {
        let folder = tempfile::tempdir().unwrap();
        let record = sample();
        record.write(folder.path()).unwrap();
        let text = std::fs::read_to_string(folder.path().join(RECORD_FILE)).unwrap();
        assert!(text.starts_with("# Written by osorganic"));
        assert!(text.contains("[template]") && text.contains("[answers]"));
        assert!(!text.contains("rev ="));
        assert_eq!(ChildRecord::read(folder.path()).unwrap(), record);
    }

    #[test]
    fn missing_and_invalid_records_are_told_apart() {
        let folder = tempfile::tempdir().unwrap();
        assert!(matches!(
            ChildRecord::read(folder.path()),
            Err(RecordError::Missing(_))
        ));
        std::fs::write(folder.path().join(RECORD_FILE), "name = 3").unwrap();
        assert!(matches!(
            ChildRecord::read(folder.path()),
            Err(RecordError::Invalid { .. })
        ));
    }
}

//! The record itself: `ChildRecord`, its sections, and reading and writing `.osorganic.toml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::template::{
    Answers, Manifest, OSORGANIC_VERSION, SourceError, SourceKind, SourceRecord, SourceSpec,
};

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
    pub kind: SourceKind,
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
                kind: origin.kind,
                rev: origin.rev.clone(),
                commit: origin.commit.clone(),
                base: None,
            },
            answers: answers.recorded(),
        }
    }

    /// A fingerprint of what a pristine render depends on (template name, version, source commit, answers): the
    /// render commit of this record carries it, so a candidate base can be checked without rendering it again.
    pub fn render_fingerprint(&self) -> String {
        let answers: std::collections::BTreeMap<&String, String> = self
            .answers
            .iter()
            .map(|(name, value)| (name, value.to_string()))
            .collect();
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.template.name,
            self.template.version,
            self.template.commit.as_deref().unwrap_or_default()
        );
        for (name, value) in answers {
            text.push_str(&format!("{name} = {value}\n"));
        }
        git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
            .map(|id| id.to_string())
            .unwrap_or_default()
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

    /// Parses a record's text (from the working tree, or from a commit's blob).
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

impl TemplateRecord {
    /// The recorded source, to read the newest version from (`rev`: a tag, branch or commit of a git source).
    pub fn source_spec(&self, rev: Option<&str>) -> Result<SourceSpec, SourceError> {
        match self.kind {
            SourceKind::Embedded => match rev {
                Some(rev) => Err(SourceError::RefWithoutGit(rev.to_owned())),
                None => Ok(SourceSpec::Embedded),
            },
            SourceKind::Git => Ok(SourceSpec::Git {
                url: self.source.clone(),
                rev: rev.map(str::to_owned),
            }),
            SourceKind::Path => SourceSpec::parse(&self.source, rev),
        }
    }

    /// The recorded source at the recorded revision: where the recorded version can be rendered again.
    pub fn pinned_source_spec(&self) -> Result<SourceSpec, SourceError> {
        let rev = self.commit.as_deref().or(self.rev.as_deref());
        match self.kind {
            SourceKind::Git => self.source_spec(rev),
            _ => self.source_spec(None),
        }
    }

    /// True when the source is fetched over the network: a git URL that is not a folder or `file://` here.
    pub fn is_remote(&self) -> bool {
        self.kind == SourceKind::Git && is_remote_url(&self.source)
    }
}

/// True for a git URL (`https://`, `ssh://`, `git@host:`) that is not a local path or `file://`.
pub fn is_remote_url(source: &str) -> bool {
    let path = std::path::Path::new(source);
    let local = path.is_absolute() && path.exists();
    let is_url = source.contains("://") || source.starts_with("git@");
    is_url && !source.starts_with("file://") && !local
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
                kind: SourceKind::Embedded,
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

//! Template checks: the recorded template can still be found (Project group) and how far the child is
//! behind it (Template group).
//!
//! [`template_drift`] is the seam: it compares the recorded version with the version the recorded
//! source offers now. When `update --check` lands it can answer here instead.

use std::cmp::Ordering;
use std::path::Path;

use super::child::Child;
use super::{Check, Group};
use crate::record::ChildRecord;
use crate::template::{self, SourceKind, SourceSpec};

/// How the child stands against its template's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    UpToDate {
        version: String,
    },
    /// A newer version (or, for git, newer commits) is available.
    Behind {
        recorded: String,
        available: String,
    },
    /// The source offers an older version than the child was made from.
    Ahead {
        recorded: String,
        available: String,
    },
    /// The recorded template cannot be found.
    Missing {
        reason: String,
    },
    /// Not looked at (a remote with `--offline`, or a source that cannot be reached from here).
    NotChecked {
        reason: String,
    },
}

/// The template's name, version and (for git) commit as its source has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Available {
    name: String,
    version: String,
    commit: Option<String>,
}

pub fn checks(child: &Child, offline: bool) -> Vec<Check> {
    let drift = template_drift(&child.record, &child.root, offline);
    vec![exists_check(child, &drift), drift_check(child, &drift)]
}

/// Compares the recorded template with what its source offers now.
pub fn template_drift(record: &ChildRecord, child_root: &Path, offline: bool) -> Drift {
    let recorded = record.template.version.clone();
    let available = match available(record, child_root, offline) {
        Ok(available) => available,
        Err(drift) => return drift,
    };
    if available.name != record.template.name {
        return Drift::Missing {
            reason: format!(
                "the source now holds template `{}`, not `{}`",
                available.name, record.template.name
            ),
        };
    }
    match compare_versions(&available.version, &recorded) {
        Ordering::Greater => Drift::Behind {
            recorded,
            available: available.version,
        },
        Ordering::Less => Drift::Ahead {
            recorded,
            available: available.version,
        },
        Ordering::Equal => match (&available.commit, &record.template.commit) {
            (Some(now), Some(then)) if now != then => Drift::Behind {
                recorded: format!("{recorded} ({})", short(then)),
                available: format!("{} ({})", available.version, short(now)),
            },
            _ => Drift::UpToDate { version: recorded },
        },
    }
}

fn available(record: &ChildRecord, child_root: &Path, offline: bool) -> Result<Available, Drift> {
    let source = record.template.source.as_str();
    let spec = match SourceKind::parse(&record.template.kind) {
        Some(SourceKind::Embedded) => SourceSpec::Embedded,
        Some(SourceKind::Path) => SourceSpec::Folder(child_root.join(source)),
        Some(SourceKind::Git) => {
            let local = child_root.join(source);
            if !local.exists() && offline {
                return Err(Drift::NotChecked {
                    reason: format!("`{source}` is a remote; skipped with --offline"),
                });
            }
            let url = if local.exists() {
                local.to_string_lossy().into_owned()
            } else {
                source.to_string()
            };
            SourceSpec::Git {
                url,
                rev: record.template.rev.clone(),
            }
        }
        None => {
            return Err(Drift::Missing {
                reason: format!("unknown template kind `{}`", record.template.kind),
            });
        }
    };
    let loaded = template::load(&spec).map_err(|error| Drift::Missing {
        reason: error_chain(&error),
    })?;
    Ok(Available {
        name: loaded.manifest.template.name,
        version: loaded.manifest.template.version,
        commit: loaded.origin.commit,
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

/// Orders dotted versions by their numeric parts (`0.10.0` > `0.9.1`); a pre-release sorts first.
fn compare_versions(left: &str, right: &str) -> Ordering {
    fn parts(version: &str) -> (Vec<u64>, bool) {
        let version = version.trim().trim_start_matches('v');
        let (release, pre) = match version.split_once('-') {
            Some((release, _)) => (release, true),
            None => (version, false),
        };
        (
            release
                .split('.')
                .map(|part| part.parse().unwrap_or(0))
                .collect(),
            pre,
        )
    }
    let (left_parts, left_pre) = parts(left);
    let (right_parts, right_pre) = parts(right);
    let length = left_parts.len().max(right_parts.len());
    for index in 0..length {
        let a = left_parts.get(index).copied().unwrap_or(0);
        let b = right_parts.get(index).copied().unwrap_or(0);
        if a != b {
            return a.cmp(&b);
        }
    }
    // A release is newer than its pre-release.
    right_pre.cmp(&left_pre)
}

fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

fn exists_check(child: &Child, drift: &Drift) -> Check {
    let template = &child.record.template;
    let label = format!("template `{}` ({})", template.name, template.source);
    match drift {
        Drift::Missing { reason } => Check::error("project.template", Group::Project, format!("{label} cannot be found: {reason}"))
            .file(".osorganic.toml")
            .fix("make the template reachable again, or move to another with `osorganic update --from SOURCE`"),
        Drift::NotChecked { reason } => {
            Check::warn("project.template", Group::Project, format!("{label} not checked: {reason}")).file(".osorganic.toml")
        }
        _ => Check::ok("project.template", Group::Project, format!("{label} is available")),
    }
}

fn drift_check(child: &Child, drift: &Drift) -> Check {
    let name = &child.record.template.name;
    match drift {
        Drift::UpToDate { version } => Check::ok(
            "template.drift",
            Group::Template,
            format!("up to date with {name} {version}"),
        ),
        Drift::Behind {
            recorded,
            available,
        } => Check::warn(
            "template.drift",
            Group::Template,
            format!("behind its template: made from {name} {recorded}, {available} is available"),
        )
        .file(".osorganic.toml")
        .fix("preview with `osorganic update --dry-run`, then run `osorganic update`"),
        Drift::Ahead {
            recorded,
            available,
        } => Check::warn(
            "template.drift",
            Group::Template,
            format!("made from {name} {recorded}, but the source offers only {available}"),
        )
        .file(".osorganic.toml")
        .fix("use an osorganic or template source at least as new as the child"),
        Drift::Missing { .. } => Check::warn(
            "template.drift",
            Group::Template,
            "drift unknown: the template cannot be found",
        ),
        Drift::NotChecked { reason } => Check::ok(
            "template.drift",
            Group::Template,
            format!("drift not checked: {reason}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("0.10.0", "0.9.1"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0", "1.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(compare_versions("v1.2.0", "1.1.9"), Ordering::Greater);
    }

    #[test]
    fn a_child_of_an_older_embedded_version_is_behind() {
        let mut record = ChildRecord::parse(
            "osorganic_version = \"0.1.0\"\nname = \"demo\"\n[template]\nname = \"child-template\"\nversion = \"0.0.1\"\nsource = \"embedded\"\nkind = \"embedded\"\n",
        )
        .unwrap();
        let drift = template_drift(&record, Path::new("."), true);
        assert!(matches!(drift, Drift::Behind { .. }), "{drift:?}");
        record.template.version = "999.0.0".to_string();
        assert!(matches!(
            template_drift(&record, Path::new("."), true),
            Drift::Ahead { .. }
        ));
    }
}

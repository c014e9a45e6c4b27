//! Where a template comes from: the tree embedded in the binary, a folder on disk, or a git repository read at a
//! revision with git2 (no checkout). Loading finds the template root (the folder holding `template.toml`), parses
//! the manifest, resolves its includes inside the source tree and reads the files of the root and of each part.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::manifest::{MANIFEST_FILE, Manifest};
use super::reader::TreeReader;
pub use super::reader::{SourceFile, join_tree_path};
pub use super::source_error::SourceError;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static EMBEDDED_EXECUTABLES: &str =
    include_str!(concat!(env!("OUT_DIR"), "/embedded_executables.txt"));

/// Where the template root may sit inside a folder or repository: its top, or where this project keeps it.
const ROOT_CANDIDATES: &[&str] = &["", PROJECT_ROOT];
/// Where this project keeps its child template; its parts are its siblings.
const PROJECT_ROOT: &str = "templates/child-template";
/// The template root inside the embedded `templates/` tree.
const EMBEDDED_ROOT: &str = "child-template";

/// A template source as the user named it, resolved once before any I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    Embedded,
    /// A folder read as it is on disk (absolute path).
    Folder(PathBuf),
    /// A git repository (URL, or absolute local path) read at `rev` (HEAD when none).
    Git {
        url: String,
        rev: Option<String>,
    },
}

/// How `.osorganic.toml` records the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Embedded,
    Path,
    Git,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Path => "path",
            Self::Git => "git",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "embedded" => Some(Self::Embedded),
            "path" => Some(Self::Path),
            "git" => Some(Self::Git),
            _ => None,
        }
    }
}

/// Where a loaded template came from, as recorded in the child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub kind: SourceKind,
    /// `embedded`, an absolute folder path, or the git URL or path.
    pub source: String,
    /// Git only: the revision asked for.
    pub rev: Option<String>,
    /// Git only: the commit the revision resolved to.
    pub commit: Option<String>,
}

/// A folder of the source tree that lands in the child: the template root itself, then each include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Folder inside the source tree, '/'-separated, "" for the tree's top.
    pub tree_path: String,
    /// Folder of the child it lands in, "" for the child's root.
    pub child_path: String,
}

/// A loaded template: what rendering needs, and nothing read twice.
#[derive(Debug, Clone)]
pub struct TemplateSource {
    /// Files of the template root and of every part, keyed by their '/'-separated path in the source tree.
    pub files: BTreeMap<String, SourceFile>,
    /// The template root inside the source tree ("child-template" when embedded).
    pub root: String,
    pub manifest: Manifest,
    /// The template root first, then each `[[include]]` in manifest order.
    pub parts: Vec<Part>,
    pub origin: SourceRecord,
}

impl SourceSpec {
    /// `embedded` (or empty), a URL (`https://`, `file://`, `git@host:`), or a path: a folder, or a git
    /// repository when `rev` is given.
    pub fn parse(text: &str, rev: Option<&str>) -> Result<Self, SourceError> {
        let rev = rev.map(str::to_string);
        if text.is_empty() || text == "embedded" {
            return match rev {
                Some(rev) => Err(SourceError::RefWithoutGit(rev)),
                None => Ok(Self::Embedded),
            };
        }
        if looks_like_url(text) {
            return Ok(Self::Git {
                url: text.to_string(),
                rev,
            });
        }
        let path = std::fs::canonicalize(text).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotFound(text.to_string()),
            _ => SourceError::Io {
                path: text.to_string(),
                error,
            },
        })?;
        Ok(match rev {
            Some(rev) => Self::Git {
                url: path.to_string_lossy().into_owned(),
                rev: Some(rev),
            },
            None => Self::Folder(path),
        })
    }
}

fn looks_like_url(text: &str) -> bool {
    text.contains("://") || (text.contains('@') && text.contains(':') && !Path::new(text).exists())
}

/// The embedded template's `template.toml`, parsed: what `spawn --help` lists.
pub fn embedded_manifest() -> Result<Manifest, SourceError> {
    let path = join_tree_path(EMBEDDED_ROOT, MANIFEST_FILE);
    let text = EMBEDDED
        .get_file(&path)
        .map(|file| String::from_utf8_lossy(file.contents()))
        .ok_or_else(|| SourceError::NotFound(path.clone()))?;
    Manifest::parse(&text).map_err(|error| SourceError::Manifest { path, error })
}

/// The files of the embedded template under `folder` (a path inside the template root), with their bytes.
pub fn embedded_files(folder: &str) -> Vec<(String, Vec<u8>)> {
    EMBEDDED
        .get_dir(join_tree_path(EMBEDDED_ROOT, folder))
        .map(|dir| {
            dir.files()
                .map(|file| {
                    let name = file
                        .path()
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy();
                    (join_tree_path(folder, &name), file.contents().to_vec())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Loads a template: finds its root, parses `template.toml`, resolves includes and reads every file they cover.
pub fn load(spec: &SourceSpec) -> Result<TemplateSource, SourceError> {
    let (reader, origin) = open(spec)?;
    let candidates: &[&str] = match (spec, &reader) {
        (SourceSpec::Embedded, _) => &[EMBEDDED_ROOT],
        (SourceSpec::Folder(given), TreeReader::Disk(tree)) if given != tree => &[PROJECT_ROOT],
        _ => ROOT_CANDIDATES,
    };
    let root = find_root(&reader, candidates, &origin.source)?;
    let manifest_path = join_tree_path(&root, MANIFEST_FILE);
    let manifest = read_manifest(&reader, &manifest_path)?;
    let parts = resolve_parts(&root, &manifest)?;
    for (part, include) in parts.iter().skip(1).zip(&manifest.includes) {
        if !reader.is_folder(&part.tree_path) {
            return Err(SourceError::IncludeMissing {
                from: include.from.clone(),
                resolved: part.tree_path.clone(),
            });
        }
    }
    let mut files = BTreeMap::new();
    for part in &parts {
        reader.read_folder(&part.tree_path, &mut files)?;
    }
    Ok(TemplateSource {
        files,
        root,
        manifest,
        parts,
        origin,
    })
}

fn open(spec: &SourceSpec) -> Result<(TreeReader, SourceRecord), SourceError> {
    match spec {
        SourceSpec::Embedded => Ok((
            TreeReader::Embedded {
                dir: &EMBEDDED,
                executables: EMBEDDED_EXECUTABLES,
            },
            SourceRecord {
                kind: SourceKind::Embedded,
                source: "embedded".to_string(),
                rev: None,
                commit: None,
            },
        )),
        SourceSpec::Folder(path) => Ok((
            TreeReader::Disk(folder_tree(path)),
            SourceRecord {
                kind: SourceKind::Path,
                source: path.to_string_lossy().into_owned(),
                rev: None,
                commit: None,
            },
        )),
        SourceSpec::Git { url, rev } => {
            let (reader, commit) = TreeReader::open_git(url, rev.as_deref())?;
            Ok((
                reader,
                SourceRecord {
                    kind: SourceKind::Git,
                    source: url.clone(),
                    rev: rev.clone(),
                    commit: Some(commit),
                },
            ))
        }
    }
}

/// The folder read as the source tree: the folder given, or the project root when the folder given is a
/// project's `templates/child-template` (so its includes of sibling parts resolve).
fn folder_tree(given: &Path) -> PathBuf {
    let is_project_template = given.ends_with(PROJECT_ROOT) && given.join(MANIFEST_FILE).is_file();
    match given.parent().and_then(Path::parent) {
        Some(project) if is_project_template => project.to_path_buf(),
        _ => given.to_path_buf(),
    }
}

fn find_root(
    reader: &TreeReader,
    candidates: &[&str],
    source_name: &str,
) -> Result<String, SourceError> {
    candidates
        .iter()
        .find(|candidate| reader.is_file(&join_tree_path(candidate, MANIFEST_FILE)))
        .map(|candidate| candidate.to_string())
        .ok_or_else(|| SourceError::NoManifest {
            source_name: source_name.to_string(),
            looked_in: candidates
                .iter()
                .map(|candidate| format!("`{}`", join_tree_path(candidate, MANIFEST_FILE)))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn read_manifest(reader: &TreeReader, manifest_path: &str) -> Result<Manifest, SourceError> {
    let bytes = reader.read_file(manifest_path)?;
    let text = String::from_utf8_lossy(&bytes);
    Manifest::parse(&text).map_err(|error| SourceError::Manifest {
        path: manifest_path.to_string(),
        error,
    })
}

fn resolve_parts(root: &str, manifest: &Manifest) -> Result<Vec<Part>, SourceError> {
    let mut parts = vec![Part {
        tree_path: root.to_string(),
        child_path: String::new(),
    }];
    for include in &manifest.includes {
        parts.push(Part {
            tree_path: resolve_include_path(root, &include.from)?,
            child_path: child_folder(&include.to)?,
        });
    }
    Ok(parts)
}

/// `from` relative to the template root, normalised; refused when it climbs out of the source tree.
pub fn resolve_include_path(root: &str, from: &str) -> Result<String, SourceError> {
    let escapes = || SourceError::IncludeEscapes {
        from: from.to_string(),
    };
    if from.starts_with('/') || from.contains('\\') || from.contains(':') {
        return Err(escapes());
    }
    let mut segments: Vec<&str> = root
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    for segment in from.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop().ok_or_else(escapes)?;
            }
            other => segments.push(other),
        }
    }
    Ok(segments.join("/"))
}

fn child_folder(to: &str) -> Result<String, SourceError> {
    let bad = || SourceError::BadIncludeDestination { to: to.to_string() };
    if to.starts_with('/') || to.contains('\\') {
        return Err(bad());
    }
    let mut segments = Vec::new();
    for segment in to.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(bad()),
            other => segments.push(other),
        }
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;

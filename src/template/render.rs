//! Rendering a loaded template into a `RenderedTree` in memory: `.tera` files through Tera (suffix dropped),
//! every other file byte for byte; path segments rendered too, an empty segment skipping the file or folder.

use std::sync::LazyLock;

use regex::Regex;
use tera::{Context, Tera};
use thiserror::Error;

use super::answers::Answers;
use super::context::{builtin_context, render_expression, tera_error_messages};
use super::manifest::MANIFEST_FILE;
use super::name::ChildName;
use super::source::{SourceFile, TemplateSource, join_tree_path};
use super::tree::{RenderedFile, RenderedTree};

const TERA_SUFFIX: &str = ".tera";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    /// A `.tera` file that does not parse or render; `line` is 1-based when known.
    #[error("`{template}`{}: {message}", line.map(|line| format!(" line {line}")).unwrap_or_default())]
    Template {
        template: String,
        line: Option<usize>,
        message: String,
    },
    #[error("the path `{path}` cannot be rendered: {message}")]
    Path { path: String, message: String },
    #[error("`{child_path}` would be written by both `{first}` and `{second}`")]
    Collision {
        child_path: String,
        first: String,
        second: String,
    },
}

/// One source file and where it lands, before its path is rendered.
struct Planned<'s> {
    tree_path: &'s str,
    file: &'s SourceFile,
    /// The child path as written in the template: part destination + path inside the part, `.tera` kept.
    raw_child_path: String,
}

/// Renders every file of `source` with `answers` and the built-in variables of `child`.
pub fn render(
    source: &TemplateSource,
    answers: &Answers,
    child: &ChildName,
) -> Result<RenderedTree, RenderError> {
    let mut context = builtin_context(&source.manifest, child);
    answers.fill_context(&mut context);
    let planned = plan(source);
    let tera = parse_templates(&planned)?;
    let mut tree = RenderedTree::new();
    let mut origins = std::collections::BTreeMap::new();
    for item in &planned {
        let Some(child_path) = render_child_path(&item.raw_child_path, &context)? else {
            continue;
        };
        if source.manifest.files.is_excluded(&child_path) {
            continue;
        }
        let contents = render_contents(&tera, item, &context)?;
        if let Some(first) = origins.insert(child_path.clone(), item.tree_path) {
            return Err(RenderError::Collision {
                child_path,
                first: first.to_string(),
                second: item.tree_path.to_string(),
            });
        }
        let file = if item.file.link {
            RenderedFile::link(contents)
        } else {
            RenderedFile::new(contents, item.file.executable)
        };
        tree.insert(child_path, file);
    }
    Ok(tree)
}

/// Every file of every part with its unrendered child path. The root part leaves out `template.toml` and the
/// folders of other parts (an include inside the root lands only where `to` says).
fn plan(source: &TemplateSource) -> Vec<Planned<'_>> {
    let manifest_path = join_tree_path(&source.root, MANIFEST_FILE);
    let mut planned = Vec::new();
    for (index, part) in source.parts.iter().enumerate() {
        let prefix = if part.tree_path.is_empty() {
            String::new()
        } else {
            format!("{}/", part.tree_path)
        };
        for (tree_path, file) in source.files.range(prefix.clone()..) {
            let Some(inside) = tree_path.strip_prefix(&prefix) else {
                break;
            };
            let inside_other_part = source.parts.iter().enumerate().any(|(other, other_part)| {
                other != index
                    && other_part.tree_path.len() > part.tree_path.len()
                    && tree_path.starts_with(&format!("{}/", other_part.tree_path))
            });
            if (index == 0 && *tree_path == manifest_path) || inside_other_part {
                continue;
            }
            planned.push(Planned {
                tree_path,
                file,
                raw_child_path: join_tree_path(&part.child_path, inside),
            });
        }
    }
    planned
}

/// Parses every `.tera` file into one Tera instance (named by its source path), so they may include each other.
fn parse_templates(planned: &[Planned<'_>]) -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    tera.autoescape_on(Vec::new());
    let mut sources = Vec::new();
    for item in planned
        .iter()
        .filter(|item| item.tree_path.ends_with(TERA_SUFFIX) && !item.file.link)
    {
        let text = std::str::from_utf8(&item.file.contents).map_err(|_| RenderError::Template {
            template: item.tree_path.to_string(),
            line: None,
            message: "a `.tera` file must be UTF-8 text".to_string(),
        })?;
        sources.push((item.tree_path, text));
    }
    tera.add_raw_templates(sources.iter().copied())
        .map_err(|error| {
            let template = failing_template_name(&error, &sources);
            let text = sources
                .iter()
                .find(|(name, _)| *name == template)
                .map(|(_, text)| *text);
            template_error(&template, text, &error)
        })?;
    Ok(tera)
}

fn render_contents(
    tera: &Tera,
    item: &Planned<'_>,
    context: &Context,
) -> Result<Vec<u8>, RenderError> {
    if !item.tree_path.ends_with(TERA_SUFFIX) || item.file.link {
        return Ok(item.file.contents.to_vec());
    }
    tera.render(item.tree_path, context)
        .map(String::into_bytes)
        .map_err(|error| {
            let text = std::str::from_utf8(&item.file.contents).ok();
            template_error(item.tree_path, text, &error)
        })
}

/// Renders each segment holding Tera; `None` when one comes out empty (a conditional file or folder).
fn render_child_path(raw: &str, context: &Context) -> Result<Option<String>, RenderError> {
    let raw = raw.strip_suffix(TERA_SUFFIX).unwrap_or(raw);
    let mut segments = Vec::new();
    for segment in raw.split('/') {
        let rendered =
            render_expression(segment, context).map_err(|message| RenderError::Path {
                path: raw.to_string(),
                message,
            })?;
        let rendered = rendered.trim();
        if rendered.is_empty() {
            return Ok(None);
        }
        if rendered == "." || rendered == ".." || rendered.contains('/') || rendered.contains('\\')
        {
            return Err(RenderError::Path {
                path: raw.to_string(),
                message: format!(
                    "segment `{segment}` renders to `{rendered}`, which is not a file name"
                ),
            });
        }
        segments.push(rendered.to_string());
    }
    Ok(Some(segments.join("/")))
}

static VARIABLE_NOT_FOUND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Variable `([^`]+)` not found").expect("constant regex"));
static PARSE_LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--> (\d+):(\d+)").expect("constant regex"));
static TEMPLATE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"'([^']+)'").expect("constant regex"));

/// Turns Tera's error chain into one message naming the file, the line and, when undefined, the variable.
fn template_error(template: &str, text: Option<&str>, error: &tera::Error) -> RenderError {
    let messages = tera_error_messages(error);
    let undefined = messages
        .iter()
        .find_map(|message| VARIABLE_NOT_FOUND.captures(message))
        .map(|captures| captures[1].to_string());
    if let Some(variable) = undefined {
        return RenderError::Template {
            template: template.to_string(),
            line: text.and_then(|text| line_using(text, &variable)),
            message: format!("variable `{variable}` is not defined"),
        };
    }
    let line = messages
        .iter()
        .find_map(|message| PARSE_LOCATION.captures(message))
        .and_then(|captures| captures[1].parse().ok());
    let deepest = messages.last().cloned().unwrap_or_default();
    RenderError::Template {
        template: template.to_string(),
        line,
        message: deepest.trim().replace('\n', " "),
    }
}

/// The first line where a Tera tag mentions `variable` (its first dotted segment).
fn line_using(text: &str, variable: &str) -> Option<usize> {
    let stem = variable.split(['.', '[']).next().unwrap_or(variable);
    let word = Regex::new(&format!(r"\b{}\b", regex::escape(stem))).ok()?;
    text.lines()
        .position(|line| (line.contains("{{") || line.contains("{%")) && word.is_match(line))
        .map(|index| index + 1)
}

/// Which template `add_raw_templates` failed on: Tera names it in its outer message (`Failed to parse 'x'`).
fn failing_template_name(error: &tera::Error, sources: &[(&str, &str)]) -> String {
    tera_error_messages(error)
        .iter()
        .filter_map(|message| TEMPLATE_NAME.captures(message))
        .map(|captures| captures[1].to_string())
        .find(|name| sources.iter().any(|(source, _)| source == name))
        .unwrap_or_else(|| "a template".to_string())
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;

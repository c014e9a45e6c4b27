//! Templates as a pipeline of values: a source is loaded (`source::load`), its questions answered
//! (`answers::resolve`), and it is rendered in memory (`render::render`) into a `RenderedTree` that callers
//! write to disk or turn into git trees. Nothing here changes the process's state or touches the destination.

pub mod answers;
pub mod manifest;
pub mod name;
pub mod prompt;
mod reader;
pub mod render;
pub mod source;
mod source_error;
pub mod tree;

pub use answers::{AnswerLayer, AnswerValue, Answers, AnswersError, Unanswered, resolve};
pub use manifest::{Manifest, Question, QuestionKind};
pub use name::{ChildName, NameError};
pub use render::{RenderError, render};
pub use source::{SourceError, SourceKind, SourceRecord, SourceSpec, TemplateSource, load};
pub use tree::{RenderedFile, RenderedTree};

use tera::{Context, Tera};

/// The version of osorganic itself, as templates and records see it.
pub const OSORGANIC_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The variables every template sees before any answer: `project_name`, `python_name`, `template_name`,
/// `template_version`, `osorganic_version`.
pub fn builtin_context(manifest: &Manifest, child: &ChildName) -> Context {
    let mut context = Context::new();
    context.insert("project_name", child.project_name());
    context.insert("python_name", &child.python_name());
    context.insert("template_name", &manifest.template.name);
    context.insert("template_version", &manifest.template.version);
    context.insert("osorganic_version", OSORGANIC_VERSION);
    context
}

/// Renders a short Tera string (a default, a condition, a path segment); plain text is returned as it is.
pub fn render_expression(text: &str, context: &Context) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
        return Ok(text.to_string());
    }
    Tera::one_off(text, context, false).map_err(|error| tera_error_messages(&error).join(": "))
}

/// Tera's message and every cause under it, outermost first; the useful one is usually last.
pub fn tera_error_messages(error: &tera::Error) -> Vec<String> {
    let mut messages = vec![error.to_string()];
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        messages.push(current.to_string());
        cause = current.source();
    }
    messages
}

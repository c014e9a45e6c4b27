//! What every template expression sees before any answer (the built-in variables), how a short Tera string is
//! rendered, and how a Tera error is told with all its causes.

use super::manifest::Manifest;
use super::name::ChildName;

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

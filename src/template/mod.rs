//! Templates as a pipeline of values: a source is loaded (`source::load`), its questions answered
//! (`answers::resolve`), and it is rendered in memory (`render::render`) into a `RenderedTree` that callers
//! write to disk or turn into git trees. Nothing here changes the process's state or touches the destination.

pub mod answers;
mod context;
pub mod help;
pub mod manifest;
pub mod name;
pub mod prompt;
mod reader;
pub mod render;
pub mod source;
mod source_error;
pub mod tree;

pub use answers::{AnswerLayer, AnswerValue, Answers, AnswersError, Unanswered, resolve};
pub use context::{OSORGANIC_VERSION, builtin_context, render_expression, tera_error_messages};
pub use manifest::{Manifest, Question, QuestionKind};
pub use name::{ChildName, NameError};
pub use render::{RenderError, render};
pub use source::{SourceError, SourceKind, SourceRecord, SourceSpec, TemplateSource, load};
pub use tree::{RenderedFile, RenderedTree};

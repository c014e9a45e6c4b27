//! The template's questions as help text: what `spawn --help` lists under the examples, so every key a
//! `--define` or an answers file can set is visible without reading `template.toml`.

use std::fmt::Write;

use super::manifest::{Manifest, Question, QuestionKind};

/// One block per question, in manifest order: the key and its help, then what it takes and its default.
pub fn questions_help(manifest: &Manifest) -> String {
    let mut text = format!(
        "Questions of the {} template {} (answer with --define KEY=VALUE or in --answers-file):",
        manifest.template.name, manifest.template.version
    );
    for question in &manifest.questions {
        let _ = write!(
            text,
            "\n  {}\n      {}\n      {}",
            question.name,
            question.help,
            takes(question)
        );
    }
    text
}

/// `text`, `true or false`, `a whole number`, or the choices; then when it is asked and its default.
fn takes(question: &Question) -> String {
    let mut text = match question.kind {
        QuestionKind::String => "text".to_owned(),
        QuestionKind::Bool => "true or false".to_owned(),
        QuestionKind::Int => "a whole number".to_owned(),
        QuestionKind::Choice => format!("one of: {}", question.choices.join(", ")),
    };
    if let Some(condition) = &question.when {
        let _ = write!(text, "; asked when {condition}");
    }
    if question.secret {
        text.push_str("; secret, never written to disk");
    }
    match question.default.as_ref().map(default_shown) {
        Some(Some(default)) => {
            let _ = write!(text, " [default: {default}]");
        }
        Some(None) => text.push_str(" [default: from earlier answers]"),
        None => {}
    }
    text
}

/// A literal default as a person would type it; `None` when it is an expression over earlier answers.
fn default_shown(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) if text.contains("{{") || text.contains("{%") => None,
        toml::Value::String(text) if text.is_empty() => Some("empty".to_owned()),
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Array(items) if items.is_empty() => Some("none".to_owned()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::questions_help;
    use crate::template::Manifest;

    #[test]
    fn every_question_is_listed_with_what_it_takes_and_its_default() {
        let manifest = Manifest::parse(
            r#"
[template]
name = "t"
version = "1.2.0"

[questions.domain]
type = "choice"
help = "Domain preset"
choices = ["general", "saas"]
default = "general"

[questions.bot]
type = "string"
help = "Bot login"
default = "{{ project_name }}-bot"
when = "domain == 'saas'"

[questions.token]
type = "string"
help = "A token"
secret = true
"#,
        )
        .unwrap();

        let help = questions_help(&manifest);

        assert_eq!(
            help,
            "Questions of the t template 1.2.0 (answer with --define KEY=VALUE or in --answers-file):\n  \
             domain\n      Domain preset\n      one of: general, saas [default: general]\n  \
             bot\n      Bot login\n      text; asked when domain == 'saas' [default: from earlier answers]\n  \
             token\n      A token\n      text; secret, never written to disk"
        );
    }
}

//! The answers of the new render: the recorded ones the new version still asks, under `--define` and, for secret
//! questions (never recorded), the environment; new questions by default with `--yes`, on a terminal, or refused.

use anyhow::Result;

use super::request::UpdateRequest;
use crate::record::{ChildRecord, RECORD_FILE};
use crate::template::answers::{self, AnswerLayer, Answers, AnswersError, Unanswered};
use crate::template::name::ChildName;
use crate::template::prompt::TerminalPrompter;
use crate::template::source::TemplateSource;
use crate::user_error::UserError;

/// The variable that gives a secret answer to an update: `OSORGANIC_ANSWER_API_TOKEN` for `api_token`.
pub fn secret_variable(question: &str) -> String {
    format!("OSORGANIC_ANSWER_{}", question.to_uppercase())
}

/// Recorded answers (for questions the new version still asks) under `--define` and, for secret questions, the
/// environment; new questions by default with `--yes`, on the terminal, or refused. Also returns the secret
/// questions nothing gave, which took their default.
pub fn resolve_answers(
    source: &TemplateSource,
    record: &ChildRecord,
    request: &UpdateRequest,
    child_name: &ChildName,
) -> Result<(Answers, Vec<String>)> {
    let recorded: toml::Table = record
        .answers
        .iter()
        .filter(|(name, _)| source.manifest.question(name).is_some())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let secrets: Vec<&str> = source
        .manifest
        .questions
        .iter()
        .filter(|question| question.secret)
        .map(|question| question.name.as_str())
        .collect();
    let from_environment: toml::Table = secrets
        .iter()
        .filter_map(|name| {
            let value = std::env::var(secret_variable(name)).ok()?;
            Some((name.to_string(), toml::Value::String(value)))
        })
        .collect();
    let layers = [
        AnswerLayer::from_defines(&request.defines)?,
        AnswerLayer::new("the environment", from_environment),
        AnswerLayer::new(format!("`{RECORD_FILE}`"), recorded),
    ];
    let prompter = TerminalPrompter::new();
    let unanswered = if request.yes {
        Unanswered::UseDefaults
    } else if TerminalPrompter::available() {
        Unanswered::Prompt(&prompter)
    } else {
        Unanswered::Refuse
    };
    let answers = match answers::resolve(&source.manifest, child_name, &layers, unanswered) {
        Err(AnswersError::Unanswered(lines)) => {
            return Err(UserError::usage(format!(
                "{} not answered and there is no terminal to ask:\n{}",
                if lines.len() == 1 {
                    "1 question is"
                } else {
                    "these questions are"
                },
                lines.join("\n")
            ))
            .with_hint(
                "answer with `--define NAME=VALUE`, or accept the defaults of new questions with `--yes`",
            )
            .into());
        }
        other => other?,
    };
    let defaulted_secrets = if request.yes {
        secrets
            .into_iter()
            .filter(|name| answers.get(name).is_some())
            .filter(|name| layers.iter().all(|layer| !layer.values.contains_key(*name)))
            .map(str::to_owned)
            .collect()
    } else {
        Vec::new()
    };
    Ok((answers, defaulted_secrets))
}

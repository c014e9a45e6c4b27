//! Answers to a template's questions: gathered from layers of given values (`--define`, `--answers-file`,
//! a recorded `.osorganic.toml`), then a prompt or the defaults, checked against each question.

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use super::context::{builtin_context, render_expression};
use super::manifest::{Manifest, Question, QuestionKind};
use super::name::ChildName;

/// One answer's value, typed by its question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AnswerValue {
    String(String),
    Bool(bool),
    Int(i64),
}

impl AnswerValue {
    pub fn to_toml(&self) -> toml::Value {
        match self {
            Self::String(text) => toml::Value::String(text.clone()),
            Self::Bool(value) => toml::Value::Boolean(*value),
            Self::Int(value) => toml::Value::Integer(*value),
        }
    }
}

impl fmt::Display for AnswerValue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => write!(formatter, "{text:?}"),
            Self::Bool(value) => write!(formatter, "{value}"),
            Self::Int(value) => write!(formatter, "{value}"),
        }
    }
}

/// One resolved answer. `recorded` is false for secrets and for questions whose `when` was false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub value: AnswerValue,
    pub recorded: bool,
}

/// Every question's answer, in manifest order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub entries: Vec<Answer>,
}

impl Answers {
    pub fn get(&self, name: &str) -> Option<&AnswerValue> {
        self.entries
            .iter()
            .find(|answer| answer.name == name)
            .map(|answer| &answer.value)
    }

    /// The answers written to `.osorganic.toml`: secrets and unasked questions left out.
    pub fn recorded(&self) -> toml::Table {
        self.entries
            .iter()
            .filter(|answer| answer.recorded)
            .map(|answer| (answer.name.clone(), answer.value.to_toml()))
            .collect()
    }

    /// Adds every answer (secrets too: they may be rendered) to a Tera context.
    pub fn fill_context(&self, context: &mut tera::Context) {
        for answer in &self.entries {
            context.insert(answer.name.as_str(), &answer.value);
        }
    }
}

/// Values given before any prompt, e.g. from `--define` or an answers file. Earlier layers win.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerLayer {
    /// Where the values come from, for messages: `--define`, `` `answers.toml` ``.
    pub origin: String,
    pub values: toml::Table,
}

impl AnswerLayer {
    pub fn new(origin: impl Into<String>, values: toml::Table) -> Self {
        Self {
            origin: origin.into(),
            values,
        }
    }

    /// Parses `KEY=VALUE` definitions; values stay strings and are typed by their question later.
    pub fn from_defines(defines: &[String]) -> Result<Self, AnswersError> {
        let mut values = toml::Table::new();
        for define in defines {
            let Some((key, value)) = define.split_once('=') else {
                return Err(AnswersError::BadDefine(define.clone()));
            };
            values.insert(
                key.trim().to_string(),
                toml::Value::String(value.to_string()),
            );
        }
        Ok(Self::new("--define", values))
    }
}

/// What to do with a question no layer answers.
#[derive(Clone, Copy)]
pub enum Unanswered<'a> {
    /// Ask on the terminal.
    Prompt(&'a dyn Prompter),
    /// Take the default (`--yes`).
    UseDefaults,
    /// Stop and list every such question (no terminal, no `--yes`).
    Refuse,
}

/// Asks one question interactively. `default` is already rendered; the answer is checked by the caller.
pub trait Prompter {
    fn ask(
        &self,
        question: &Question,
        default: Option<&AnswerValue>,
    ) -> Result<AnswerValue, AnswersError>;
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AnswersError {
    #[error("`--define {0}` is not of the form KEY=VALUE")]
    BadDefine(String),
    #[error("{origin} answers `{key}`, which the template does not ask (it asks: {known})")]
    UnknownKey {
        key: String,
        origin: String,
        known: String,
    },
    #[error("{origin} answers `{question}` with {value}, but it accepts {accepts}")]
    Invalid {
        question: String,
        origin: String,
        value: String,
        accepts: String,
    },
    #[error("the default of `{question}` cannot be rendered: {message}")]
    BadDefault { question: String, message: String },
    #[error("{}", unanswered_message(.0))]
    Unanswered(Vec<String>),
    #[error("could not ask `{question}`: {message}")]
    Prompt { question: String, message: String },
}

fn unanswered_message(lines: &[String]) -> String {
    format!(
        "{} not answered and there is no terminal to ask:\n{}\nanswer with `--define NAME=VALUE` or \
         `--answers-file FILE` (TOML), or accept the defaults with `--yes`",
        if lines.len() == 1 {
            "1 question is"
        } else {
            "these questions are"
        },
        lines.join("\n")
    )
}

/// Answers every question of `manifest`, in order: layers first, then `unanswered` decides.
pub fn resolve(
    manifest: &Manifest,
    child: &ChildName,
    layers: &[AnswerLayer],
    unanswered: Unanswered<'_>,
) -> Result<Answers, AnswersError> {
    reject_unknown_keys(manifest, layers)?;
    let mut context = builtin_context(manifest, child);
    let mut answers = Answers::default();
    let mut missing = Vec::new();
    for question in &manifest.questions {
        let asked = is_asked(question, &context)?;
        let default = rendered_default(question, &context)?;
        let value = if !asked {
            default
        } else if let Some(given) = given_value(question, layers)? {
            Some(given)
        } else {
            match unanswered {
                Unanswered::UseDefaults if default.is_some() => default,
                Unanswered::Prompt(prompter) => {
                    Some(ask_until_valid(prompter, question, default.as_ref())?)
                }
                _ => {
                    missing.push(describe_unanswered(question, default.as_ref()));
                    default
                }
            }
        };
        // An unasked question without a default stays undefined for the templates.
        let Some(value) = value else { continue };
        context.insert(question.name.as_str(), &value);
        answers.entries.push(Answer {
            name: question.name.clone(),
            value,
            recorded: asked && !question.secret,
        });
    }
    if missing.is_empty() {
        Ok(answers)
    } else {
        Err(AnswersError::Unanswered(missing))
    }
}

/// Checks one value against its question; the error text says what the question accepts.
pub fn parse_answer(question: &Question, value: &toml::Value) -> Result<AnswerValue, String> {
    let parsed = match (question.kind, value) {
        (QuestionKind::String, toml::Value::String(text)) => {
            Some(AnswerValue::String(text.clone()))
        }
        (QuestionKind::Bool, toml::Value::Boolean(flag)) => Some(AnswerValue::Bool(*flag)),
        (QuestionKind::Bool, toml::Value::String(text)) => parse_bool(text).map(AnswerValue::Bool),
        (QuestionKind::Int, toml::Value::Integer(number)) => Some(AnswerValue::Int(*number)),
        (QuestionKind::Int, toml::Value::String(text)) => {
            text.trim().parse().ok().map(AnswerValue::Int)
        }
        (QuestionKind::Choice, toml::Value::String(text)) => {
            Some(AnswerValue::String(text.clone()))
        }
        (QuestionKind::Choice, toml::Value::Integer(_) | toml::Value::Float(_)) => {
            Some(AnswerValue::String(value.to_string()))
        }
        _ => None,
    };
    let accepted = parsed.filter(|parsed| fits_question(question, parsed));
    accepted.ok_or_else(|| accepts(question))
}

/// What a question accepts, in words: `one of: hobby, pro`.
pub fn accepts(question: &Question) -> String {
    let base = match question.kind {
        QuestionKind::String => "a string".to_string(),
        QuestionKind::Bool => "true or false".to_string(),
        QuestionKind::Int => "an integer".to_string(),
        QuestionKind::Choice => format!("one of: {}", question.choices.join(", ")),
    };
    // The rule in words: the question's help says what a valid answer looks like; the regex is for the machine.
    match (&question.validate, question.help.as_str()) {
        (Some(_), "") => format!(
            "{base} in the form the template's `{}` question asks for",
            question.name
        ),
        (Some(_), help) => format!("{base} as the question asks: {help}"),
        (None, _) => base,
    }
}

fn fits_question(question: &Question, value: &AnswerValue) -> bool {
    let text = match value {
        AnswerValue::String(text) => text.clone(),
        other => other.to_string(),
    };
    let in_choices = question.kind != QuestionKind::Choice || question.choices.contains(&text);
    let matches = question
        .validate
        .as_ref()
        .is_none_or(|regex| regex.is_match(&text));
    in_choices && matches
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

fn reject_unknown_keys(manifest: &Manifest, layers: &[AnswerLayer]) -> Result<(), AnswersError> {
    for layer in layers {
        if let Some(key) = layer
            .values
            .keys()
            .find(|key| manifest.question(key).is_none())
        {
            let known: Vec<&str> = manifest.questions.iter().map(|q| q.name.as_str()).collect();
            return Err(AnswersError::UnknownKey {
                key: key.clone(),
                origin: layer.origin.clone(),
                known: if known.is_empty() {
                    "nothing".to_string()
                } else {
                    known.join(", ")
                },
            });
        }
    }
    Ok(())
}

fn given_value(
    question: &Question,
    layers: &[AnswerLayer],
) -> Result<Option<AnswerValue>, AnswersError> {
    let Some(layer) = layers
        .iter()
        .find(|layer| layer.values.contains_key(&question.name))
    else {
        return Ok(None);
    };
    let value = &layer.values[&question.name];
    parse_answer(question, value)
        .map(Some)
        .map_err(|accepts| AnswersError::Invalid {
            question: question.name.clone(),
            origin: layer.origin.clone(),
            value: value.to_string(),
            accepts,
        })
}

fn is_asked(question: &Question, context: &tera::Context) -> Result<bool, AnswersError> {
    let Some(condition) = &question.when else {
        return Ok(true);
    };
    let expression = format!("{{% if {condition} %}}true{{% endif %}}");
    let rendered =
        render_expression(&expression, context).map_err(|message| AnswersError::BadDefault {
            question: question.name.clone(),
            message: format!("`when = {condition:?}`: {message}"),
        })?;
    Ok(rendered == "true")
}

fn rendered_default(
    question: &Question,
    context: &tera::Context,
) -> Result<Option<AnswerValue>, AnswersError> {
    let Some(default) = &question.default else {
        return Ok(None);
    };
    let bad_default = |message: String| AnswersError::BadDefault {
        question: question.name.clone(),
        message,
    };
    let value = match default {
        toml::Value::String(text) => {
            toml::Value::String(render_expression(text, context).map_err(bad_default)?)
        }
        other => other.clone(),
    };
    parse_answer(question, &value).map(Some).map_err(|accepts| {
        bad_default(format!(
            "it gives {value}, but the question accepts {accepts}"
        ))
    })
}

fn ask_until_valid(
    prompter: &dyn Prompter,
    question: &Question,
    default: Option<&AnswerValue>,
) -> Result<AnswerValue, AnswersError> {
    let value = prompter.ask(question, default)?;
    let as_toml = value.to_toml();
    parse_answer(question, &as_toml).map_err(|accepts| AnswersError::Invalid {
        question: question.name.clone(),
        origin: "the prompt".to_string(),
        value: as_toml.to_string(),
        accepts,
    })
}

fn describe_unanswered(question: &Question, default: Option<&AnswerValue>) -> String {
    let default = match default {
        Some(value) => format!("; default {value}"),
        None => "; no default".to_string(),
    };
    format!(
        "  {} ({}{default}): {}",
        question.name,
        accepts(question),
        question.help
    )
}

#[cfg(test)]
#[path = "answers_tests.rs"]
mod tests;

//! Asking questions on the terminal with dialoguer: a select for choices, a confirm for booleans, a password
//! field for secrets, and a text line (checked as it is typed) for everything else.

use console::Term;
use dialoguer::{Confirm, Input, Password, Select};

use super::answers::{AnswerValue, AnswersError, Prompter, parse_answer};
use super::manifest::{Question, QuestionKind};

/// Prompts on stderr, so stdout stays free for data.
pub struct TerminalPrompter {
    term: Term,
}

impl TerminalPrompter {
    pub fn new() -> Self {
        Self {
            term: Term::stderr(),
        }
    }

    /// Whether prompting is possible: stdin and stderr are both terminals.
    pub fn available() -> bool {
        console::user_attended_stderr() && std::io::IsTerminal::is_terminal(&std::io::stdin())
    }
}

impl Default for TerminalPrompter {
    fn default() -> Self {
        Self::new()
    }
}

impl Prompter for TerminalPrompter {
    fn ask(
        &self,
        question: &Question,
        default: Option<&AnswerValue>,
    ) -> Result<AnswerValue, AnswersError> {
        let prompt = if question.help.is_empty() {
            question.name.clone()
        } else {
            format!("{} ({})", question.help, question.name)
        };
        let failed = |error: dialoguer::Error| {
            // A prompt that fails, Ctrl-C included, may leave the cursor hidden (a choice menu hides it): show it
            // here, before the error travels up and the process exits, whatever the Ctrl-C handler gets to do.
            let _ = self.term.show_cursor();
            let interrupted = matches!(
                &error,
                dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted
            );
            AnswersError::Prompt {
                question: question.name.clone(),
                message: if interrupted {
                    "interrupted (Ctrl-C); nothing was written".to_owned()
                } else {
                    error.to_string()
                },
            }
        };
        match question.kind {
            QuestionKind::Choice => {
                let default_index = match default {
                    Some(AnswerValue::String(text)) => {
                        question.choices.iter().position(|choice| choice == text)
                    }
                    _ => None,
                };
                let index = Select::new()
                    .with_prompt(prompt)
                    .items(&question.choices)
                    .default(default_index.unwrap_or(0))
                    .interact_on(&self.term)
                    .map_err(failed)?;
                Ok(AnswerValue::String(question.choices[index].clone()))
            }
            QuestionKind::Bool => {
                let mut confirm = Confirm::new().with_prompt(prompt);
                if let Some(AnswerValue::Bool(value)) = default {
                    confirm = confirm.default(*value);
                }
                confirm
                    .interact_on(&self.term)
                    .map(AnswerValue::Bool)
                    .map_err(failed)
            }
            _ if question.secret => Password::new()
                .with_prompt(prompt)
                .allow_empty_password(true)
                .interact_on(&self.term)
                .map(AnswerValue::String)
                .map_err(failed),
            _ => {
                let mut input = Input::<String>::new().with_prompt(prompt).allow_empty(true);
                // An empty default is no default: dialoguer would show it as `[]`; an empty answer is allowed anyway.
                if let Some(default) = default.map(plain_text).filter(|text| !text.is_empty()) {
                    input = input.default(default);
                }
                let text = input
                    .validate_with(|text: &String| {
                        parse_answer(question, &toml::Value::String(text.clone()))
                            .map(|_| ())
                            .map_err(|accepts| format!("`{}` accepts {accepts}", question.name))
                    })
                    .interact_text_on(&self.term)
                    .map_err(failed)?;
                parse_answer(question, &toml::Value::String(text)).map_err(|accepts| {
                    AnswersError::Prompt {
                        question: question.name.clone(),
                        message: format!("it accepts {accepts}"),
                    }
                })
            }
        }
    }
}

fn plain_text(value: &AnswerValue) -> String {
    match value {
        AnswerValue::String(text) => text.clone(),
        AnswerValue::Bool(flag) => flag.to_string(),
        AnswerValue::Int(number) => number.to_string(),
    }
}

//! Unit tests of answers: precedence of the layers, defaults, validation and the unanswered report.

use super::*;

const MANIFEST: &str = r#"
[template]
name = "t"
version = "1.2.3"

[questions.plan]
type = "choice"
help = "Vercel plan"
choices = ["hobby", "pro"]
default = "hobby"

[questions.provider]
type = "choice"
choices = ["openai", "offline"]
default = "openai"

[questions.model]
type = "string"
default = "{% if provider == 'openai' %}gpt{% else %}none{% endif %}"
when = "provider != 'offline'"

[questions.bot]
type = "string"
default = "{{ project_name }}-bot"
validate = '^[a-z-]+$'

[questions.token]
type = "string"
default = ""
secret = true

[questions.workers]
type = "int"
default = 2

[questions.strict]
type = "bool"
default = false
"#;

fn manifest() -> Manifest {
    Manifest::parse(MANIFEST).unwrap()
}

fn child() -> ChildName {
    ChildName::parse("demo").unwrap()
}

fn defines(pairs: &[&str]) -> AnswerLayer {
    AnswerLayer::from_defines(
        &pairs
            .iter()
            .map(|pair| pair.to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

#[test]
fn defaults_render_over_earlier_answers_and_builtins() {
    let answers = resolve(&manifest(), &child(), &[], Unanswered::UseDefaults).unwrap();
    assert_eq!(
        answers.get("model"),
        Some(&AnswerValue::String("gpt".into()))
    );
    assert_eq!(
        answers.get("bot"),
        Some(&AnswerValue::String("demo-bot".into()))
    );
    assert_eq!(answers.get("workers"), Some(&AnswerValue::Int(2)));
    assert_eq!(answers.get("strict"), Some(&AnswerValue::Bool(false)));
}

#[test]
fn define_wins_over_the_answers_file() {
    let mut file = toml::Table::new();
    file.insert("plan".into(), toml::Value::String("hobby".into()));
    file.insert("workers".into(), toml::Value::Integer(5));
    let layers = [
        defines(&["plan=pro"]),
        AnswerLayer::new("`answers.toml`", file),
    ];
    let answers = resolve(&manifest(), &child(), &layers, Unanswered::UseDefaults).unwrap();
    assert_eq!(
        answers.get("plan"),
        Some(&AnswerValue::String("pro".into()))
    );
    assert_eq!(answers.get("workers"), Some(&AnswerValue::Int(5)));
}

#[test]
fn values_given_as_text_are_typed_by_their_question() {
    let layers = [defines(&["workers=7", "strict=yes"])];
    let answers = resolve(&manifest(), &child(), &layers, Unanswered::UseDefaults).unwrap();
    assert_eq!(answers.get("workers"), Some(&AnswerValue::Int(7)));
    assert_eq!(answers.get("strict"), Some(&AnswerValue::Bool(true)));
}

#[test]
fn secrets_and_unasked_questions_are_not_recorded() {
    let layers = [defines(&["provider=offline", "token=s3cret"])];
    let answers = resolve(&manifest(), &child(), &layers, Unanswered::UseDefaults).unwrap();
    assert_eq!(
        answers.get("token"),
        Some(&AnswerValue::String("s3cret".into()))
    );
    assert_eq!(
        answers.get("model"),
        Some(&AnswerValue::String("none".into()))
    );
    let recorded = answers.recorded();
    assert!(!recorded.contains_key("token"));
    assert!(!recorded.contains_key("model"));
    assert!(recorded.contains_key("plan"));
}

#[test]
fn a_bad_choice_names_the_question_and_its_choices() {
    let error = resolve(
        &manifest(),
        &child(),
        &[defines(&["plan=enterprise"])],
        Unanswered::UseDefaults,
    )
    .unwrap_err();
    assert_eq!(
        error,
        AnswersError::Invalid {
            question: "plan".into(),
            origin: "--define".into(),
            value: "\"enterprise\"".into(),
            accepts: "one of: hobby, pro".into(),
        }
    );
}

#[test]
fn a_regex_mismatch_says_the_rule_in_words_not_the_pattern() {
    let error = resolve(
        &manifest(),
        &child(),
        &[defines(&["bot=Not Valid"])],
        Unanswered::UseDefaults,
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(!message.contains("^[a-z-]+$"), "{message}");
    assert!(
        message.contains("in the form the template's `bot` question asks for"),
        "{message}"
    );
}

#[test]
fn an_unknown_key_lists_the_questions() {
    let error = resolve(
        &manifest(),
        &child(),
        &[defines(&["colour=red"])],
        Unanswered::UseDefaults,
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("`colour`") && message.contains("plan, provider"),
        "{message}"
    );
}

#[test]
fn a_define_without_equals_is_refused() {
    let error = AnswerLayer::from_defines(&["plan".to_string()]).unwrap_err();
    assert_eq!(error, AnswersError::BadDefine("plan".into()));
}

#[test]
fn refusing_lists_every_unanswered_question_and_the_flags() {
    let layers = [defines(&["plan=pro"])];
    let error = resolve(&manifest(), &child(), &layers, Unanswered::Refuse).unwrap_err();
    let AnswersError::Unanswered(lines) = &error else {
        panic!("unexpected error {error}");
    };
    let names: Vec<&str> = lines
        .iter()
        .map(|line| line.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["provider", "model", "bot", "token", "workers", "strict"]
    );
    let message = error.to_string();
    assert!(
        message.contains("--define")
            && message.contains("--answers-file")
            && message.contains("--yes")
    );
}

struct Scripted;

impl Prompter for Scripted {
    fn ask(
        &self,
        question: &Question,
        default: Option<&AnswerValue>,
    ) -> Result<AnswerValue, AnswersError> {
        match question.name.as_str() {
            "plan" => Ok(AnswerValue::String("pro".into())),
            _ => default.cloned().ok_or_else(|| AnswersError::Prompt {
                question: question.name.clone(),
                message: "no default".into(),
            }),
        }
    }
}

#[test]
fn the_prompt_answers_what_no_layer_does() {
    let layers = [defines(&["workers=9"])];
    let answers = resolve(
        &manifest(),
        &child(),
        &layers,
        Unanswered::Prompt(&Scripted),
    )
    .unwrap();
    assert_eq!(
        answers.get("plan"),
        Some(&AnswerValue::String("pro".into()))
    );
    assert_eq!(answers.get("workers"), Some(&AnswerValue::Int(9)));
}

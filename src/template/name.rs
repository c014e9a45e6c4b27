//! `ChildName`: a child's name, checked once so it is usable as a folder, a Vercel project name and a Python
//! identifier stem. A refused name comes with its normalised form as a suggestion (`My Shop` -> `my-shop`).

use std::fmt;

use thiserror::Error;

/// Vercel allows 100 characters; 64 keeps the folder, the repository and the Python stem readable.
pub const MAX_NAME_LEN: usize = 64;

/// Python's lowercase keywords (`None`, `True` and `False` are capitalised: `none` is a fine stem).
const PYTHON_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Device names Windows reserves in every folder: a folder called `con` cannot be created or cloned there.
const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A valid child name: lowercase ASCII letters and digits in dash-separated words, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildName(String);

/// Why a name was refused; `suggestion` is the normalised form when there is one.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{name}` cannot be a child name: {reason}{}", suggestion_text(.suggestion))]
pub struct NameError {
    pub name: String,
    pub reason: String,
    pub suggestion: Option<String>,
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(suggestion) => format!(" (try `{suggestion}`)"),
        None => String::new(),
    }
}

impl ChildName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        match refusal_reason(text) {
            None => Ok(Self(text.to_string())),
            Some(reason) => Err(NameError {
                name: text.to_string(),
                reason: reason.to_string(),
                suggestion: Some(normalise(text))
                    .filter(|normalised| refusal_reason(normalised).is_none()),
            }),
        }
    }

    /// The kebab-case name: folder, Vercel project, `project_name` in templates (`my-shop`).
    pub fn project_name(&self) -> &str {
        &self.0
    }

    /// The snake-case stem: `python_name` in templates (`my_shop`).
    pub fn python_name(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl fmt::Display for ChildName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

fn refusal_reason(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        return Some("it is empty");
    }
    if text.contains('/') || text.contains('\\') {
        return Some("it contains a path separator (use `--dest` to choose the folder)");
    }
    if text == "." || text.contains("..") {
        return Some("it contains `.` or `..`");
    }
    if text.len() > MAX_NAME_LEN {
        return Some("it is longer than 64 characters");
    }
    let words_ok = text.split('-').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !words_ok || !text.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some(
            "use lowercase letters, digits and single dashes between words, starting with a letter",
        );
    }
    if PYTHON_KEYWORDS.contains(&text) {
        return Some("it is a Python keyword");
    }
    if WINDOWS_RESERVED.contains(&text) {
        return Some(
            "Windows reserves it as a device name, so the folder could not be cloned there",
        );
    }
    None
}

/// Lowercase, accented Latin letters folded to their base (`é` -> `e`, `ß` -> `ss`), every run of other
/// characters one dash, leading digits and dashes dropped, cut to length.
pub fn normalise(text: &str) -> String {
    let mut normalised = String::new();
    for character in text.chars().flat_map(|c| c.to_lowercase()) {
        if let Some(base) = latin_base(character) {
            normalised.push_str(base);
        } else if character.is_ascii_alphanumeric() {
            normalised.push(character);
        } else if !normalised.is_empty() && !normalised.ends_with('-') {
            normalised.push('-');
        }
    }
    let trimmed = normalised.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut cut: String = trimmed.chars().take(MAX_NAME_LEN).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    cut
}

/// The ASCII letters an accented lowercase Latin letter stands for, if it is one.
fn latin_base(character: char) -> Option<&'static str> {
    Some(match character {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' | 'ľ' | 'ĺ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_give_both_forms() {
        let name = ChildName::parse("my-shop2").unwrap();
        assert_eq!(name.project_name(), "my-shop2");
        assert_eq!(name.python_name(), "my_shop2");
    }

    #[test]
    fn spaces_and_capitals_suggest_the_normalised_form() {
        let error = ChildName::parse("My Shop").unwrap_err();
        assert_eq!(error.suggestion.as_deref(), Some("my-shop"));
        assert!(error.to_string().contains("(try `my-shop`)"));
    }

    #[test]
    fn path_like_and_empty_names_are_refused() {
        for bad in [
            "", "a/b", "..", "a..b", "a\\b", "-x", "1x", "a--b", "a_b", "class",
        ] {
            assert!(ChildName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(ChildName::parse(&"a".repeat(65)).is_err());
        assert!(ChildName::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn accented_letters_fold_to_their_base() {
        // Regression: `café-ü` became `caf`.
        assert_eq!(normalise("café-ü"), "cafe-u");
        assert_eq!(normalise("Straße Köln"), "strasse-koln");
        assert_eq!(
            ChildName::parse("café-ü")
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("cafe-u")
        );
    }

    #[test]
    fn none_and_true_are_folder_names_and_con_is_not() {
        for good in ["none", "true", "false"] {
            assert!(ChildName::parse(good).is_ok(), "{good} was refused");
        }
        for reserved in ["con", "nul", "com1", "lpt9"] {
            let error = ChildName::parse(reserved).unwrap_err();
            assert!(error.reason.contains("Windows"), "{error}");
        }
    }

    #[test]
    fn normalise_drops_what_cannot_lead() {
        assert_eq!(normalise("  42 Big__Shop! "), "big-shop");
        assert_eq!(normalise("../etc"), "etc");
        assert_eq!(normalise("!!!"), "");
    }
}

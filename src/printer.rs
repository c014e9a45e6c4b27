//! Status lines and hints on stderr. Colour is decided at print time (console honours NO_COLOR); messages stay plain.

use std::fmt::Display;

use console::{Term, style};

/// Writes status, warnings, errors and hints to stderr.
#[derive(Debug, Clone)]
pub struct Printer {
    term: Term,
}

impl Printer {
    pub fn stderr() -> Self {
        Self {
            term: Term::stderr(),
        }
    }

    /// A step that went well: `  created  demo/vercel.json`.
    pub fn status(&self, verb: &str, message: impl Display) {
        self.line(format!("{:>10} {message}", style(verb).green().bold()));
    }

    pub fn info(&self, message: impl Display) {
        self.line(message.to_string());
    }

    pub fn warn(&self, message: impl Display) {
        self.line(format!("{} {message}", style("warning:").yellow().bold()));
    }

    pub fn error(&self, message: impl Display) {
        self.line(format!("{} {message}", style("error:").red().bold()));
    }

    pub fn hint(&self, message: impl Display) {
        self.line(format!("{} {message}", style("hint:").cyan().bold()));
    }

    /// Prints an error with every cause in its chain, one `caused by:` line each.
    pub fn error_chain(&self, error: &anyhow::Error) {
        self.error(error);
        for cause in error.chain().skip(1) {
            self.line(format!(
                "  {} {}",
                style("caused by:").dim(),
                cause_text(cause)
            ));
        }
    }

    fn line(&self, text: String) {
        // stderr may be closed; there is nowhere left to report that.
        let _ = self.term.write_line(&text);
    }
}

/// One cause of an error chain as a person reads it: libgit2's message without its class and code numbers.
pub fn cause_text(cause: &(dyn std::error::Error + 'static)) -> String {
    match cause.downcast_ref::<git2::Error>() {
        Some(git_error) => git_error.message().to_string(),
        None => cause.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::cause_text;

    #[test]
    fn git_errors_read_without_class_and_code() {
        let error = git2::Error::new(
            git2::ErrorCode::NotFound,
            git2::ErrorClass::Repository,
            "could not find repository at '/tmp'",
        );
        assert_eq!(cause_text(&error), "could not find repository at '/tmp'");
        assert!(error.to_string().contains("class="), "{error}");
    }
}

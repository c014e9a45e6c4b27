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
            self.line(format!("  {} {cause}", style("caused by:").dim()));
        }
    }

    fn line(&self, text: String) {
        // stderr may be closed; there is nowhere left to report that.
        let _ = self.term.write_line(&text);
    }
}

//! Status lines and hints on stderr. Colour is decided at print time; messages stay plain. `NO_COLOR` follows
//! no-color.org: set and not empty turns colour off, empty counts as unset.

use std::fmt::Display;

use console::{Term, style};

use crate::user_error::UserError;

/// Applies `NO_COLOR` as no-color.org says. console turns colour off whenever the variable exists; an empty one
/// must count as unset, so colour is then decided as if it were absent: on for a terminal that is not `dumb`.
pub fn honour_no_color() {
    if std::env::var_os("NO_COLOR").is_some_and(|value| value.is_empty()) {
        let term = std::env::var("TERM").ok();
        let clicolor = std::env::var("CLICOLOR").ok();
        console::set_colors_enabled(colour_wanted(
            Term::stdout().is_term(),
            term.as_deref(),
            clicolor.as_deref(),
        ));
        console::set_colors_enabled_stderr(colour_wanted(
            Term::stderr().is_term(),
            term.as_deref(),
            clicolor.as_deref(),
        ));
    }
}

/// Colour for a stream when `NO_COLOR` is unset: a terminal, `TERM` not `dumb`, `CLICOLOR` not `0`.
fn colour_wanted(is_terminal: bool, term: Option<&str>, clicolor: Option<&str>) -> bool {
    is_terminal && term.is_some_and(|term| term != "dumb") && clicolor != Some("0")
}

/// "1 file", "3 files": a count with its noun, singular for one.
pub fn count(number: usize, noun: &str) -> String {
    match number {
        1 => format!("1 {noun}"),
        _ => format!("{number} {noun}s"),
    }
}

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

    /// Only `error_chain` prints errors, so every error reads the same.
    fn error(&self, message: impl Display) {
        self.line(format!("{} {message}", style("error:").red().bold()));
    }

    pub fn hint(&self, message: impl Display) {
        self.line(format!("{} {message}", style("hint:").cyan().bold()));
    }

    /// Prints an error with every cause in its chain, one `caused by:` line each, then its hint: the user error's
    /// own, else the one an operating-system cause calls for. Every command's errors are printed here.
    pub fn error_chain(&self, error: &anyhow::Error) {
        self.error(error);
        for cause in error.chain().skip(1) {
            self.line(format!(
                "  {} {}",
                style("caused by:").dim(),
                cause_text(cause)
            ));
        }
        let user_hint = error.downcast_ref::<UserError>().and_then(UserError::hint);
        if let Some(hint) = user_hint.or_else(|| hint_for(error)) {
            self.hint(hint);
        }
    }

    fn line(&self, text: String) {
        // stderr may be closed; there is nowhere left to report that.
        let _ = self.term.write_line(&text);
    }
}

/// What a person can do about an error whose cause the operating system named: a full disk, a read-only one.
pub fn hint_for(error: &anyhow::Error) -> Option<&'static str> {
    let io_kind = |cause: &(dyn std::error::Error + 'static)| {
        cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
    };
    let says =
        |cause: &(dyn std::error::Error + 'static), text: &str| cause_text(cause).contains(text);
    if error.chain().any(|cause| {
        io_kind(cause) == Some(std::io::ErrorKind::StorageFull)
            || says(cause, "No space left on device")
            || io_kind(cause) == Some(std::io::ErrorKind::QuotaExceeded)
    }) {
        return Some(
            "no space left on the disk (or over quota): free some space, then run the command again; a spawn leaves \
             nothing behind, and an update that stopped is undone by `osorganic update --abort`",
        );
    }
    if error.chain().any(|cause| {
        io_kind(cause) == Some(std::io::ErrorKind::ReadOnlyFilesystem)
            || says(cause, "Read-only file system")
    }) {
        return Some("the disk is read-only here: choose a writable folder (spawn: --dest DIR)");
    }
    None
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
    use super::{cause_text, colour_wanted};

    #[test]
    fn one_file_is_not_one_files() {
        assert_eq!(super::count(1, "file"), "1 file");
        assert_eq!(super::count(0, "file"), "0 files");
        assert_eq!(super::count(12, "file"), "12 files");
    }

    #[test]
    fn colour_needs_a_terminal_that_is_not_dumb() {
        assert!(colour_wanted(true, Some("xterm-256color"), None));
        assert!(!colour_wanted(false, Some("xterm-256color"), None));
        assert!(!colour_wanted(true, Some("dumb"), None));
        assert!(!colour_wanted(true, None, None));
        assert!(!colour_wanted(true, Some("xterm"), Some("0")));
    }

    #[test]
    fn a_full_disk_gets_a_hint_whichever_layer_saw_it() {
        let io = anyhow::Error::new(std::io::Error::from_raw_os_error(28))
            .context("could not write the child's files");
        assert!(super::hint_for(&io).is_some_and(|hint| hint.starts_with("no space left")));
        let git = anyhow::Error::new(git2::Error::from_str(
            "failed to write: No space left on device",
        ))
        .context("could not create the child's git repository");
        assert!(super::hint_for(&git).is_some_and(|hint| hint.starts_with("no space left")));
        let read_only = anyhow::Error::new(std::io::Error::from_raw_os_error(30));
        assert!(super::hint_for(&read_only).is_some_and(|hint| hint.contains("read-only")));
        assert_eq!(super::hint_for(&anyhow::anyhow!("something else")), None);
    }

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

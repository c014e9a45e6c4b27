//! Runtime check: the local `python3` (whose version the Tools group already asked for) is at least the
//! minimum the child declares, so its tests run here on a Python the deploy accepts.

use super::check::{Check, Group};
use super::child::Child;

const ID: &str = "runtime.python";
const PYPROJECT: &str = "pyproject.toml";
const PYTHON_VERSION_FILE: &str = ".python-version";

/// A `major.minor[.patch]` version; missing parts are 0.
type Version = (u64, u64, u64);

/// `local` is what `python3 --version` printed (`Python 3.12.4`), `None` when it is missing (Tools says so).
pub fn check(child: &Child, local: Option<&str>) -> Option<Check> {
    let local_text = local?.trim().trim_start_matches("Python").trim();
    let local = parse_version(local_text)?;
    let (minimum_text, file) = declared_minimum(child)?;
    let minimum = parse_version(&minimum_text)?;
    Some(if local < minimum {
        Check::warn(
            ID,
            Group::Runtime,
            format!("local python3 {local_text} is older than the child's minimum Python {minimum_text}"),
        )
        .file(file)
        .fix(format!(
            "install Python {minimum_text} or newer (e.g. `pyenv install {minimum_text}`) so tests run as the deploy does"
        ))
    } else {
        Check::ok(
            ID,
            Group::Runtime,
            format!("local python3 {local_text} meets the child's minimum Python {minimum_text}"),
        )
        .file(file)
    })
}

/// The lower bound of `[project] requires-python`, else the version in `.python-version`.
fn declared_minimum(child: &Child) -> Option<(String, &'static str)> {
    let from_pyproject = child
        .read(PYPROJECT)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| {
            let specifier = table
                .get("project")?
                .get("requires-python")?
                .as_str()?
                .to_string();
            lower_bound(&specifier)
        });
    if let Some(minimum) = from_pyproject {
        return Some((minimum, PYPROJECT));
    }
    let text = child.read(PYTHON_VERSION_FILE).ok()?;
    let declared = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))?;
    parse_version(declared)?;
    Some((declared.to_string(), PYTHON_VERSION_FILE))
}

/// The version a PEP 440 specifier set starts at: `>=3.11`, `~=3.12`, `==3.12.*`, `>=3.11,<4`.
fn lower_bound(specifier: &str) -> Option<String> {
    specifier.split(',').find_map(|clause| {
        let clause = clause.trim();
        let version = clause
            .strip_prefix(">=")
            .or_else(|| clause.strip_prefix("~="))
            .or_else(|| clause.strip_prefix("=="))?;
        let version = version.trim().trim_end_matches(".*");
        parse_version(version).map(|_| version.to_string())
    })
}

/// `3.12`, `3.12.4`, `3.13.0rc1` (the pre-release part is ignored); `None` for `pypy3.10` and such.
fn parse_version(text: &str) -> Option<Version> {
    let mut parts = text.trim().split('.').map(|part| {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u64>().ok()
    });
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_give_their_lower_bound() {
        assert_eq!(lower_bound(">=3.11").as_deref(), Some("3.11"));
        assert_eq!(lower_bound(" >=3.12, <4").as_deref(), Some("3.12"));
        assert_eq!(lower_bound("<4,~=3.12").as_deref(), Some("3.12"));
        assert_eq!(lower_bound("==3.13.*").as_deref(), Some("3.13"));
        assert_eq!(lower_bound("<3.14"), None);
    }

    #[test]
    fn versions_compare_by_their_numbers() {
        assert!(parse_version("3.9.18") < parse_version("3.11"));
        assert!(parse_version("3.12.4") > parse_version("3.12"));
        assert_eq!(parse_version("3.13.0rc1"), Some((3, 13, 0)));
        assert_eq!(parse_version("pypy3.10"), None);
    }
}

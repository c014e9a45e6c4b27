//! What the Vercel checks share: where `vercel.json` is, which files become functions, how a key is located.

use crate::doctor::check::Group;

pub(super) const GROUP: Group = Group::Vercel;
pub(super) const VERCEL_JSON: &str = "vercel.json";

/// Source files Vercel turns into functions under `api/`.
pub(super) const FUNCTION_EXTENSIONS: &[&str] =
    &["py", "js", "mjs", "cjs", "ts", "mts", "go", "rb"];

/// The 1-based line of the first `needle` after the first `after`: a key inside the object `after` opens.
pub(super) fn line_of_after(text: &str, after: &str, needle: &str) -> Option<u64> {
    let start = text.find(after)?;
    let offset = start + text[start..].find(needle)?;
    Some(text[..offset].matches('\n').count() as u64 + 1)
}

/// The 1-based line of the first occurrence of `needle`.
pub(super) fn line_of(text: &str, needle: &str) -> Option<u64> {
    let offset = text.find(needle)?;
    Some(text[..offset].matches('\n').count() as u64 + 1)
}

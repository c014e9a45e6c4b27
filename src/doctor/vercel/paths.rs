//! Vercel paths: every internal rewrite destination and every cron path reaches a function file. Rewrites are
//! followed as Vercel applies them, parameters included (`/api/:path*` reaches the functions under `api/`).

use std::path::Path;

use regex::Regex;
use serde_json::{Map, Value};

use super::layout::{FUNCTION_EXTENSIONS, GROUP, VERCEL_JSON, line_of};
use crate::doctor::check::Check;
use crate::doctor::child::Child;

/// Every internal rewrite destination and every cron path resolves to a function file.
pub(super) fn paths_point_at_functions(
    child: &Child,
    config: &Map<String, Value>,
    text: &str,
) -> Vec<Check> {
    let rewrites: Vec<(&str, &str)> = config
        .get("rewrites")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rule| {
            Some((
                rule.get("source")?.as_str()?,
                rule.get("destination")?.as_str()?,
            ))
        })
        .collect();
    let mut checks = Vec::new();
    for (source, destination) in &rewrites {
        checks.extend(path_check(
            child,
            "vercel.rewrites",
            &format!("the rewrite of `{source}` to"),
            destination,
            text,
        ));
    }
    let crons = config
        .get("crons")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for path in crons.filter_map(|cron| cron.get("path")?.as_str()) {
        // A cron may call a rewritten path; follow the first rewrite whose source matches, once.
        let target = rewrites
            .iter()
            .find_map(|(source, destination)| rewrite(source, destination, strip_query(path)))
            .unwrap_or_else(|| path.to_string());
        let target = target.as_str();
        checks.extend(
            path_check(child, "vercel.crons", "cron path", target, text).map(|check| {
                if target == path {
                    check
                } else {
                    Check {
                        message: format!("{} (via `{path}`)", check.message),
                        ..check
                    }
                }
            }),
        );
    }
    checks
}

/// Where `path` lands through the rewrite `source -> destination`, if the source matches it. Sources use
/// Vercel's path-to-regexp syntax (`/:name`, `/:path*`, `/(.*)`); the destination's `:name` and `$1` take the
/// captured values.
fn rewrite(source: &str, destination: &str, path: &str) -> Option<String> {
    if source == path {
        return Some(destination.to_string());
    }
    let pattern = source_pattern(source)?;
    let captures = pattern.captures(path)?;
    let named = Regex::new(r":([A-Za-z_][A-Za-z0-9_]*)[*+?]?|\$(\d+)").ok()?;
    let result = named.replace_all(destination, |parameter: &regex::Captures<'_>| {
        let value = match (parameter.get(1), parameter.get(2)) {
            (Some(name), _) => captures.name(name.as_str()),
            (_, Some(number)) => number
                .as_str()
                .parse()
                .ok()
                .and_then(|index| captures.get(index)),
            _ => None,
        };
        value.map_or("", |value| value.as_str()).to_string()
    });
    Some(result.into_owned())
}

/// path-to-regexp's common forms as a regex: `:name` one segment, `:name*` / `:name+` any number of them,
/// `(...)` a raw group, everything else literal.
fn source_pattern(source: &str) -> Option<Regex> {
    let token = Regex::new(r":([A-Za-z_][A-Za-z0-9_]*)(\([^)]*\))?([*+?]?)|\(([^)]*)\)").ok()?;
    let mut pattern = String::from("^");
    let mut last = 0;
    for found in token.captures_iter(source) {
        let whole = found.get(0)?;
        pattern.push_str(&regex::escape(&source[last..whole.start()]));
        last = whole.end();
        if let Some(raw) = found.get(4) {
            pattern.push_str(&format!("({})", raw.as_str()));
            continue;
        }
        let name = found.get(1)?.as_str();
        let segment = found.get(2).map_or("[^/]+", |group| {
            group.as_str().trim_start_matches('(').trim_end_matches(')')
        });
        let body = match found.get(3).map_or("", |modifier| modifier.as_str()) {
            "*" => format!("(?P<{name}>(?:{segment})?(?:/(?:{segment}))*)"),
            "+" => format!("(?P<{name}>(?:{segment})(?:/(?:{segment}))*)"),
            "?" => format!("(?P<{name}>(?:{segment})?)"),
            _ => format!("(?P<{name}>{segment})"),
        };
        pattern.push_str(&body);
    }
    pattern.push_str(&regex::escape(&source[last..]));
    pattern.push('$');
    Regex::new(&pattern).ok()
}

fn path_check(
    child: &Child,
    id: &'static str,
    what: &str,
    path: &str,
    text: &str,
) -> Option<Check> {
    let path = strip_query(path);
    // External URLs are not the child's to check.
    if !path.starts_with('/') {
        return None;
    }
    let route = path.trim_matches('/');
    if route.is_empty() || !route.starts_with("api") {
        return None;
    }
    if let Some(folder) = parameterised_folder(route) {
        return Some(parameterised_check(child, id, what, path, &folder, text));
    }
    if function_exists(child, route) {
        Some(Check::ok(
            id,
            GROUP,
            format!("{what} `{path}` is a function"),
        ))
    } else {
        Some(
            Check::error(id, GROUP, format!("{what} `{path}` points at no function"))
                .file(VERCEL_JSON)
                .line(line_of(text, &format!("\"{path}")))
                .fix(format!("create `{route}.py` or correct the path")),
        )
    }
}

/// For a destination with parameters (`/api/:path*`, `/api/users/$1`), the folder before the first parameter:
/// the request lands on some function under it. `None` for a literal route.
fn parameterised_folder(route: &str) -> Option<String> {
    let is_parameter = |segment: &str| segment.contains([':', '$', '(', '*', '[']);
    let segments: Vec<&str> = route.split('/').collect();
    let first = segments.iter().position(|segment| is_parameter(segment))?;
    Some(segments[..first].join("/"))
}

/// A parameterised destination is sound when its folder holds at least one function.
fn parameterised_check(
    child: &Child,
    id: &'static str,
    what: &str,
    path: &str,
    folder: &str,
    text: &str,
) -> Check {
    let prefix = format!("{folder}/");
    let is_function = |file: &&String| {
        file.strip_prefix(&prefix).is_some_and(|rest| {
            Path::new(rest)
                .extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| FUNCTION_EXTENSIONS.contains(&extension))
        })
    };
    let functions = child.files.iter().filter(is_function).count();
    if functions > 0 {
        Check::ok(
            id,
            GROUP,
            format!("{what} `{path}` reaches the {functions} functions under `{folder}/`"),
        )
    } else {
        Check::error(
            id,
            GROUP,
            format!("{what} `{path}` points at `{folder}/`, which holds no function"),
        )
        .file(VERCEL_JSON)
        .line(line_of(text, &format!("\"{path}")))
        .fix(format!(
            "add the functions under `{folder}/` or correct the destination"
        ))
    }
}

fn function_exists(child: &Child, route: &str) -> bool {
    FUNCTION_EXTENSIONS.iter().any(|extension| {
        child.exists(&format!("{route}.{extension}"))
            || child.exists(&format!("{route}/index.{extension}"))
    })
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_carry_their_parameters() {
        let follow = |source, destination, path| rewrite(source, destination, path);
        assert_eq!(
            follow("/tick", "/api/cron", "/tick").as_deref(),
            Some("/api/cron")
        );
        assert_eq!(
            follow("/cron/:job", "/api/:job", "/cron/daily").as_deref(),
            Some("/api/daily")
        );
        assert_eq!(
            follow("/v1/:path*", "/api/:path*", "/v1/jobs/nightly").as_deref(),
            Some("/api/jobs/nightly")
        );
        assert_eq!(
            follow("/(.*)", "/api/index?path=$1", "/tasks/run").as_deref(),
            Some("/api/index?path=tasks/run")
        );
        assert_eq!(follow("/cron/:job", "/api/:job", "/other/daily"), None);
    }

    #[test]
    fn a_parameterised_destination_names_its_folder() {
        assert_eq!(parameterised_folder("api/:path*").as_deref(), Some("api"));
        assert_eq!(
            parameterised_folder("api/users/$1").as_deref(),
            Some("api/users")
        );
        assert_eq!(parameterised_folder("api/health"), None);
    }
}

//! Project checks: the record is sound, no conflict markers or unfinished update are left, the tree is
//! committed, and nothing in it is a link doctor cannot follow.

use git2::{Repository, RepositoryState, StatusOptions};

use super::check::{Check, Group};
use super::child::{Child, FileProblem, RECORD_FILE};
use crate::update::state::{self as update_state, UpdateState};

const GROUP: Group = Group::Project;

pub fn checks(child: &Child) -> Vec<Check> {
    let mut checks = vec![record(child)];
    checks.extend(conflict_markers(child));
    checks.extend(links(child));
    checks.extend(git_state(child));
    checks
}

/// `.osorganic.toml` was read (or doctor would not run); here its contents are judged.
fn record(child: &Child) -> Check {
    let record = &child.record;
    let template = &record.template;
    let mut problems = Vec::new();
    if record.name.trim().is_empty() {
        problems.push("`name` is empty".to_string());
    }
    if template.name.trim().is_empty() || template.version.trim().is_empty() {
        problems.push("`[template]` has no name or version".to_string());
    }
    if let Some(plan) = child.answer("vercel_plan") {
        if !matches!(plan.as_str(), "hobby" | "pro") {
            problems.push(format!(
                "answer `vercel_plan` is `{plan}`, not hobby or pro"
            ));
        }
    }
    if problems.is_empty() {
        Check::ok(
            "project.record",
            GROUP,
            format!(
                "`{RECORD_FILE}`: {} from {} {}",
                record.name, template.name, template.version
            ),
        )
        .file(RECORD_FILE)
    } else {
        Check::error(
            "project.record",
            GROUP,
            format!("`{RECORD_FILE}` is not valid: {}", problems.join("; ")),
        )
        .file(RECORD_FILE)
        .fix("correct the keys named above by hand; `git diff -- .osorganic.toml` shows what changed since the last commit")
    }
}

/// Lines a merge leaves behind: `<<<<<<< ` and `>>>>>>> ` at the start of a line.
fn conflict_markers(child: &Child) -> Vec<Check> {
    let mut checks = Vec::new();
    for file in &child.files {
        // Binary or oversized files are reported by the checks that care about them; a file nobody can read
        // could hide anything, markers included.
        let text = match child.read(file) {
            Ok(text) => text,
            Err(problem @ FileProblem::Unreadable(_)) => {
                checks.push(
                    Check::error("project.readable", GROUP, problem.describe(file))
                        .file(file.as_str())
                        .fix(problem.fix_keeping_your_work(file)),
                );
                continue;
            }
            Err(_) => continue,
        };
        let marker = text.lines().position(|line| {
            line.starts_with("<<<<<<< ")
                || line == "<<<<<<<"
                || line.starts_with(">>>>>>> ")
                || line == ">>>>>>>"
        });
        if let Some(index) = marker {
            checks.push(
                Check::error(
                    "project.conflicts",
                    GROUP,
                    format!("`{file}` has conflict markers"),
                )
                .file(file.as_str())
                .line(Some(index as u64 + 1))
                .fix("resolve the conflict, keep the lines you want and delete the markers"),
            );
        }
    }
    if checks.iter().all(|check| check.id != "project.conflicts") {
        checks.push(Check::ok("project.conflicts", GROUP, "no conflict markers"));
    }
    checks
}

fn links(child: &Child) -> Vec<Check> {
    let mut checks: Vec<Check> = child
        .broken_links
        .iter()
        .map(|link| {
            Check::warn(
                "project.links",
                GROUP,
                format!("`{}` is {}", link.path, link.reason),
            )
            .file(link.path.as_str())
            .fix(format!(
                "remove it or point it at a real file: `rm {}`",
                link.path
            ))
        })
        .collect();
    if child.walk_truncated {
        checks.push(
            Check::warn(
                "project.size",
                GROUP,
                "the child has too many files; doctor looked at the first 20000",
            )
            .fix("remove generated folders or add them to `.gitignore`"),
        );
    }
    checks
}

/// An unfinished merge (an update that stopped on conflicts) and uncommitted changes.
fn git_state(child: &Child) -> Vec<Check> {
    // A child may live inside another repository (a committed example child does): look upwards.
    let repository = match Repository::discover(&child.root) {
        Ok(repository) => repository,
        Err(_) => {
            return vec![
                Check::warn("project.git", GROUP, "the child is not a git repository")
                    .fix("`git init && git add -A && git commit -m \"Initial commit\"`"),
            ];
        }
    };
    let inside = repository
        .workdir()
        .and_then(|workdir| {
            let workdir = workdir.canonicalize().ok()?;
            let root = child.root.canonicalize().ok()?;
            root.strip_prefix(&workdir)
                .ok()
                .map(|relative| relative.to_string_lossy().replace('\\', "/"))
        })
        .filter(|relative| !relative.is_empty());
    let prefix = inside.map(|relative| format!("{relative}/"));
    let mut checks = vec![unfinished(&repository, prefix.as_deref())];
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(false)
        .include_ignored(false);
    let changed: Result<Vec<String>, git2::Error> =
        repository.statuses(Some(&mut options)).map(|statuses| {
            statuses
                .iter()
                .filter_map(|entry| entry.path().ok().map(str::to_string))
                .filter_map(|path| match &prefix {
                    Some(prefix) => path.strip_prefix(prefix.as_str()).map(str::to_string),
                    None => Some(path),
                })
                .collect()
        });
    match changed {
        Ok(changed) if changed.is_empty() => {
            checks.push(Check::ok(
                "project.uncommitted",
                GROUP,
                "no uncommitted changes",
            ));
        }
        Ok(changed) => {
            let listed = changed
                .iter()
                .take(3)
                .map(|path| format!("`{path}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let more = changed.len().saturating_sub(3);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            checks.push(
                Check::warn(
                    "project.uncommitted",
                    GROUP,
                    format!("{} uncommitted changes: {listed}{tail}", changed.len()),
                )
                .fix("commit them before deploying: `git add -A && git commit`"),
            );
        }
        Err(error) => checks.push(Check::warn(
            "project.uncommitted",
            GROUP,
            format!("git status failed: {}", error.message()),
        )),
    }
    checks
}

/// An `osorganic update` waiting on its conflicts (its state under `.git/osorganic/` and git's MERGE_HEAD agree),
/// another git operation, or conflicts left in the index. Read only: a stale state file is left for `update`.
fn unfinished(repository: &Repository, prefix: Option<&str>) -> Check {
    let state = repository.state();
    if let Some(update) = unfinished_update(repository) {
        let conflicts = conflicted_paths(repository, prefix);
        let listed = match conflicts.as_slice() {
            [] => String::new(),
            paths => format!(
                ": conflicts in {}",
                paths
                    .iter()
                    .map(|path| format!("`{path}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let short = update
            .template_commit
            .get(..8)
            .unwrap_or(&update.template_commit);
        return Check::error(
            "project.update",
            GROUP,
            format!("an unfinished `osorganic update` (to template render {short}) is waiting{listed}"),
        )
        .file(conflicts.first().map_or(RECORD_FILE, String::as_str))
        .fix("resolve the conflicts, `git add` them and finish with `git commit`; or undo it with `osorganic update --abort`");
    }
    if state != RepositoryState::Clean {
        return Check::error(
            "project.update",
            GROUP,
            format!("an unfinished {} is in progress", describe_state(state)),
        )
        .fix("resolve the conflicts and commit, or undo it with `osorganic update --abort`");
    }
    let conflicts = conflicted_paths(repository, prefix);
    if let Some(first) = conflicts.first() {
        return Check::error(
            "project.update",
            GROUP,
            match conflicts.len() {
                1 => "1 file has unresolved conflicts".to_string(),
                many => format!("{many} files have unresolved conflicts"),
            },
        )
        .file(first.as_str())
        .fix("resolve them and `git add` them, then commit");
    }
    Check::ok("project.update", GROUP, "no unfinished update or merge")
}

/// osorganic's record of an update that stopped on conflicts, when git's merge state still names its render.
fn unfinished_update(repository: &Repository) -> Option<UpdateState> {
    let text = std::fs::read_to_string(update_state::state_path(repository)).ok()?;
    let update: UpdateState = serde_json::from_str(&text).ok()?;
    let merge_head = std::fs::read_to_string(repository.path().join("MERGE_HEAD")).ok()?;
    (repository.state() == RepositoryState::Merge && merge_head.trim() == update.template_commit)
        .then_some(update)
}

/// Paths with conflict entries in the index, relative to the child.
fn conflicted_paths(repository: &Repository, prefix: Option<&str>) -> Vec<String> {
    let Ok(index) = repository.index() else {
        return Vec::new();
    };
    let Ok(conflicts) = index.conflicts() else {
        return Vec::new();
    };
    let mut paths: Vec<String> = conflicts
        .filter_map(Result::ok)
        .filter_map(|conflict| conflict.our.or(conflict.their).or(conflict.ancestor))
        .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
        .map(|path| match prefix {
            Some(prefix) => path
                .strip_prefix(prefix)
                .map_or(path.clone(), str::to_string),
            None => path,
        })
        .collect();
    paths.dedup();
    paths
}

fn describe_state(state: RepositoryState) -> &'static str {
    match state {
        RepositoryState::Merge => "merge (an update stopped on conflicts)",
        RepositoryState::Revert | RepositoryState::RevertSequence => "revert",
        RepositoryState::CherryPick | RepositoryState::CherryPickSequence => "cherry-pick",
        RepositoryState::Bisect => "bisect",
        RepositoryState::Rebase
        | RepositoryState::RebaseInteractive
        | RepositoryState::RebaseMerge => "rebase",
        RepositoryState::ApplyMailbox | RepositoryState::ApplyMailboxOrRebase => "git am",
        RepositoryState::Clean => "nothing",
    }
}

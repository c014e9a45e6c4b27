//! Template checks: the recorded template can still be found (Project group) and how far the child is
//! behind it (Template group). The drift is `update --check`'s own answer, from [`super::drift`]. Ownership: which
//! of the child's files the template's `[files]` makes `managed`, `seeded` or `merged`.

use super::check::{Check, Group};
use super::child::Child;
use super::drift::{self, Drift, DriftOptions};
use crate::template::manifest::{FilesSection, Ownership};
use crate::template::source::{self, SourceKind, SourceSpec};
use crate::update::{Standing, describe_move};

pub fn checks(child: &Child, offline: bool) -> Vec<Check> {
    let drift = drift::drift(&DriftOptions {
        child_root: child.root.clone(),
        source: None,
        offline,
    });
    vec![
        exists_check(child, &drift),
        drift_check(child, &drift),
        ownership_check(child, offline),
    ]
}

/// How an update treats the child's files, by the recorded template's `[files]`.
fn ownership_check(child: &Child, offline: bool) -> Check {
    const ID: &str = "template.ownership";
    let template = &child.record.template;
    let spec = match template.kind {
        SourceKind::Embedded => Ok(SourceSpec::Embedded),
        SourceKind::Git if offline => {
            return Check::ok(
                ID,
                Group::Template,
                "ownership not checked: the template is a git source, skipped with --offline",
            );
        }
        _ => SourceSpec::parse(&template.source, template.rev.as_deref()),
    };
    let manifest = match spec.and_then(|spec| source::load(&spec)) {
        Ok(source) => source.manifest,
        Err(error) => {
            return Check::warn(ID, Group::Template, format!("ownership unknown: {error}"));
        }
    };
    Check::ok(
        ID,
        Group::Template,
        describe_ownership(&manifest.files, &child.files),
    )
}

/// "ownership: 40 files managed (`osorganicai/**`): your edits there become conflicts on update; ..."
fn describe_ownership(files: &FilesSection, child_files: &[String]) -> String {
    if files.managed.is_empty() && files.seeded.is_empty() {
        return "ownership: every file is merged three-way (the template declares no `managed` or `seeded` paths)"
            .to_string();
    }
    let count = |wanted: Ownership| {
        child_files
            .iter()
            .filter(|file| files.ownership(file) == wanted)
            .count()
    };
    let globs = |globs: &[String]| {
        globs
            .iter()
            .map(|glob| format!("`{glob}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !files.managed.is_empty() {
        parts.push(format!(
            "{} managed ({}): the template's; an edit of yours there becomes a conflict on update",
            plural(count(Ownership::Managed)),
            globs(&files.managed)
        ));
    }
    if !files.seeded.is_empty() {
        parts.push(format!(
            "{} seeded ({}): yours; an update never touches them",
            plural(count(Ownership::Seeded)),
            globs(&files.seeded)
        ));
    }
    parts.push(format!(
        "{} merged three-way",
        plural(count(Ownership::Merged))
    ));
    format!("ownership: {}", parts.join("; "))
}

fn plural(number: usize) -> String {
    crate::printer::count(number, "file")
}

fn exists_check(child: &Child, drift: &Drift) -> Check {
    let template = &child.record.template;
    let label = format!("template `{}` ({})", template.name, template.source);
    match drift {
        Drift::SourceMissing { reason } => Check::error("project.template", Group::Project, format!("{label} cannot be found: {reason}"))
            .file(".osorganic.toml")
            .fix("make the template reachable again, or move to another with `osorganic update --from SOURCE`"),
        Drift::Skipped { reason } => {
            Check::warn("project.template", Group::Project, format!("{label} not checked: {reason}")).file(".osorganic.toml")
        }
        _ => Check::ok("project.template", Group::Project, format!("{label} is available")),
    }
}

fn drift_check(child: &Child, drift: &Drift) -> Check {
    let name = &child.record.template.name;
    match drift {
        Drift::Known(Standing::UpToDate { version }) => Check::ok(
            "template.drift",
            Group::Template,
            format!("up to date with {name} {version}"),
        ),
        Drift::Known(Standing::Behind { from, to, .. }) => Check::warn(
            "template.drift",
            Group::Template,
            format!("behind its template: {}", describe_move(name, from, to)),
        )
        .file(".osorganic.toml")
        .fix("preview with `osorganic update --dry-run`, then run `osorganic update`"),
        Drift::SourceMissing { .. } => Check::warn(
            "template.drift",
            Group::Template,
            "drift unknown: the template cannot be found",
        ),
        Drift::CannotTell { reason } => Check::warn(
            "template.drift",
            Group::Template,
            format!("drift unknown: {reason}"),
        )
        .fix("`osorganic update --check` says the same; fix what it names"),
        Drift::Skipped { reason } => Check::ok(
            "template.drift",
            Group::Template,
            format!("drift not checked: {reason}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::manifest::Manifest;

    fn files_section(toml: &str) -> FilesSection {
        Manifest::parse(&format!(
            "[template]\nname = \"t\"\nversion = \"1.0.0\"\n{toml}"
        ))
        .unwrap()
        .files
    }

    #[test]
    fn ownership_counts_each_kind_with_its_globs() {
        let files = files_section("[files]\nmanaged = [\"lib/**\"]\nseeded = [\"lib/mine/**\"]\n");
        let child = ["lib/a.py", "lib/b/c.py", "lib/mine/x.py", "README.md"].map(String::from);
        assert_eq!(
            describe_ownership(&files, &child),
            "ownership: 2 files managed (`lib/**`): the template's; an edit of yours there becomes a conflict \
             on update; 1 file seeded (`lib/mine/**`): yours; an update never touches them; 1 file merged three-way"
        );
    }

    #[test]
    fn no_declaration_means_every_file_is_merged() {
        let files = files_section("");
        assert!(describe_ownership(&files, &[]).contains("every file is merged three-way"));
    }
}

//! Template checks: the recorded template can still be found (Project group) and how far the child is
//! behind it (Template group). The drift is `update --check`'s own answer, from [`super::drift`].

use super::check::{Check, Group};
use super::child::Child;
use super::drift::{self, Drift, DriftOptions};
use crate::update::{Standing, describe_move};

pub fn checks(child: &Child, offline: bool) -> Vec<Check> {
    let drift = drift::drift(&DriftOptions {
        child_root: child.root.clone(),
        source: None,
        offline,
    });
    vec![exists_check(child, &drift), drift_check(child, &drift)]
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

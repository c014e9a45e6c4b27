//! Row level security: every public table enables it and has Supabase's default grants to `anon` and
//! `authenticated` revoked.

use super::layout::GROUP;
use super::schema::{API_ROLES, Schema};
use crate::doctor::check::Check;

impl Schema {
    pub(super) fn security_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for (name, table) in self.public_tables() {
            if !table.row_level_security {
                checks.push(
                    Check::error("supabase.rls", GROUP, format!("table `{name}` does not enable row level security"))
                        .file(table.file.as_str())
                        .line(Some(table.line))
                        .fix(format!("add `alter table public.{name} enable row level security;` in a new migration")),
                );
            }
            let kept: Vec<&str> = API_ROLES
                .into_iter()
                .filter(|role| !table.revoked_from.contains(*role))
                .collect();
            if !kept.is_empty() {
                checks.push(
                    Check::error(
                        "supabase.grants",
                        GROUP,
                        format!("table `{name}` keeps Supabase's default grants to `{}`", kept.join("`, `")),
                    )
                    .file(table.file.as_str())
                    .line(Some(table.line))
                    .fix(format!("add `revoke all on table public.{name} from anon, authenticated;` in a new migration")),
                );
            }
        }
        if checks.is_empty() {
            checks.push(Check::ok(
                "supabase.rls",
                GROUP,
                format!(
                    "{} tables: row level security on, default grants revoked",
                    self.public_tables().count()
                ),
            ));
        }
        checks
    }
}

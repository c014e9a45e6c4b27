//! The runtime's schema: the tables and columns `osorganicai` reads and writes exist in the migrations.

use super::layout::{GROUP, MIGRATIONS};
use super::schema::Schema;
use crate::doctor::check::Check;

/// Tables and columns the runtime (`osorganicai`) reads and writes, as the template's migration
/// creates them.
const RUNTIME_SCHEMA: &[(&str, &[&str])] = &[
    (
        "webhook_events",
        &[
            "id",
            "delivery_id",
            "event",
            "action",
            "repository",
            "issue_number",
            "sender_login",
            "payload",
            "outcome",
            "outcome_detail",
        ],
    ),
    (
        "jobs",
        &[
            "id",
            "kind",
            "status",
            "repository",
            "issue_number",
            "webhook_event_id",
            "attempts",
            "last_error",
            "dispatched_at",
            "started_at",
            "finished_at",
            "created_at",
        ],
    ),
    (
        "conversations",
        &[
            "id",
            "repository",
            "issue_number",
            "role",
            "author_login",
            "github_comment_id",
            "content",
            "created_at",
        ],
    ),
    (
        "agent_actions",
        &[
            "id",
            "job_id",
            "agent",
            "action_type",
            "repository",
            "issue_number",
            "payload",
            "created_at",
        ],
    ),
    (
        "code_generations",
        &[
            "id",
            "job_id",
            "repository",
            "issue_number",
            "status",
            "branch",
            "commit_sha",
            "pull_request_number",
            "pull_request_url",
            "files",
            "rejection_reasons",
            "provider",
            "model",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "created_at",
        ],
    ),
];

impl Schema {
    pub(super) fn runtime_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for (name, columns) in RUNTIME_SCHEMA {
            let Some(table) = self.tables.get(&format!("public.{name}")) else {
                checks.push(
                    Check::error(
                        "supabase.runtime-schema",
                        GROUP,
                        format!("the runtime's table `{name}` is not created by any migration"),
                    )
                    .file(MIGRATIONS)
                    .fix("restore the runtime's migration from the template (`osorganic update`)"),
                );
                continue;
            };
            let missing: Vec<&str> = columns
                .iter()
                .copied()
                .filter(|column| !table.columns.contains(*column))
                .collect();
            if !missing.is_empty() {
                checks.push(
                    Check::error(
                        "supabase.runtime-schema",
                        GROUP,
                        format!(
                            "table `{name}` lacks the runtime's column `{}`",
                            missing.join("`, `")
                        ),
                    )
                    .file(table.file.as_str())
                    .line(Some(table.line))
                    .fix(
                        "add the column in a new migration, as the template's migration defines it",
                    ),
                );
            }
        }
        if checks.is_empty() {
            checks.push(Check::ok(
                "supabase.runtime-schema",
                GROUP,
                "the runtime's tables and columns exist",
            ));
        }
        checks
    }
}

//! The runtime's schema: the tables and columns `osorganicai` reads and writes exist in the migrations. What the
//! runtime needs is not a list kept by hand: it is what the template's own migrations create, replayed from the
//! migrations embedded in this osorganic, so a new table or column in the template is checked the day it lands.

use std::collections::BTreeSet;

use super::layout::{GROUP, MIGRATIONS};
use super::schema::Schema;
use crate::doctor::check::Check;
use crate::doctor::sql::parse_migration;
use crate::template::source::{embedded_files, embedded_manifest};

/// The public tables and their columns, as the embedded template's migrations create them.
#[derive(Debug)]
pub(super) struct RuntimeSchema {
    /// The embedded template's version: a child recorded at another version may legitimately differ.
    pub(super) version: String,
    pub(super) tables: Vec<(String, BTreeSet<String>)>,
}

impl RuntimeSchema {
    /// Replays the embedded template's migrations, in name order, as doctor replays a child's.
    pub(super) fn embedded() -> Result<Self, String> {
        let version = embedded_manifest()
            .map_err(|error| error.to_string())?
            .template
            .version;
        let mut files = embedded_files(MIGRATIONS);
        files.retain(|(path, _)| path.ends_with(".sql"));
        files.sort();
        let mut schema = Schema::default();
        for (path, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            let migration =
                parse_migration(&text).map_err(|error| format!("{path}: {}", error.message))?;
            for statement in &migration.statements {
                schema.apply(path, statement);
            }
        }
        let tables = schema
            .public_tables()
            .map(|(name, table)| (name.to_owned(), table.columns.clone()))
            .collect();
        Ok(Self { version, tables })
    }
}

impl Schema {
    /// Every table and column of `runtime` exists in this schema. A child recorded at the same template version as
    /// the embedded one gets errors; at another version, warnings (its runtime may not use them yet).
    pub(super) fn runtime_checks(
        &self,
        runtime: &RuntimeSchema,
        child_version: &str,
    ) -> Vec<Check> {
        let same_version = child_version == runtime.version;
        let problem = |message: String| {
            if same_version {
                Check::error("supabase.runtime-schema", GROUP, message)
            } else {
                Check::warn(
                    "supabase.runtime-schema",
                    GROUP,
                    format!(
                        "{message} (template {} creates it; this child records {child_version})",
                        runtime.version
                    ),
                )
            }
        };
        let mut checks = Vec::new();
        for (name, columns) in &runtime.tables {
            let Some(table) = self.tables.get(&format!("public.{name}")) else {
                checks.push(
                    problem(format!(
                        "the runtime's table `{name}` is not created by any migration"
                    ))
                    .file(MIGRATIONS)
                    .fix("restore the runtime's migration from the template (`osorganic update`)"),
                );
                continue;
            };
            let missing: Vec<&str> = columns
                .iter()
                .map(String::as_str)
                .filter(|column| !table.columns.contains(*column))
                .collect();
            if !missing.is_empty() {
                checks.push(
                    problem(format!(
                        "table `{name}` lacks the runtime's column `{}`",
                        missing.join("`, `")
                    ))
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

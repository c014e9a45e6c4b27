//! Supabase checks: migrations are named and ordered as the Supabase CLI expects and parse as
//! PostgreSQL; every public table has row level security and no default grants to `anon` or
//! `authenticated`; the runtime's tables and columns exist; `DATABASE_URL` uses the pooler.

use std::collections::BTreeMap;

use super::check::Check;
use super::child::{Child, FileProblem};
use super::sql::parse_migration;
use runtime_schema::RuntimeSchema;
use schema::Schema;

mod layout;
mod migrations;
mod rls;
mod runtime_schema;
mod schema;

use layout::{GROUP, MIGRATIONS};

pub fn checks(child: &Child, environment: &BTreeMap<String, String>) -> Vec<Check> {
    let mut checks = Vec::new();
    let files: Vec<&str> = child.files_in(MIGRATIONS).collect();
    let migrations: Vec<&str> = files
        .iter()
        .copied()
        .filter(|file| file.ends_with(".sql"))
        .collect();
    if migrations.is_empty() {
        checks.push(
            Check::error(
                "supabase.migrations",
                GROUP,
                format!("no migrations in `{MIGRATIONS}`"),
            )
            .file(MIGRATIONS)
            .fix("restore the runtime's migration from the template: `osorganic update`"),
        );
    }
    checks.extend(migrations::names(&migrations));
    let mut schema = Schema::default();
    for file in &migrations {
        match child.read(file) {
            Ok(text) => match parse_migration(&text) {
                Ok(migration) => {
                    checks.push(parsed_check(file, &migration.unchecked));
                    for statement in &migration.statements {
                        schema.apply(file, statement);
                    }
                }
                Err(error) => checks.push(
                    Check::error(
                        "supabase.sql",
                        GROUP,
                        format!("`{file}` does not parse: {}", error.message),
                    )
                    .file(*file)
                    .line(Some(error.line))
                    .fix(
                        "fix the statement at that line; check it with `supabase db reset` locally",
                    ),
                ),
            },
            Err(problem) => checks.push(
                Check::error("supabase.sql", GROUP, problem.describe(file))
                    .file(*file)
                    .fix(match problem {
                        FileProblem::NotText | FileProblem::TooLarge(_) => format!(
                            "move it out of the migrations, keeping it: `mkdir -p supabase/not-migrations && git mv {file} supabase/not-migrations/`"
                        ),
                        _ => problem.fix_keeping_your_work(file),
                    }),
            ),
        }
    }
    if !migrations.is_empty() {
        checks.extend(schema.security_checks());
        match RuntimeSchema::embedded() {
            Ok(runtime) => {
                checks.extend(schema.runtime_checks(&runtime, &child.record.template.version));
            }
            Err(error) => checks.push(
                Check::error(
                    "supabase.runtime-schema",
                    GROUP,
                    format!("this osorganic's own template migrations do not parse ({error})"),
                )
                .fix("reinstall osorganic from a clean checkout: `cargo install --path .`"),
            ),
        }
    }
    checks.push(database_url(environment));
    checks
}

fn parsed_check(file: &str, unchecked: &[u64]) -> Check {
    let message = match unchecked {
        [] => format!("`{file}` parses"),
        lines => {
            let lines = lines
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "`{file}` parses (statements the parser reads only in part left unchecked: lines {lines})"
            )
        }
    };
    Check::ok("supabase.sql", GROUP, message)
}

/// Serverless functions should reach PostgreSQL through Supavisor's transaction pooler (port 6543).
fn database_url(environment: &BTreeMap<String, String>) -> Check {
    let Some(url) = environment
        .get("DATABASE_URL")
        .filter(|url| !url.is_empty())
    else {
        return Check::ok(
            "supabase.database-url",
            GROUP,
            "`DATABASE_URL` not set; its port is not checked",
        );
    };
    let Some((host, port)) = host_and_port(url) else {
        return Check::warn("supabase.database-url", GROUP, "`DATABASE_URL` is not a postgres:// URL")
            .fix("copy the connection string from Supabase: Project Settings > Database > Transaction pooler");
    };
    let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
    match port {
        6543 => Check::ok("supabase.database-url", GROUP, "`DATABASE_URL` uses the transaction pooler (port 6543)"),
        _ if local => Check::ok("supabase.database-url", GROUP, format!("`DATABASE_URL` is a local database (port {port})")),
        _ => Check::warn(
            "supabase.database-url",
            GROUP,
            format!("`DATABASE_URL` uses port {port}, not the transaction pooler; serverless functions can exhaust connections"),
        )
        .fix("use the transaction pooler string (port 6543) from Project Settings > Database > Connect"),
    }
}

/// Host and port of a `postgres://user:password@host:port/db` URL, without ever keeping the password.
fn host_and_port(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => {
            Some((host.to_lowercase(), port.parse().ok()?))
        }
        _ => Some((host_port.to_lowercase(), 5432)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_port_is_read_without_the_password() {
        let url =
            "postgresql://postgres.abc:p%40ss:word@aws-0-eu.pooler.supabase.com:6543/postgres";
        assert_eq!(
            host_and_port(url),
            Some(("aws-0-eu.pooler.supabase.com".to_string(), 6543))
        );
        assert_eq!(
            host_and_port("postgres://u:p@db.x.supabase.co/postgres").map(|(_, port)| port),
            Some(5432)
        );
    }

    /// The migration the template ships: it must parse and satisfy every Supabase check.
    #[test]
    fn the_template_migrations_pass_and_the_runtime_schema_is_theirs() {
        let runtime = RuntimeSchema::embedded().unwrap();
        let names: Vec<&str> = runtime
            .tables
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        for table in [
            "webhook_events",
            "jobs",
            "agent_actions",
            "code_generations",
            "pull_request_states",
        ] {
            assert!(names.contains(&table), "{names:?}");
        }
        let code_generations = &runtime
            .tables
            .iter()
            .find(|(name, _)| name == "code_generations")
            .unwrap()
            .1;
        assert!(
            code_generations.contains("proposal_status"),
            "a later migration's column: {code_generations:?}"
        );

        let mut schema = Schema::default();
        for (path, bytes) in crate::template::source::embedded_files(MIGRATIONS) {
            for statement in parse_migration(&String::from_utf8_lossy(&bytes))
                .unwrap()
                .statements
            {
                schema.apply(&path, &statement);
            }
        }
        let checks: Vec<Check> = schema
            .security_checks()
            .into_iter()
            .chain(schema.runtime_checks(&runtime, &runtime.version))
            .collect();
        assert!(
            checks
                .iter()
                .all(|check| check.status == crate::doctor::check::Status::Ok),
            "{checks:#?}"
        );
    }

    #[test]
    fn a_missing_runtime_column_is_an_error_at_the_same_version_and_a_warning_at_another() {
        let runtime = RuntimeSchema::embedded().unwrap();
        let mut schema = Schema::default();
        let sql = "create table public.jobs (id uuid primary key);";
        for statement in parse_migration(sql).unwrap().statements {
            schema.apply("only_jobs.sql", &statement);
        }
        let same = schema.runtime_checks(&runtime, &runtime.version);
        assert!(
            same.iter()
                .any(|check| check.status == crate::doctor::check::Status::Error
                    && check
                        .message
                        .contains("table `jobs` lacks the runtime's column `attempts`, `")
                    && check.message.contains("`kind`")),
            "{same:#?}"
        );
        assert!(
            same.iter()
                .any(|check| check.message.contains("`agent_actions` is not created")),
            "{same:#?}"
        );
        let older = schema.runtime_checks(&runtime, "0.0.1");
        assert!(
            older
                .iter()
                .all(|check| check.status == crate::doctor::check::Status::Warn),
            "{older:#?}"
        );
        assert!(
            older[0].message.contains("this child records 0.0.1"),
            "{older:#?}"
        );
    }
}

//! Supabase checks: migrations are named and ordered as the Supabase CLI expects and parse as
//! PostgreSQL; every public table has row level security and no default grants to `anon` or
//! `authenticated`; the runtime's tables and columns exist; `DATABASE_URL` uses the pooler.

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::{
    AlterDefaultPrivilegesOperation, AlterTableOperation, DefaultPrivilegesObjectType,
    DefaultPrivilegesOption, GrantObjects, Grantee, GranteeName, ObjectType, Privileges, Statement,
};

use super::child::Child;
use super::sql::{LocatedStatement, parse_migration, table_key};
use super::{Check, Group};

const GROUP: Group = Group::Supabase;
const MIGRATIONS: &str = "supabase/migrations";

/// Roles Supabase grants every new table in `public` to, through PostgREST.
const API_ROLES: [&str; 2] = ["anon", "authenticated"];

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
    checks.extend(names(&migrations));
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
                    .fix(format!(
                        "replace it with a SQL text file or delete it: `git rm {file}`"
                    )),
            ),
        }
    }
    if !migrations.is_empty() {
        checks.extend(schema.security_checks());
        checks.extend(schema.runtime_checks());
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

/// `<14-digit timestamp>_name.sql`, with no two migrations sharing a timestamp.
fn names(migrations: &[&str]) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for file in migrations {
        let name = file.rsplit('/').next().unwrap_or(file);
        match migration_timestamp(name) {
            Some(timestamp) => {
                if let Some(first) = seen.insert(timestamp, file) {
                    checks.push(
                        Check::error(
                            "supabase.migration-names",
                            GROUP,
                            format!("`{file}` has the same timestamp as `{first}`; their order is undefined"),
                        )
                        .file(*file)
                        .fix("give the later migration a later timestamp"),
                    );
                }
            }
            None => checks.push(
                Check::error(
                    "supabase.migration-names",
                    GROUP,
                    format!("`{name}` is not named `<timestamp>_name.sql`; the Supabase CLI skips it"),
                )
                .file(*file)
                .fix("rename it like `20250101000000_add_table.sql` (`supabase migration new NAME` makes one)"),
            ),
        }
    }
    if checks.is_empty() && !migrations.is_empty() {
        checks.push(Check::ok(
            "supabase.migration-names",
            GROUP,
            format!("{} migration(s) named in order", migrations.len()),
        ));
    }
    checks
}

/// The timestamp of `YYYYMMDDHHMMSS_name.sql` when the name and date are well formed.
fn migration_timestamp(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".sql")?;
    let (timestamp, label) = stem.split_once('_')?;
    let digits = timestamp.len() == 14 && timestamp.bytes().all(|byte| byte.is_ascii_digit());
    let label_ok = !label.is_empty()
        && label
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-');
    if !digits || !label_ok {
        return None;
    }
    let field = |range: std::ops::Range<usize>| timestamp[range].parse::<u32>().ok();
    let (month, day, hour, minute, second) = (
        field(4..6)?,
        field(6..8)?,
        field(8..10)?,
        field(10..12)?,
        field(12..14)?,
    );
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then_some(timestamp)
}

/// Where a table was created and what later statements did to it.
#[derive(Debug, Clone, Default)]
struct Table {
    file: String,
    line: u64,
    columns: BTreeSet<String>,
    row_level_security: bool,
    revoked_from: BTreeSet<String>,
}

/// The schema the migrations build, replayed statement by statement in file order.
#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    /// Schemas whose future tables are revoked from these roles (`ALTER DEFAULT PRIVILEGES`).
    default_revokes: BTreeMap<String, BTreeSet<String>>,
}

impl Schema {
    fn apply(&mut self, file: &str, located: &LocatedStatement) {
        match &located.statement {
            Statement::CreateTable(create) => {
                let key = table_key(&create.name);
                let schema = key.split('.').next().unwrap_or_default().to_string();
                let table = Table {
                    file: file.to_string(),
                    line: located.line,
                    columns: create
                        .columns
                        .iter()
                        .map(|column| column.name.value.to_lowercase())
                        .collect(),
                    row_level_security: false,
                    revoked_from: self
                        .default_revokes
                        .get(&schema)
                        .cloned()
                        .unwrap_or_default(),
                };
                self.tables.entry(key).or_insert(table);
            }
            Statement::AlterTable(alter) => {
                let Some(table) = self.tables.get_mut(&table_key(&alter.name)) else {
                    return;
                };
                for operation in &alter.operations {
                    match operation {
                        AlterTableOperation::EnableRowLevelSecurity
                        | AlterTableOperation::ForceRowLevelSecurity => {
                            table.row_level_security = true;
                        }
                        AlterTableOperation::DisableRowLevelSecurity => {
                            table.row_level_security = false
                        }
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            table.columns.insert(column_def.name.value.to_lowercase());
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for column in column_names {
                                table.columns.remove(&column.value.to_lowercase());
                            }
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            table.columns.remove(&old_column_name.value.to_lowercase());
                            table.columns.insert(new_column_name.value.to_lowercase());
                        }
                        _ => {}
                    }
                }
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for name in names {
                    self.tables.remove(&table_key(name));
                }
            }
            Statement::Revoke(revoke) if revokes_everything(&revoke.privileges) => {
                let roles = api_roles(&revoke.grantees);
                let targets: Vec<String> = match &revoke.objects {
                    Some(GrantObjects::Tables(names)) => names.iter().map(table_key).collect(),
                    Some(GrantObjects::AllTablesInSchema { schemas }) => {
                        let schemas: Vec<String> = schemas.iter().map(schema_name).collect();
                        self.tables
                            .keys()
                            .filter(|key| {
                                schemas
                                    .iter()
                                    .any(|schema| key.starts_with(&format!("{schema}.")))
                            })
                            .cloned()
                            .collect()
                    }
                    _ => Vec::new(),
                };
                for target in targets {
                    if let Some(table) = self.tables.get_mut(&target) {
                        table.revoked_from.extend(roles.iter().cloned());
                    }
                }
            }
            Statement::AlterDefaultPrivileges(alter) => {
                if let AlterDefaultPrivilegesOperation::Revoke {
                    privileges,
                    object_type,
                    grantees,
                    ..
                } = &alter.operation
                {
                    if *object_type == DefaultPrivilegesObjectType::Tables
                        && revokes_everything(privileges)
                    {
                        let roles = api_roles(grantees);
                        let schemas = alter.options.iter().find_map(|option| match option {
                            DefaultPrivilegesOption::InSchema(schemas) => {
                                Some(schemas.iter().map(schema_name).collect())
                            }
                            DefaultPrivilegesOption::ForRole(_) => None,
                        });
                        for schema in schemas.unwrap_or_else(|| vec!["public".to_string()]) {
                            self.default_revokes
                                .entry(schema)
                                .or_default()
                                .extend(roles.iter().cloned());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn public_tables(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.tables
            .iter()
            .filter_map(|(key, table)| key.strip_prefix("public.").map(|name| (name, table)))
    }

    fn security_checks(&self) -> Vec<Check> {
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

    fn runtime_checks(&self) -> Vec<Check> {
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

/// `ALL`, or at least SELECT, INSERT, UPDATE and DELETE.
fn revokes_everything(privileges: &Privileges) -> bool {
    match privileges {
        Privileges::All { .. } => true,
        Privileges::Actions(actions) => {
            let named: Vec<String> = actions
                .iter()
                .map(|action| action.to_string().to_lowercase())
                .collect();
            ["select", "insert", "update", "delete"]
                .iter()
                .all(|wanted| named.iter().any(|action| action.starts_with(wanted)))
        }
    }
}

fn api_roles(grantees: &[Grantee]) -> Vec<String> {
    grantees
        .iter()
        .filter_map(|grantee| match &grantee.name {
            Some(GranteeName::ObjectName(name)) => {
                Some(name.to_string().trim_matches('"').to_lowercase())
            }
            _ => None,
        })
        .filter(|role| API_ROLES.contains(&role.as_str()))
        .collect()
}

fn schema_name(name: &sqlparser::ast::ObjectName) -> String {
    name.to_string().trim_matches('"').to_lowercase()
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
    fn migration_names_need_a_valid_timestamp() {
        assert_eq!(
            migration_timestamp("20250101000000_init.sql"),
            Some("20250101000000")
        );
        assert_eq!(migration_timestamp("2025_init.sql"), None);
        assert_eq!(migration_timestamp("20251301000000_init.sql"), None);
        assert_eq!(migration_timestamp("20250101000000.sql"), None);
    }

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
    fn the_template_migration_passes() {
        let sql = include_str!(
            "../../templates/child-template/supabase/migrations/20250101000000_init.sql"
        );
        let mut schema = Schema::default();
        for statement in parse_migration(sql).unwrap().statements {
            schema.apply("init.sql", &statement);
        }
        let checks: Vec<Check> = schema
            .security_checks()
            .into_iter()
            .chain(schema.runtime_checks())
            .collect();
        assert!(
            checks
                .iter()
                .all(|check| check.status == crate::doctor::Status::Ok),
            "{checks:#?}"
        );
    }

    #[test]
    fn schema_replay_sees_rls_and_revokes_in_do_blocks() {
        let sql = "create table jobs (id uuid, status text);\n\
                   alter table jobs enable row level security;\n\
                   do $$ begin if exists (select 1 from pg_roles where rolname = 'anon') then \
                   revoke all on table public.jobs from anon, authenticated; end if; end $$;\n\
                   create table notes (id int);\n";
        let mut schema = Schema::default();
        for statement in parse_migration(sql).unwrap().statements {
            schema.apply("m.sql", &statement);
        }
        let checks = schema.security_checks();
        let messages: Vec<&str> = checks.iter().map(|check| check.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "table `notes` does not enable row level security",
                "table `notes` keeps Supabase's default grants to `anon`, `authenticated`"
            ]
        );
        assert_eq!(checks[0].line, Some(4));
    }
}

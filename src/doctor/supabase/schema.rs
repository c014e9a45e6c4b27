//! The schema the migrations build, replayed statement by statement: tables, their columns, row level
//! security, and what was revoked from Supabase's API roles (directly or by default privileges).

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::{
    AlterDefaultPrivilegesOperation, AlterTableOperation, DefaultPrivilegesObjectType,
    DefaultPrivilegesOption, GrantObjects, Grantee, GranteeName, ObjectType, Privileges, Statement,
};

use crate::doctor::sql::{LocatedStatement, table_key};

/// Roles Supabase grants every new table in `public` to, through PostgREST.
pub(super) const API_ROLES: [&str; 2] = ["anon", "authenticated"];

/// Where a table was created and what later statements did to it.
#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    pub(super) file: String,
    pub(super) line: u64,
    pub(super) columns: BTreeSet<String>,
    pub(super) row_level_security: bool,
    pub(super) revoked_from: BTreeSet<String>,
}

/// The schema the migrations build, replayed statement by statement in file order.
#[derive(Debug, Default)]
pub(super) struct Schema {
    pub(super) tables: BTreeMap<String, Table>,
    /// Schemas whose future tables are revoked from these roles (`ALTER DEFAULT PRIVILEGES`).
    pub(super) default_revokes: BTreeMap<String, BTreeSet<String>>,
}

impl Schema {
    pub(super) fn apply(&mut self, file: &str, located: &LocatedStatement) {
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

    pub(super) fn public_tables(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.tables
            .iter()
            .filter_map(|(key, table)| key.strip_prefix("public.").map(|name| (name, table)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::sql::parse_migration;

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

//! Migration files: named `<timestamp>_name.sql` as the Supabase CLI expects, one migration a timestamp.

use std::collections::BTreeMap;

use super::layout::GROUP;
use crate::doctor::check::Check;

/// `<14-digit timestamp>_name.sql`, with no two migrations sharing a timestamp.
pub(super) fn names(migrations: &[&str]) -> Vec<Check> {
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
}

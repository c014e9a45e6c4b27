//! The render-commit protocol: a commit holding a pristine render (spawn's first commit, each update's second
//! parent, a rebuilt base) is named `osorganic: render NAME VERSION` and carries the fingerprint of the record it
//! renders as an `Osorganic-Render:` trailer. Base lookup reads both to check a candidate against the record.

use super::child_record::ChildRecord;

/// The subject prefix of every render commit.
pub const PREFIX: &str = "osorganic: render";
/// The subject prefix of an update's merge commit.
pub const UPDATE_PREFIX: &str = "osorganic: update";
const FINGERPRINT_TRAILER: &str = "Osorganic-Render:";

/// The message of the commit holding the render `record` describes.
pub fn message(record: &ChildRecord) -> String {
    stamped(record, "")
}

/// The message of a base rendered again from the record (no stored render was found).
pub fn rebuilt_message(record: &ChildRecord) -> String {
    stamped(record, " (rebuilt base)")
}

fn stamped(record: &ChildRecord, note: &str) -> String {
    format!(
        "{PREFIX} {} {}{note}\n\n{FINGERPRINT_TRAILER} {}\n",
        record.template.name,
        record.template.version,
        record.render_fingerprint()
    )
}

/// The message of an update's merge commit: `osorganic: update <move>`.
pub fn update_message(described_move: &str) -> String {
    format!("{UPDATE_PREFIX} {described_move}")
}

/// What a render commit's message says it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderStamp {
    pub template_name: String,
    pub version: String,
    /// Absent on render commits made before fingerprints were recorded.
    pub fingerprint: Option<String>,
}

impl RenderStamp {
    /// Reads a commit message; `None` when it is not a render commit.
    pub fn parse(message: &str) -> Option<Self> {
        let subject = message.lines().next()?;
        let rest = subject.strip_prefix(PREFIX)?.strip_prefix(' ')?;
        let mut words = rest.split(' ');
        let template_name = words.next()?.to_owned();
        let version = words.next()?.to_owned();
        let fingerprint = message.lines().find_map(|line| {
            line.strip_prefix(FINGERPRINT_TRAILER)
                .map(|value| value.trim().to_owned())
        });
        Some(Self {
            template_name,
            version,
            fingerprint,
        })
    }

    /// True when this render is the one `record` describes: same template and version, and the same fingerprint
    /// when the commit carries one.
    pub fn matches(&self, record: &ChildRecord) -> bool {
        self.template_name == record.template.name
            && self.version == record.template.version
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|fingerprint| *fingerprint == record.render_fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: &str) -> ChildRecord {
        ChildRecord::parse(&format!(
            "osorganic_version = \"0.1.0\"\nname = \"demo\"\n[template]\nname = \"t\"\nversion = \"{version}\"\n\
             source = \"embedded\"\nkind = \"embedded\"\n[answers]\ndomain = \"fintech\"\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_render_message_is_read_back_and_matches_only_its_record() {
        let stamp = RenderStamp::parse(&message(&record("1.0.0"))).unwrap();
        assert_eq!(stamp.template_name, "t");
        assert_eq!(stamp.version, "1.0.0");
        assert!(stamp.matches(&record("1.0.0")));
        assert!(!stamp.matches(&record("2.0.0")));
        let mut other_answer = record("1.0.0");
        other_answer
            .answers
            .insert("domain".into(), toml::Value::String("general".into()));
        assert!(!stamp.matches(&other_answer));
    }

    #[test]
    fn an_old_render_message_without_fingerprint_matches_by_version() {
        let stamp = RenderStamp::parse("osorganic: render t 1.0.0").unwrap();
        assert!(stamp.matches(&record("1.0.0")));
        assert!(RenderStamp::parse("osorganic: update t 1.0.0 -> 2.0.0").is_none());
        assert!(
            RenderStamp::parse(&rebuilt_message(&record("1.0.0")))
                .unwrap()
                .matches(&record("1.0.0"))
        );
    }
}

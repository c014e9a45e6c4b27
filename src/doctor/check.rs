//! One finding of doctor (a check: status, group, message, file, fix) and the report that collects them.

use serde::Serialize;

/// Whether a check passed, needs attention, or will break a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Error,
}

/// The groups a report is printed in, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Project,
    Template,
    Vercel,
    Supabase,
    #[serde(rename = "github")]
    GitHub,
    Runtime,
    Tools,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Project,
        Group::Template,
        Group::Vercel,
        Group::Supabase,
        Group::GitHub,
        Group::Runtime,
        Group::Tools,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Project => "Project",
            Group::Template => "Template",
            Group::Vercel => "Vercel",
            Group::Supabase => "Supabase",
            Group::GitHub => "GitHub",
            Group::Runtime => "Runtime",
            Group::Tools => "Tools",
        }
    }
}

/// One finding: what was checked, how it went, where, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub group: Group,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn ok(id: &'static str, group: Group, message: impl Into<String>) -> Self {
        Self::new(id, group, Status::Ok, message)
    }

    pub fn warn(id: &'static str, group: Group, message: impl Into<String>) -> Self {
        Self::new(id, group, Status::Warn, message)
    }

    pub fn error(id: &'static str, group: Group, message: impl Into<String>) -> Self {
        Self::new(id, group, Status::Error, message)
    }

    fn new(id: &'static str, group: Group, status: Status, message: impl Into<String>) -> Self {
        Self {
            id,
            group,
            status,
            message: message.into(),
            file: None,
            line: None,
            fix: None,
        }
    }

    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn line(mut self, line: Option<u64>) -> Self {
        self.line = line.filter(|line| *line > 0);
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// How many checks ended in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub ok: usize,
    pub warn: usize,
    pub error: usize,
}

/// Every check of one doctor run, in group order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub summary: Summary,
}

impl Report {
    pub fn new(mut checks: Vec<Check>) -> Self {
        // Stable: checks keep their order inside a group.
        checks.sort_by_key(|check| check.group);
        let mut summary = Summary::default();
        for check in &checks {
            match check.status {
                Status::Ok => summary.ok += 1,
                Status::Warn => summary.warn += 1,
                Status::Error => summary.error += 1,
            }
        }
        Self { checks, summary }
    }

    pub fn has_errors(&self) -> bool {
        self.summary.error > 0
    }
}

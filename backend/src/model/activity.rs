//! The triage record's history: every change an analyst makes to an alert (status, assignee,
//! classification, note, case link, suppression) as an append-only entry with who and when,
//! and the closing classification kept apart from the status (as Sentinel keeps it).

use super::{Alert, AlertStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a resolved alert was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    TruePositive,
    BenignPositive,
    FalsePositive,
    Undetermined,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::TruePositive,
        Classification::BenignPositive,
        Classification::FalsePositive,
        Classification::Undetermined,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Classification::TruePositive => "true positive",
            Classification::BenignPositive => "benign positive",
            Classification::FalsePositive => "false positive",
            Classification::Undetermined => "undetermined",
        }
    }

    /// Short forms first: `tp`, `bp`, `fp`, `un`, or the words with `_` or `-`.
    pub fn parse(s: &str) -> Option<Classification> {
        let s = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match s.as_str() {
            "tp" | "true positive" | "true" => Some(Classification::TruePositive),
            "bp" | "benign positive" | "benign" => Some(Classification::BenignPositive),
            "fp" | "false positive" | "false" => Some(Classification::FalsePositive),
            "un" | "u" | "undetermined" => Some(Classification::Undetermined),
            _ => None,
        }
    }
}

/// What an entry changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Status,
    Assignee,
    Classification,
    Note,
    Case,
    Suppression,
}

impl ActivityKind {
    pub fn name(self) -> &'static str {
        match self {
            ActivityKind::Status => "status",
            ActivityKind::Assignee => "assignee",
            ActivityKind::Classification => "classification",
            ActivityKind::Note => "note",
            ActivityKind::Case => "case",
            ActivityKind::Suppression => "suppression",
        }
    }
}

/// One entry of an alert's activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub alert_id: String,
    pub at: DateTime<Utc>,
    pub who: String,
    pub kind: ActivityKind,
    /// In words: `open → acknowledged`, `unassigned → bob`, the note's text.
    pub detail: String,
}

impl Activity {
    /// An entry on `subject` (an alert's id, or a case's).
    pub fn on(subject: &str, at: DateTime<Utc>, who: &str, kind: ActivityKind, detail: String) -> Activity {
        Activity { alert_id: subject.to_string(), at, who: who.to_string(), kind, detail }
    }
}

/// A judgement in words: `false positive: the vendor's scanner`, or `cleared`.
pub fn judgement_text(classification: Option<Classification>, reason: &Option<String>) -> String {
    match (classification, reason) {
        (Some(c), Some(r)) => format!("{}: {r}", c.name()),
        (Some(c), None) => c.name().to_string(),
        (None, _) => "cleared".to_string(),
    }
}

pub fn status_name(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Open => "open",
        AlertStatus::Acknowledged => "acknowledged",
        AlertStatus::InProgress => "in progress",
        AlertStatus::Resolved => "resolved",
    }
}

/// The entries that take `before` (the stored alert; none for a new one) to `after`, by `who`
/// at `at`: one per field changed, each note added its own.
pub fn changes(before: Option<&Alert>, after: &Alert, who: &str, at: DateTime<Utc>) -> Vec<Activity> {
    let entry = |kind, detail: String| Activity::on(&after.id, at, who, kind, detail);
    let mut out = vec![];
    let (status, assignee, classification, reason, notes) = match before {
        Some(b) => {
            (b.status, b.assignee.clone(), b.classification, b.classification_reason.clone(), b.notes.len())
        }
        None => (AlertStatus::Open, None, None, None, 0),
    };
    if status != after.status {
        out.push(entry(
            ActivityKind::Status,
            format!("{} → {}", status_name(status), status_name(after.status)),
        ));
    }
    if assignee != after.assignee {
        let name = |a: &Option<String>| a.clone().unwrap_or_else(|| "unassigned".into());
        out.push(entry(ActivityKind::Assignee, format!("{} → {}", name(&assignee), name(&after.assignee))));
    }
    if classification != after.classification || reason != after.classification_reason {
        let said = judgement_text(after.classification, &after.classification_reason);
        out.push(entry(ActivityKind::Classification, said));
    }
    for note in after.notes.iter().skip(notes) {
        out.push(entry(ActivityKind::Note, note.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_changed_field_is_one_entry_with_who_and_when() {
        let at = Utc::now();
        let before = Alert::by_hand("a1", "u", at);
        let mut after = before.clone();
        after.status = AlertStatus::Resolved;
        after.assignee = Some("bob".into());
        after.classification = Some(Classification::BenignPositive);
        after.classification_reason = Some("the red team's drill".into());
        after.notes.push("n1".into());
        after.notes.push("n2".into());
        let log = changes(Some(&before), &after, "alice", at);
        let said: Vec<(ActivityKind, &str)> = log.iter().map(|e| (e.kind, e.detail.as_str())).collect();
        assert_eq!(
            said,
            [
                (ActivityKind::Status, "open → resolved"),
                (ActivityKind::Assignee, "unassigned → bob"),
                (ActivityKind::Classification, "benign positive: the red team's drill"),
                (ActivityKind::Note, "n1"),
                (ActivityKind::Note, "n2"),
            ]
        );
        assert!(log.iter().all(|e| e.who == "alice" && e.at == at && e.alert_id == "a1"));
        assert!(changes(Some(&after), &after, "alice", at).is_empty());
        assert_eq!(Classification::parse("FP"), Some(Classification::FalsePositive));
        assert_eq!(Classification::parse("benign-positive"), Some(Classification::BenignPositive));
        assert_eq!(Classification::parse("maybe"), None);
    }
}

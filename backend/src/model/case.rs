//! Cases (incidents): alerts grouped by hand or on a shared entity, with a title, a severity
//! (the highest of its alerts unless set), an owner, a status and notes. What was done to a case
//! is logged in the activity log under the case's id, as an alert's is under its own.

use super::{Activity, ActivityKind, Alert, Classification, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most alerts one case holds: past it, the case is a query, not an incident.
pub const MAX_CASE_ALERTS: usize = 500;
/// The longest title kept.
pub const MAX_TITLE_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    #[default]
    Open,
    InProgress,
    Closed,
}

impl CaseStatus {
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::InProgress => "in progress",
            CaseStatus::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// `case-` and eight hex digits.
    pub id: String,
    pub user_id: String,
    pub title: String,
    /// Set by hand; none means the highest of the alerts' (see [`Case::severity_shown`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The highest severity of its alerts, kept as alerts are added and removed, so a list of
    /// cases needs no read of their alerts.
    #[serde(default)]
    pub alert_severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: CaseStatus,
    /// How the case was judged when closed, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_reason: Option<String>,
    /// Its alerts in the order they were added.
    #[serde(default)]
    pub alert_ids: Vec<String>,
    /// `YYYY-MM-DD HH:MM author: text`, oldest first (as an alert's notes).
    #[serde(default)]
    pub notes: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Counts the stored writes: a write names the version it read, so two analysts changing
    /// one case at once never lose each other's change (the store refuses the stale one).
    #[serde(default)]
    pub version: u64,
}

impl Case {
    pub fn new(id: &str, user_id: &str, title: &str, who: &str, at: DateTime<Utc>) -> Case {
        Case {
            id: id.to_string(),
            user_id: user_id.to_string(),
            title: title.chars().take(MAX_TITLE_CHARS).collect(),
            severity: None,
            alert_severity: Severity::Info,
            owner: None,
            status: CaseStatus::Open,
            classification: None,
            classification_reason: None,
            alert_ids: vec![],
            notes: vec![],
            created_by: who.to_string(),
            created_at: at,
            updated_at: at,
            version: 0,
        }
    }

    /// The severity set by hand, else the highest of its alerts'.
    pub fn severity_shown(&self) -> Severity {
        self.severity.unwrap_or(self.alert_severity)
    }

    /// Keeps [`Case::alert_severity`] to the highest of `alerts` that are in the case.
    pub fn take_severity_of(&mut self, alerts: &[Alert]) {
        self.alert_severity = alerts
            .iter()
            .filter(|a| self.alert_ids.contains(&a.id))
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Info);
    }

    pub fn is_open(&self) -> bool {
        self.status != CaseStatus::Closed
    }
}

/// The entries that take `before` (none for a new case) to `after`, logged under the case's id:
/// one per field changed, each alert added or removed and each note its own.
pub fn case_changes(before: Option<&Case>, after: &Case, who: &str, at: DateTime<Utc>) -> Vec<Activity> {
    let entry = |kind, detail: String| Activity::on(&after.id, at, who, kind, detail);
    let mut out = vec![];
    let Some(b) = before else {
        out.push(entry(ActivityKind::Case, format!("opened: {}", after.title)));
        for id in &after.alert_ids {
            out.push(entry(ActivityKind::Case, format!("alert {id} added")));
        }
        for note in &after.notes {
            out.push(entry(ActivityKind::Note, note.clone()));
        }
        return out;
    };
    if b.title != after.title {
        out.push(entry(ActivityKind::Case, format!("title: {} → {}", b.title, after.title)));
    }
    if b.severity != after.severity {
        let name = |s: Option<Severity>| s.map_or("from its alerts", |s| s.as_str());
        out.push(entry(
            ActivityKind::Case,
            format!("severity: {} → {}", name(b.severity), name(after.severity)),
        ));
    }
    if b.owner != after.owner {
        let name = |o: &Option<String>| o.clone().unwrap_or_else(|| "nobody".into());
        out.push(entry(ActivityKind::Assignee, format!("{} → {}", name(&b.owner), name(&after.owner))));
    }
    if b.status != after.status {
        out.push(entry(ActivityKind::Status, format!("{} → {}", b.status.name(), after.status.name())));
    }
    if (b.classification, &b.classification_reason) != (after.classification, &after.classification_reason) {
        let said = super::activity::judgement_text(after.classification, &after.classification_reason);
        out.push(entry(ActivityKind::Classification, said));
    }
    for id in after.alert_ids.iter().filter(|id| !b.alert_ids.contains(id)) {
        out.push(entry(ActivityKind::Case, format!("alert {id} added")));
    }
    for id in b.alert_ids.iter().filter(|id| !after.alert_ids.contains(id)) {
        out.push(entry(ActivityKind::Case, format!("alert {id} removed")));
    }
    for note in after.notes.iter().skip(b.notes.len()) {
        out.push(entry(ActivityKind::Note, note.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_logs_each_change_and_takes_its_alerts_highest_severity() {
        let at = Utc::now();
        let mut a1 = Alert::by_hand("a1", "u", at);
        a1.severity = Severity::Medium;
        let mut a2 = Alert::by_hand("a2", "u", at);
        a2.severity = Severity::Critical;
        let mut c = Case::new("case-1", "u", "intruder", "alice", at);
        c.alert_ids = vec!["a1".into()];
        let opened = case_changes(None, &c, "alice", at);
        assert_eq!(opened.len(), 2, "{opened:?}");
        c.take_severity_of(&[a1.clone(), a2.clone()]);
        assert_eq!(c.severity_shown(), Severity::Medium, "a2 is not in the case");
        let before = c.clone();
        c.alert_ids.push("a2".into());
        c.owner = Some("bob".into());
        c.status = CaseStatus::Closed;
        c.classification = Some(Classification::TruePositive);
        c.notes.push("n".into());
        c.take_severity_of(&[a1.clone(), a2.clone()]);
        assert_eq!(c.severity_shown(), Severity::Critical);
        let log = case_changes(Some(&before), &c, "bob", at);
        let kinds: Vec<ActivityKind> = log.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ActivityKind::Assignee,
                ActivityKind::Status,
                ActivityKind::Classification,
                ActivityKind::Case,
                ActivityKind::Note
            ]
        );
        assert!(log.iter().all(|e| e.alert_id == "case-1" && e.who == "bob"));
        c.severity = Some(Severity::Low);
        assert_eq!(c.severity_shown(), Severity::Low, "set by hand wins");
    }
}

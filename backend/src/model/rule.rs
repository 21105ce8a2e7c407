//! A detection rule: SQL, threshold, severity, schedule, and its run statistics.

use super::{Schedule, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdKind {
    #[default]
    Count,
}

/// `{type: count, value: n}`: the rule alerts when its query returns more than `n` rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    #[serde(rename = "type", default)]
    pub kind: ThresholdKind,
    pub value: u64,
}

impl Threshold {
    pub fn count(value: u64) -> Self {
        Threshold { kind: ThresholdKind::Count, value }
    }

    pub fn is_exceeded_by(&self, rows: u64) -> bool {
        rows > self.value
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::count(0)
    }
}

/// How repeated alerts of a rule are folded: by the values of `fields` in the results (e.g.
/// `sourceipaddress`), or by the summary when no fields are named; within `window_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupSpec {
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default = "default_dedup_window")]
    pub window_secs: u64,
}

pub const DEFAULT_DEDUP_WINDOW_SECS: u64 = 300;
/// The longest dedup window a rule may ask for (30 days).
pub const MAX_DEDUP_WINDOW_SECS: u64 = 30 * 86_400;
/// The largest count threshold: what SQLite and DynamoDB store as a whole number exactly.
pub const MAX_THRESHOLD: u64 = i64::MAX as u64;
/// The largest `notify: every N`.
pub const MAX_NOTIFY_EVERY: u64 = 1_000_000;

/// When an alert that keeps getting events is sent again: only when first made (the
/// default), or each time `n` more events have been folded into it since it was last sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    #[default]
    First,
    Every(u64),
}

impl Notify {
    /// True when an alert with `events` events, last sent at `notified`, is due to be sent again.
    pub fn again(&self, events: u64, notified: u64) -> bool {
        match self {
            Notify::First => false,
            Notify::Every(n) => events.saturating_sub(notified) >= (*n).max(1),
        }
    }
}

fn default_dedup_window() -> u64 {
    DEFAULT_DEDUP_WINDOW_SECS
}

impl Default for DedupSpec {
    fn default() -> Self {
        DedupSpec { fields: vec![], window_secs: DEFAULT_DEDUP_WINDOW_SECS }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "error")]
pub enum RunStatus {
    Success,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub query: String,
    pub severity: Severity,
    #[serde(default)]
    pub threshold: Threshold,
    pub schedule: Schedule,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Integration ids (or kinds) to route to; empty means all the user's integrations.
    #[serde(default)]
    pub destinations: Vec<String>,
    #[serde(default)]
    pub dedup: DedupSpec,
    #[serde(default)]
    pub notify: Notify,
    /// Documentation carried from the rule file, shown beside the alert.
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub runbook: String,
    #[serde(default)]
    pub false_positives: Vec<String>,
    /// The rule file's `suppress:` entries (field values kept quiet until a date).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress: Vec<super::suppression::Suppression>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    // Run statistics, as the seed's rules table keeps them.
    #[serde(default)]
    pub executions: u64,
    #[serde(default)]
    pub last_execution: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_status: Option<RunStatus>,
    #[serde(default)]
    pub alert_count: u64,
    #[serde(default)]
    pub data_scanned_mb: f64,
    #[serde(default)]
    pub avg_duration_ms: f64,
    /// The end of the last run window whose alerts were all stored and routed: the next run
    /// starts here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_until: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

impl Rule {
    /// A new enabled rule with empty statistics.
    pub fn new(id: &str, name: &str, query: &str, severity: Severity, schedule: Schedule) -> Self {
        let now = Utc::now();
        Rule {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            query: query.into(),
            severity,
            threshold: Threshold::default(),
            schedule,
            enabled: true,
            tags: vec![],
            destinations: vec![],
            dedup: DedupSpec::default(),
            notify: Notify::First,
            references: vec![],
            runbook: String::new(),
            false_positives: vec![],
            suppress: vec![],
            created_at: now,
            updated_at: now,
            executions: 0,
            last_execution: None,
            last_status: None,
            alert_count: 0,
            data_scanned_mb: 0.0,
            avg_duration_ms: 0.0,
            detected_until: None,
        }
    }

    /// The query as a dry run sends it: over the last day (a new rule's first window).
    pub fn dry_run_sql(&self, now: DateTime<Utc>) -> String {
        super::RunWindow::last_day(now).render(&self.query)
    }

    /// Folds one run into the statistics (running mean of the duration).
    pub fn record_run(
        &mut self,
        at: DateTime<Utc>,
        duration_ms: f64,
        scanned_bytes: u64,
        status: RunStatus,
        alerted: bool,
    ) {
        let n = self.executions as f64;
        self.avg_duration_ms = (self.avg_duration_ms * n + duration_ms) / (n + 1.0);
        self.executions += 1;
        self.last_execution = Some(at);
        self.last_status = Some(status);
        self.data_scanned_mb += scanned_bytes as f64 / (1024.0 * 1024.0);
        if alerted {
            self.alert_count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_means_more_than() {
        let t = Threshold::count(5);
        assert!(!t.is_exceeded_by(5));
        assert!(t.is_exceeded_by(6));
        assert!(Threshold::default().is_exceeded_by(1));
        assert!(!Threshold::default().is_exceeded_by(0));
    }

    #[test]
    fn threshold_serde_shape() {
        let t: Threshold = serde_json::from_str(r#"{"type":"count","value":3}"#).unwrap();
        assert_eq!(t, Threshold::count(3));
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"type":"count","value":3}"#);
    }

    #[test]
    fn run_statistics_accumulate() {
        let mut r =
            Rule::new("r1", "Root use", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
        let t = Utc::now();
        r.record_run(t, 100.0, 2 * 1024 * 1024, RunStatus::Success, true);
        r.record_run(t, 300.0, 1024 * 1024, RunStatus::Failed("boom".into()), false);
        assert_eq!(r.executions, 2);
        assert_eq!(r.avg_duration_ms, 200.0);
        assert_eq!(r.alert_count, 1);
        assert_eq!(r.data_scanned_mb, 3.0);
        assert_eq!(r.last_status, Some(RunStatus::Failed("boom".into())));
    }
}

//! Alerts made by rules, their triage state, and the delivery attempts per integration.

use super::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    #[default]
    Open,
    Acknowledged,
    InProgress,
    /// Closed; how it was judged is the alert's [`Classification`](super::Classification).
    /// Alerts stored as `false_positive` before classifications existed read as resolved.
    #[serde(alias = "false_positive")]
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub user_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    /// `"{count} matches for {rule name}"`.
    pub summary: String,
    pub description: String,
    pub result_count: u64,
    pub query: String,
    /// The evidence's first and last event time (the run window's bounds when the rows carry no
    /// time); pivots query this interval.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Result rows as JSON objects, for context and pivots: up to [`MAX_SAMPLE_ROWS`].
    pub sample_rows: Vec<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub status: AlertStatus,
    #[serde(default)]
    pub assignee: Option<String>,
    /// How the alert was judged when resolved, and why (kept apart from the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<super::Classification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_reason: Option<String>,
    /// Set when a suppression held the alert back: it is kept and shown, never delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<super::suppression::SuppressedBy>,
    /// `YYYY-MM-DD HH:MM author: text`, oldest first.
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub attempts: Vec<DeliveryAttempt>,
    /// What names the incident within its rule: the rule's dedup field values
    /// (`principal=bob,sourceipaddress=203.0.113.7`), empty when the rule names none.
    #[serde(default)]
    pub dedup_key: String,
    /// Matching events (result rows) folded into this alert over all its runs.
    #[serde(default)]
    pub event_count: u64,
    /// The end of the latest run window folded in, so a retried run is not counted twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_until: Option<DateTime<Utc>>,
    /// `event_count` when the alert was last sent to integrations.
    #[serde(default)]
    pub notified_count: u64,
    /// What happened to the alert, oldest first: made, more events, notified again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<AlertEvent>,
}

/// Sample rows kept on one alert, over all the runs folded into it.
pub const MAX_SAMPLE_ROWS: usize = 20;

/// One entry of an alert's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub at: DateTime<Utc>,
    pub what: String,
}

impl Alert {
    /// Not resolved: new events of the same incident are folded into it.
    pub fn is_open(&self) -> bool {
        self.status != AlertStatus::Resolved
    }

    /// An open alert made by hand, not by a rule (test sends, tests, benches): an info
    /// severity, an empty window at `at`, no samples, notes or attempts. Callers set the rest
    /// with struct update syntax.
    pub fn by_hand(id: impl Into<String>, user_id: impl Into<String>, at: DateTime<Utc>) -> Alert {
        Alert {
            id: id.into(),
            user_id: user_id.into(),
            rule_id: String::new(),
            rule_name: String::new(),
            severity: Severity::Info,
            summary: String::new(),
            description: String::new(),
            result_count: 0,
            query: "SELECT 1".into(),
            window_start: at,
            window_end: at,
            sample_rows: vec![],
            created_at: at,
            status: AlertStatus::Open,
            assignee: None,
            classification: None,
            classification_reason: None,
            suppressed: None,
            notes: vec![],
            attempts: vec![],
            dedup_key: String::new(),
            event_count: 0,
            detected_until: None,
            notified_count: 0,
            history: vec![],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Retrying,
    Failed,
    DeadLettered,
    Suppressed,
}

/// One try at sending an alert to one integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub integration_id: String,
    pub attempt: u32,
    pub at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub latency_ms: Option<u64>,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    /// The backoff chosen after a failure: when the queue hands the message out again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in_secs: Option<u64>,
}

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
    Resolved,
    FalsePositive,
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
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Up to 10 result rows as JSON objects, for context and pivots.
    pub sample_rows: Vec<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub status: AlertStatus,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub attempts: Vec<DeliveryAttempt>,
}

impl Alert {
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
            notes: vec![],
            attempts: vec![],
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

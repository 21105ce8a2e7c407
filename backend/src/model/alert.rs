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

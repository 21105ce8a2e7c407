//! PagerDuty Events API v2 `enqueue`: trigger events with a stable `dedup_key` (configurable
//! prefix) and the severity mapped to critical/error/warning/info.

use super::{SendContext, SendError, Sent, post_json, text};
use crate::model::{Alert, Severity};
use serde_json::{Value, json};

pub const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";

pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

pub fn payload(config: &Value, routing_key: &str, alert: &Alert) -> Value {
    let prefix = text(config, "dedup_key_prefix").unwrap_or("mantissa");
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": format!("{prefix}-{}-{}", alert.user_id, alert.rule_id),
        "client": "Mantissa Log",
        "payload": {
            "summary": alert.summary.chars().take(1024).collect::<String>(),
            "source": text(config, "source").unwrap_or("mantissa-log"),
            "severity": severity(alert.severity),
            "timestamp": alert.created_at.to_rfc3339(),
            "component": alert.rule_id,
            "class": "detection",
            "custom_details": {
                "rule": alert.rule_name, "matches": alert.result_count, "query": alert.query,
                "alert_id": alert.id, "sample": alert.sample_rows.first(),
            }
        }
    })
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    routing_key: &str,
    alert: &Alert,
) -> Result<Sent, SendError> {
    let url = text(config, "url").unwrap_or(DEFAULT_URL);
    let (status, body) = post_json(ctx, url, &payload(config, routing_key, alert), |r| r).await?;
    let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    Ok(Sent {
        http_status: Some(status),
        reference: answer.get("dedup_key").and_then(Value::as_str).map(String::from),
    })
}

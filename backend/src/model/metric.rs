//! What the pipeline counts: rule runs by outcome, alerts routed by severity and integration
//! type, deliveries by outcome with their latency. A [`Sample`] is one such event; the Lambdas
//! print it as a CloudWatch Embedded Metric Format line, the embedded backend adds it up.

use super::{DeliveryStatus, IntegrationKind, Severity};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const RULE_RUNS: &str = "RuleRuns";
pub const ALERTS_ROUTED: &str = "AlertsRouted";
pub const DELIVERIES: &str = "Deliveries";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
}

impl Unit {
    /// CloudWatch's name of the unit.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// One counted event: the metric it belongs to, its dimensions (low cardinality: CloudWatch
/// bills each combination), its values, and properties that are logged but not dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub metric: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    pub values: Vec<(&'static str, Unit, f64)>,
    pub properties: Vec<(&'static str, Value)>,
}

/// What a rule run reports: who ran what, how it ended, and what it read.
pub struct RuleRun<'a> {
    pub user_id: &'a str,
    pub rule_id: &'a str,
    pub table: Option<&'a str>,
    pub failed: bool,
    pub duration_ms: f64,
    pub bytes_scanned: u64,
    pub shared_with: usize,
    pub alerts: usize,
}

impl Sample {
    pub fn rule_run(at: DateTime<Utc>, run: &RuleRun) -> Sample {
        Sample {
            at,
            user_id: run.user_id.to_string(),
            metric: RULE_RUNS,
            dimensions: vec![("Outcome", if run.failed { "failed" } else { "success" }.to_string())],
            values: vec![
                (RULE_RUNS, Unit::Count, 1.0),
                ("QueryMs", Unit::Milliseconds, run.duration_ms),
                ("BytesScanned", Unit::Bytes, run.bytes_scanned as f64),
            ],
            properties: vec![
                ("RuleId", json!(run.rule_id)),
                ("Table", json!(run.table.unwrap_or("unknown"))),
                ("SharedWith", json!(run.shared_with)),
                ("Alerts", json!(run.alerts)),
            ],
        }
    }

    pub fn alert_routed(
        at: DateTime<Utc>,
        user_id: &str,
        severity: Severity,
        kind: IntegrationKind,
        rule_id: &str,
    ) -> Sample {
        Sample {
            at,
            user_id: user_id.to_string(),
            metric: ALERTS_ROUTED,
            dimensions: vec![
                ("Severity", severity.as_str().to_string()),
                ("IntegrationType", kind_name(kind)),
            ],
            values: vec![(ALERTS_ROUTED, Unit::Count, 1.0)],
            properties: vec![("RuleId", json!(rule_id))],
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn delivery(
        at: DateTime<Utc>,
        user_id: &str,
        status: DeliveryStatus,
        kind: Option<IntegrationKind>,
        latency_ms: Option<u64>,
        alert_id: &str,
        rule_id: &str,
        error: Option<&str>,
    ) -> Sample {
        let kind = kind.map_or("unknown".to_string(), kind_name);
        let mut values = vec![(DELIVERIES, Unit::Count, 1.0)];
        if let Some(ms) = latency_ms {
            values.push(("DeliveryLatency", Unit::Milliseconds, ms as f64));
        }
        let mut properties = vec![("AlertId", json!(alert_id)), ("RuleId", json!(rule_id))];
        if let Some(e) = error {
            properties.push(("Error", json!(e)));
        }
        Sample {
            at,
            user_id: user_id.to_string(),
            metric: DELIVERIES,
            dimensions: vec![("Outcome", outcome_name(status).to_string()), ("IntegrationType", kind)],
            values,
            properties,
        }
    }

    /// `Outcome=failed,IntegrationType=slack`: the dimensions as one key.
    pub fn dimension_key(&self) -> String {
        self.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
    }
}

fn kind_name(kind: IntegrationKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub fn outcome_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Retrying => "retrying",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::DeadLettered => "dead_lettered",
        DeliveryStatus::Suppressed => "suppressed",
    }
}

/// A metric's value summed over samples with the same dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Total {
    pub metric: String,
    pub dimensions: String,
    pub value: String,
    pub sum: f64,
    pub samples: u64,
}

/// The totals as the status line says them: runs (failed), alerts routed, deliveries
/// (failed), mean delivery latency. `None` when nothing was counted.
pub fn totals_line(totals: &[Total]) -> Option<String> {
    let sum = |metric: &str, value: &str, dims: &dyn Fn(&str) -> bool| -> f64 {
        totals
            .iter()
            .filter(|t| t.metric == metric && t.value == value && dims(&t.dimensions))
            .map(|t| t.sum)
            .sum()
    };
    let all = |_: &str| true;
    let failed = |d: &str| {
        d.contains("Outcome=failed") || d.contains("Outcome=dead_lettered") || d.contains("Outcome=retrying")
    };
    let runs = sum(RULE_RUNS, RULE_RUNS, &all);
    if totals.is_empty() || runs + sum(DELIVERIES, DELIVERIES, &all) == 0.0 {
        return None;
    }
    let mut line = format!("{runs:.0} runs");
    let failed_runs = sum(RULE_RUNS, RULE_RUNS, &failed);
    if failed_runs > 0.0 {
        line.push_str(&format!(" ({failed_runs:.0} failed)"));
    }
    line.push_str(&format!(" · {:.0} routed", sum(ALERTS_ROUTED, ALERTS_ROUTED, &all)));
    let sent = sum(DELIVERIES, DELIVERIES, &|d: &str| d.contains("Outcome=delivered"));
    line.push_str(&format!(" · {sent:.0} sent"));
    let not_sent = sum(DELIVERIES, DELIVERIES, &failed);
    if not_sent > 0.0 {
        line.push_str(&format!(" ({not_sent:.0} failed tries)"));
    }
    let latency: Vec<&Total> = totals.iter().filter(|t| t.value == "DeliveryLatency").collect();
    let (ms, n) = latency.iter().fold((0.0, 0u64), |(s, n), t| (s + t.sum, n + t.samples));
    if n > 0 {
        line.push_str(&format!(" · {:.0} ms a send", ms / n as f64));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_as_one_line() {
        let t = |metric: &str, dims: &str, value: &str, sum: f64, samples: u64| Total {
            metric: metric.into(),
            dimensions: dims.into(),
            value: value.into(),
            sum,
            samples,
        };
        assert_eq!(totals_line(&[]), None);
        let totals = [
            t(RULE_RUNS, "Outcome=success", RULE_RUNS, 40.0, 40),
            t(RULE_RUNS, "Outcome=failed", RULE_RUNS, 2.0, 2),
            t(ALERTS_ROUTED, "Severity=high,IntegrationType=slack", ALERTS_ROUTED, 5.0, 5),
            t(DELIVERIES, "Outcome=delivered,IntegrationType=slack", DELIVERIES, 4.0, 4),
            t(DELIVERIES, "Outcome=retrying,IntegrationType=slack", DELIVERIES, 1.0, 1),
            t(DELIVERIES, "Outcome=delivered,IntegrationType=slack", "DeliveryLatency", 500.0, 5),
        ];
        assert_eq!(
            totals_line(&totals).unwrap(),
            "42 runs (2 failed) · 5 routed · 4 sent (1 failed tries) · 100 ms a send"
        );
    }
}

//! Runs a rule's query and makes an alert when the data rows exceed the threshold; the
//! rule's run statistics are updated either way.

use crate::error::Result;
use crate::model::{Alert, AlertStatus, Rule, RunStatus};
use crate::query::run_to_end;
use crate::services::Services;
use chrono::{DateTime, Utc};
use datafusion::arrow::record_batch::RecordBatch;
use std::time::Instant;

/// Sample rows kept on an alert for context and pivots.
const SAMPLE_ROWS: usize = 10;

#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub rows: u64,
    pub alert: Option<Alert>,
    pub error: Option<String>,
    pub bytes_scanned: u64,
    pub duration_ms: f64,
}

/// The first `n` rows as JSON objects.
pub fn sample_rows(batches: &[RecordBatch], n: usize) -> Vec<serde_json::Value> {
    let mut w = arrow_json::ArrayWriter::new(Vec::new());
    let mut left = n;
    for b in batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        if w.write(&b.slice(0, take)).is_err() {
            break;
        }
        left -= take;
    }
    if w.finish().is_err() {
        return vec![];
    }
    serde_json::from_slice(&w.into_inner()).unwrap_or_default()
}

/// Runs `rule` for `user` as of `fired_at`, stores its statistics, and returns the alert (not
/// yet routed) when the threshold is exceeded. A failing query is recorded on the rule.
pub async fn run_rule(s: &Services, user: &str, rule: &Rule, fired_at: DateTime<Utc>) -> Result<RunOutcome> {
    let started = Instant::now();
    let result = run_to_end(s.engine.as_ref(), &rule.query).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut updated = s.rules.get_rule(user, &rule.id).await?.unwrap_or_else(|| rule.clone());
    let outcome = match result {
        Err(e) => {
            let msg = e.to_string();
            updated.record_run(fired_at, duration_ms, 0, RunStatus::Failed(msg.clone()), false);
            RunOutcome { rows: 0, alert: None, error: Some(msg), bytes_scanned: 0, duration_ms }
        }
        Ok(out) => {
            let rows = out.num_rows() as u64;
            let bytes = out.status.stats.bytes_scanned;
            let alert = rule.threshold.is_exceeded_by(rows).then(|| Alert {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user.to_string(),
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                severity: rule.severity,
                summary: format!("{rows} matches for {}", rule.name),
                description: rule.description.clone(),
                result_count: rows,
                query: rule.query.clone(),
                window_start: fired_at - rule.schedule.approx_period(),
                window_end: fired_at,
                sample_rows: sample_rows(&out.batches, SAMPLE_ROWS),
                created_at: fired_at,
                status: AlertStatus::Open,
                assignee: None,
                notes: vec![],
                attempts: vec![],
            });
            updated.record_run(fired_at, duration_ms, bytes, RunStatus::Success, alert.is_some());
            RunOutcome { rows, alert, error: None, bytes_scanned: bytes, duration_ms }
        }
    };
    s.rules.put_rule(user, &updated).await?;
    Ok(outcome)
}

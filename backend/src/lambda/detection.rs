//! The detection Lambda: an EventBridge schedule's rule fires it with `{"schedule": "<expr>"}`
//! and it runs every enabled rule on that expression, every user's, planned together (one
//! scan for the filters of one table); the seed's per-rule input `{"rule_id", "user_id"}`
//! (or an event whose `detail` carries either) runs one rule. Alerts go to SQS.

use crate::detect::{Due, Fired, fire_due};
use crate::error::{Error, Result};
use crate::services::Services;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// Rules read at once when a tick gathers its rules.
const READS_AT_ONCE: usize = 16;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum DetectionInput {
    Tick { schedule: String },
    One { rule_id: String, user_id: String },
}

/// What an invocation did, for its log line and its caller.
#[derive(Debug, Clone, Serialize)]
pub struct TickReport {
    pub schedule: Option<String>,
    /// Rules on the schedule that were run (enabled, and still on it).
    pub rules: usize,
    /// Queries the engine ran for them.
    pub queries: usize,
    pub fired: Vec<Fired>,
}

impl TickReport {
    pub fn failed(&self) -> impl Iterator<Item = &Fired> {
        self.fired.iter().filter(|f| f.error.is_some())
    }
}

/// The rules to run: the target's constant input, or an EventBridge event's `detail`.
pub fn parse_input(event: &serde_json::Value) -> Result<DetectionInput> {
    let from = |v: &serde_json::Value| serde_json::from_value::<DetectionInput>(v.clone()).ok();
    from(event).or_else(|| event.get("detail").and_then(from)).ok_or_else(|| {
        Error::invalid(
            "detection event",
            "expected {\"schedule\": \"rate(5 minutes)\"} (or the seed's {\"rule_id\", \"user_id\"}) as the \
             EventBridge target input (or in `detail`)",
        )
    })
}

/// Every enabled rule `schedule`'s tick runs, with its user.
pub async fn due_on(s: &Services, schedule: &str) -> Result<Vec<Due>> {
    let members = s.scheduler.on_schedule(schedule).await?;
    let reads: Vec<_> = members
        .into_iter()
        .filter(|m| m.enabled)
        .map(|m| async move { (s.rules.get_rule(&m.user_id, &m.rule_id).await, m.user_id) })
        .collect();
    let rules: Vec<_> = futures::stream::iter(reads).buffered(READS_AT_ONCE).collect().await;
    let mut due = vec![];
    for (rule, user) in rules {
        // A rule deleted or moved to another schedule since: not this tick's.
        if let Some(rule) = rule?.filter(|r| r.enabled && r.schedule.as_str() == schedule) {
            due.push(Due { user, rule });
        }
    }
    Ok(due)
}

pub async fn handle(s: &Services, event: serde_json::Value) -> Result<TickReport> {
    let (schedule, due) = match parse_input(&event)? {
        DetectionInput::Tick { schedule } => {
            let due = due_on(s, &schedule).await?;
            (Some(schedule), due)
        }
        DetectionInput::One { rule_id, user_id } => {
            let rule = s
                .rules
                .get_rule(&user_id, &rule_id)
                .await?
                .ok_or_else(|| Error::NotFound { kind: "rule", id: format!("{user_id}/{rule_id}") })?;
            let due = if rule.enabled { vec![Due { user: user_id, rule }] } else { vec![] };
            (None, due)
        }
    };
    let now = s.clock.now();
    let tick = fire_due(s, &due, now).await;
    let report = TickReport { schedule, rules: due.len(), queries: tick.queries, fired: tick.fired };
    for f in &report.fired {
        tracing::info!(rule_id = %f.rule_id, alerts = f.alert_ids.len(), shared_with = f.shared_with, error = ?f.error, "detection run");
    }
    let failed: Vec<String> = report
        .failed()
        .map(|f| format!("rule {}: {}", f.rule_id, f.error.as_deref().unwrap_or_default()))
        .collect();
    if failed.is_empty() {
        return Ok(report);
    }
    // Returned as the invocation's error, so EventBridge's async retry runs the tick again:
    // the rules that succeeded have nothing new due, the others run the same window again and
    // make the same alert ids (nothing doubles).
    Err(Error::backend("detection run", failed.join("; ")))
}

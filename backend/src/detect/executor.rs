//! Runs a rule's query over its window and turns the rows into incidents: one alert per
//! (rule, dedup key), a new match folded into the open alert instead of making another.

use super::evidence::{self, Incident};
use crate::error::Result;
use crate::model::window::{DEFAULT_LATENESS_SECS, LATENESS_SETTING, MAX_LATENESS_SECS};
use crate::model::{Alert, AlertEvent, AlertStatus, MAX_SAMPLE_ROWS, Rule, RunWindow};
use crate::query::run_reading;
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};
use datafusion::arrow::record_batch::RecordBatch;
use sha2::{Digest, Sha256};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The event-time window the run examined; `None` when nothing new was due.
    pub window: Option<RunWindow>,
    pub rows: u64,
    /// New alerts and open alerts with new events folded in, not yet stored or routed.
    pub alerts: Vec<Alert>,
    pub error: Option<String>,
    pub bytes_scanned: u64,
    pub duration_ms: f64,
    /// How its rows were read: alone (and why it could not share) or in a shared scan.
    pub scan: Scan,
}

/// How a run read its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Scan {
    /// Its own query; the reason it could not share a scan, when it was due with others.
    Alone(Option<String>),
    /// One query for this many distinct rule queries of one table and window.
    Shared(usize),
}

/// What a rule's query returned: its rows, or the engine's error; the bytes are its share.
#[derive(Clone)]
pub struct Scanned {
    /// The rows read (at most [`crate::ports::HELD_ROWS`]).
    pub rows: std::result::Result<Vec<RecordBatch>, String>,
    /// Every row the query returned, read or only counted.
    pub counted: u64,
    pub bytes_scanned: u64,
    pub duration_ms: f64,
    pub scan: Scan,
}

/// The user's allowance for late delivery, in seconds (a setting; 15 minutes by default).
pub async fn lateness_secs(s: &Services, user: &str) -> Result<u64> {
    let stored = s.settings.get_setting(user, LATENESS_SETTING).await?;
    Ok(stored.and_then(|v| v.as_u64()).map_or(DEFAULT_LATENESS_SECS, |n| n.min(MAX_LATENESS_SECS)))
}

/// Runs `rule` for `user` as of `fired_at` over the window after its last one, and returns the
/// alerts it makes or updates. Nothing is stored here: [`super::fire`] stores and routes them,
/// then moves the rule's window on, so a run that fails half-way is simply run again.
pub async fn run_rule(s: &Services, user: &str, rule: &Rule, fired_at: DateTime<Utc>) -> Result<RunOutcome> {
    let Some(window) = window_for(s, user, rule, fired_at).await? else {
        return Ok(RunOutcome::nothing_due());
    };
    run_window(s, user, rule, window).await
}

/// The window `rule` runs over when fired at `fired_at`; `None` when nothing new is due.
pub async fn window_for(
    s: &Services,
    user: &str,
    rule: &Rule,
    fired_at: DateTime<Utc>,
) -> Result<Option<RunWindow>> {
    let lateness = lateness_secs(s, user).await?;
    window_after_last(s, user, rule, fired_at, lateness).await
}

/// [`window_for`] with the user's lateness already read.
pub async fn window_after_last(
    s: &Services,
    user: &str,
    rule: &Rule,
    fired_at: DateTime<Utc>,
    lateness_secs: u64,
) -> Result<Option<RunWindow>> {
    let stored = s.rules.get_rule(user, &rule.id).await?;
    let previous_end = stored.as_ref().and_then(|r| r.detected_until).or(rule.detected_until);
    Ok(RunWindow::for_run(fired_at, lateness_secs, previous_end))
}

impl RunOutcome {
    pub fn nothing_due() -> Self {
        RunOutcome {
            window: None,
            rows: 0,
            alerts: vec![],
            error: None,
            bytes_scanned: 0,
            duration_ms: 0.0,
            scan: Scan::Alone(None),
        }
    }
}

/// Runs `sql` on its own.
pub async fn scan_alone(s: &Services, sql: &str, why: Option<String>) -> Scanned {
    let started = Instant::now();
    let result = run_reading(s.engine.as_ref(), sql, super::evidence::MAX_SPLIT_ROWS).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(out) => Scanned {
            counted: out.total_rows(),
            bytes_scanned: out.status.stats.bytes_scanned,
            rows: Ok(out.batches),
            duration_ms,
            scan: Scan::Alone(why),
        },
        Err(e) => Scanned {
            rows: Err(e.to_string()),
            counted: 0,
            bytes_scanned: 0,
            duration_ms,
            scan: Scan::Alone(why),
        },
    }
}

/// Runs `rule` over exactly `window`.
pub async fn run_window(s: &Services, user: &str, rule: &Rule, window: RunWindow) -> Result<RunOutcome> {
    let scanned = scan_alone(s, &window.render(&rule.query), None).await;
    outcome_of(s, user, rule, window, scanned).await
}

/// The alerts `rule` makes or updates from what its query over `window` returned.
pub async fn outcome_of(
    s: &Services,
    user: &str,
    rule: &Rule,
    window: RunWindow,
    scanned: Scanned,
) -> Result<RunOutcome> {
    let Scanned { rows: batches, counted, bytes_scanned, duration_ms, scan } = scanned;
    let mut outcome = RunOutcome {
        window: Some(window),
        rows: 0,
        alerts: vec![],
        error: None,
        bytes_scanned,
        duration_ms,
        scan,
    };
    let batches = match batches {
        Ok(b) => b,
        Err(e) => {
            outcome.error = Some(e);
            return Ok(outcome);
        }
    };
    // Rows past what was read still count towards the threshold and the incident.
    outcome.rows = (batches.iter().map(RecordBatch::num_rows).sum::<usize>() as u64).max(counted);
    if rule.threshold.is_exceeded_by(outcome.rows) {
        for incident in evidence::incidents(rule, &batches, outcome.rows) {
            outcome.alerts.push(alert_for(s, user, rule, window, incident).await?);
        }
    }
    Ok(outcome)
}

/// The open alert of the incident with the new evidence folded in, or a new alert.
async fn alert_for(
    s: &Services,
    user: &str,
    rule: &Rule,
    window: RunWindow,
    incident: Incident,
) -> Result<Alert> {
    let now = s.clock.now();
    let Some(open) = s.alerts.open_alert(user, &rule.id, &incident.key).await? else {
        return Ok(new_alert(user, rule, window, incident, now));
    };
    // A retried run (after a crash or a failed call) covers what its first try folded in.
    let fresh = incident.unseen(open.detected_until, window);
    if fresh.count() == 0 {
        let until = open.detected_until.max(Some(window.end));
        return Ok(Alert { detected_until: until, ..open });
    }
    let dedup_window = Duration::try_seconds(rule.dedup.window_secs as i64).unwrap_or(Duration::days(30));
    let (first, _) = fresh.bounds(window);
    if first.signed_duration_since(open.window_end) <= dedup_window {
        return Ok(fold(open, fresh, window, now));
    }
    Ok(new_alert(user, rule, window, fresh, now))
}

fn fold(mut alert: Alert, incident: Incident, window: RunWindow, now: DateTime<Utc>) -> Alert {
    let (first, last) = incident.bounds(window);
    alert.event_count = alert.event_count.saturating_add(incident.count());
    alert.result_count = alert.event_count;
    alert.window_start = alert.window_start.min(first);
    alert.window_end = alert.window_end.max(last);
    let room = MAX_SAMPLE_ROWS.saturating_sub(alert.sample_rows.len());
    alert.sample_rows.extend(incident.samples().into_iter().take(room));
    alert.summary = summary(alert.event_count, &alert.rule_name);
    alert.detected_until = alert.detected_until.max(Some(window.end));
    alert.history.push(AlertEvent { at: now, what: format!("{} more events ({window})", incident.count()) });
    alert
}

fn new_alert(user: &str, rule: &Rule, window: RunWindow, incident: Incident, now: DateTime<Utc>) -> Alert {
    let (first, last) = incident.bounds(window);
    let count = incident.count();
    Alert {
        id: alert_id(user, &rule.id, &incident.key, window.start),
        user_id: user.to_string(),
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        severity: rule.severity,
        summary: summary(count, &rule.name),
        description: rule.description.clone(),
        result_count: count,
        query: window.render(&rule.query),
        window_start: first,
        window_end: last,
        sample_rows: incident.samples(),
        created_at: now,
        status: AlertStatus::Open,
        assignee: None,
        classification: None,
        classification_reason: None,
        suppressed: None,
        notes: vec![],
        attempts: vec![],
        dedup_key: incident.key,
        event_count: count,
        detected_until: Some(window.end),
        notified_count: 0,
        history: vec![AlertEvent { at: now, what: format!("made with {count} events ({window})") }],
    }
}

fn summary(events: u64, rule_name: &str) -> String {
    format!("{events} matches for {rule_name}")
}

/// Derived from what the alert is: its user, rule, incident and the start of the run window
/// that found it (a retried run starts where the failed one did), so a retry makes the same
/// alert, never another.
pub fn alert_id(user: &str, rule_id: &str, dedup_key: &str, window_start: DateTime<Utc>) -> String {
    let digest = Sha256::new()
        .chain_update(format!("{user}\u{1f}{rule_id}\u{1f}{dedup_key}\u{1f}{}", window_start.timestamp()))
        .finalize();
    let hex = hex::encode(digest);
    // UUID-shaped, so it reads like the ids elsewhere and fits the same columns.
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn alert_ids_are_stable_and_distinct() {
        let t = Utc.with_ymd_and_hms(2024, 11, 20, 10, 0, 0).unwrap();
        let a = alert_id("u", "r", "principal=bob", t);
        assert_eq!(a, alert_id("u", "r", "principal=bob", t));
        assert_ne!(a, alert_id("u", "r", "principal=eve", t));
        assert_ne!(a, alert_id("u2", "r", "principal=bob", t));
        assert_ne!(a, alert_id("u", "r", "principal=bob", t + Duration::minutes(5)));
        assert_eq!(a.len(), 36);
    }
}

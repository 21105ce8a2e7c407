//! The in-process scheduler: fires each enabled rule on its rate()/cron() expression, never
//! two runs of one rule at once; a missed run is caught up by the next (its window spans the
//! gap) and a failed one is retried soon. A panic in one rule's run is recorded against that
//! rule; the others keep going. Time comes from the services' clock, so tests step it by hand.

use super::due::{Due, run_due};
use super::executor::{RunOutcome, Scan};
use super::route_alert;
use crate::error::Result;
use crate::local::SchedulerLock;
use crate::model::metric::{RuleRun, Sample};
use crate::model::{Rule, RunStatus, RunWindow};
use crate::services::{Services, count};
use chrono::{DateTime, Duration, Utc};
use futures::{FutureExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first retry of a failed run comes after this long, doubling up to the rule's period.
const RETRY_AFTER_SECS: i64 = 30;
/// Runs stored and routed at once after a tick's queries (store calls, not queries).
const FINISHING_AT_ONCE: usize = 8;

/// A fired rule's run: its window, the alerts it made or updated, or its error.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fired {
    pub rule_id: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_end: Option<DateTime<Utc>>,
    pub alert_ids: Vec<String>,
    pub error: Option<String>,
    /// This run's share of the bytes its scan read.
    pub bytes_scanned: u64,
    pub duration_ms: f64,
    /// How many rule queries read their rows in the same scan (1: alone).
    pub shared_with: usize,
}

impl Fired {
    pub fn new(rule_id: &str, at: DateTime<Utc>, window: Option<RunWindow>) -> Self {
        Fired {
            rule_id: rule_id.to_string(),
            at,
            window_start: window.map(|w| w.start),
            window_end: window.map(|w| w.end),
            alert_ids: vec![],
            error: None,
            bytes_scanned: 0,
            duration_ms: 0.0,
            shared_with: 1,
        }
    }
}

/// One run of `rule` as of `at`: its window's query, each alert stored then routed, then the
/// rule's statistics and its window moved on. What the in-process scheduler does on each fire
/// and the detection Lambda on each EventBridge event. The window moves on only when every
/// alert is stored and routed; otherwise the error is returned and the next try runs the same
/// window again, which makes the same alert ids (nothing is doubled).
pub async fn fire(s: &Services, user: &str, rule: &Rule, at: DateTime<Utc>) -> Fired {
    let due = [Due { user: user.to_string(), rule: rule.clone() }];
    fire_due(s, &due, at).await.fired.pop().unwrap_or_else(|| Fired::new(&rule.id, at, None))
}

/// What one tick ran: a [`Fired`] a rule, in the order given, and the queries they took.
#[derive(Debug, Clone)]
pub struct Tick {
    pub fired: Vec<Fired>,
    pub queries: usize,
}

/// [`fire`] for every rule due at one tick, their queries planned together ([`run_due`]: one
/// scan for the filters of one table and window).
pub async fn fire_due(s: &Services, due: &[Due], at: DateTime<Utc>) -> Tick {
    let (outcomes, queries) = run_due(s, due, at).await;
    // Futures made first, then polled: a stream of closures over borrows is not `Send` enough
    // for `tokio::spawn`.
    let runs: Vec<_> =
        due.iter().zip(outcomes).map(|(d, outcome)| finish(s, &d.user, &d.rule, at, outcome)).collect();
    let fired = futures::stream::iter(runs).buffered(FINISHING_AT_ONCE).collect().await;
    Tick { fired, queries }
}

/// Stores and routes one run's alerts, then records the run.
async fn finish(
    s: &Services,
    user: &str,
    rule: &Rule,
    at: DateTime<Utc>,
    outcome: Result<RunOutcome>,
) -> Fired {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let mut f = Fired::new(&rule.id, at, None);
            f.error = Some(e.to_string());
            return f;
        }
    };
    let mut fired = Fired::new(&rule.id, at, outcome.window);
    fired.error = outcome.error.clone();
    fired.bytes_scanned = outcome.bytes_scanned;
    fired.duration_ms = outcome.duration_ms;
    fired.shared_with = match outcome.scan {
        Scan::Shared(n) => n,
        Scan::Alone(_) => 1,
    };
    if outcome.window.is_none() {
        return fired;
    }
    if fired.error.is_none() {
        for mut alert in outcome.alerts {
            match route_alert(s, rule, &mut alert).await {
                Ok(_) => fired.alert_ids.push(alert.id),
                Err(e) => {
                    fired.error = Some(format!("routing failed: {e}"));
                    break;
                }
            }
        }
    }
    let status = match &fired.error {
        None => RunStatus::Success,
        Some(e) => RunStatus::Failed(e.clone()),
    };
    let moved_to = fired.error.is_none().then_some(outcome.window.map(|w| w.end)).flatten();
    let record = record_run(
        s,
        user,
        rule,
        at,
        status,
        &fired.alert_ids,
        outcome.duration_ms,
        outcome.bytes_scanned,
        moved_to,
    );
    if let Err(e) = record.await {
        fired.error = Some(format!("storing the run failed: {e}"));
    }
    let run = RuleRun {
        user_id: user,
        rule_id: &rule.id,
        table: table_of(&rule.query),
        failed: fired.error.is_some(),
        duration_ms: fired.duration_ms,
        bytes_scanned: fired.bytes_scanned,
        shared_with: fired.shared_with,
        alerts: fired.alert_ids.len(),
    };
    count(s, Sample::rule_run(s.clock.now(), &run)).await;
    fired
}

/// The first lake table a query names, for the run's metric line.
fn table_of(sql: &str) -> Option<&'static str> {
    let lower = sql.to_ascii_lowercase();
    crate::model::Table::ALL
        .iter()
        .filter_map(|t| lower.find(t.name()).map(|at| (at, t.name())))
        .min()
        .map(|(_, name)| name)
}

#[allow(clippy::too_many_arguments)]
async fn record_run(
    s: &Services,
    user: &str,
    rule: &Rule,
    at: DateTime<Utc>,
    status: RunStatus,
    alert_ids: &[String],
    duration_ms: f64,
    bytes: u64,
    detected_until: Option<DateTime<Utc>>,
) -> Result<()> {
    let mut updated = s.rules.get_rule(user, &rule.id).await?.unwrap_or_else(|| rule.clone());
    updated.record_run(at, duration_ms, bytes, status, !alert_ids.is_empty());
    if let Some(end) = detected_until {
        updated.detected_until = Some(updated.detected_until.map_or(end, |d| d.max(end)));
    }
    s.rules.put_rule(user, &updated).await
}

/// Marks a rule as not running when its run ends, however it ends (a panic included).
struct RunningGuard {
    running: Arc<Mutex<HashSet<String>>>,
    rule_id: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(&self.rule_id);
        }
    }
}

#[derive(Debug, Clone)]
struct Plan {
    schedule_text: String,
    next: DateTime<Utc>,
    failures: u32,
}

pub struct SchedulerRunner {
    s: Services,
    user: String,
    /// Per rule: the schedule it was planned with, its next fire time, failures in a row.
    plans: Arc<Mutex<HashMap<String, Plan>>>,
    running: Arc<Mutex<HashSet<String>>>,
}

impl SchedulerRunner {
    pub fn new(s: Services, user: &str) -> Self {
        SchedulerRunner { s, user: user.to_string(), plans: Arc::default(), running: Arc::default() }
    }

    /// Starts a run of every enabled rule that is due at `now` and not already running.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Result<Vec<JoinHandle<Fired>>> {
        let rules = self.s.rules.list_rules(&self.user).await?;
        let mut started = vec![];
        let live: HashSet<&str> = rules.iter().filter(|r| r.enabled).map(|r| r.id.as_str()).collect();
        let mut batch = vec![];
        let mut plans = self.plans.lock().expect("plans lock");
        plans.retain(|id, _| live.contains(id.as_str()));
        for rule in rules.into_iter().filter(|r| r.enabled) {
            let text = rule.schedule.as_str().to_string();
            let due = match plans.get(&rule.id) {
                Some(p) if p.schedule_text == text => p.next,
                // New or rescheduled: due at the first fire after its last run; never run: now.
                _ => match rule.last_execution {
                    Some(last) => rule.schedule.next_after(last).unwrap_or(DateTime::<Utc>::MAX_UTC),
                    None => now,
                },
            };
            let failures = plans.get(&rule.id).map_or(0, |p| p.failures);
            if due > now {
                plans.insert(rule.id.clone(), Plan { schedule_text: text, next: due, failures });
                continue;
            }
            // Missed fires collapse into this one run (its window spans them); the next is
            // planned from now.
            let next = rule.schedule.next_after(now).unwrap_or(DateTime::<Utc>::MAX_UTC);
            plans.insert(rule.id.clone(), Plan { schedule_text: text, next, failures });
            if !self.running.lock().expect("running lock").insert(rule.id.clone()) {
                continue;
            }
            batch.push(rule);
        }
        drop(plans);
        if batch.is_empty() {
            return Ok(started);
        }
        // One task for the tick's runs, so their queries are planned together; a handle a rule.
        let guards: Vec<RunningGuard> = batch
            .iter()
            .map(|r| RunningGuard { running: self.running.clone(), rule_id: r.id.clone() })
            .collect();
        let mut senders = vec![];
        for rule in &batch {
            let (tx, rx) = tokio::sync::oneshot::channel::<Fired>();
            senders.push(tx);
            let (rule_id, at) = (rule.id.clone(), now);
            started.push(tokio::spawn(async move {
                rx.await.unwrap_or_else(|_| {
                    let mut f = Fired::new(&rule_id, at, None);
                    f.error = Some("the run was cancelled".into());
                    f
                })
            }));
        }
        let (s, user, plans) = (self.s.clone(), self.user.clone(), self.plans.clone());
        tokio::spawn(async move {
            let due: Vec<Due> = batch.iter().map(|r| Due { user: user.clone(), rule: r.clone() }).collect();
            let fired = match AssertUnwindSafe(fire_due(&s, &due, now)).catch_unwind().await {
                Ok(tick) => tick.fired,
                // Each rule again on its own, so the panic is recorded against its rule only
                // (a retried run makes the same alerts: nothing doubles).
                Err(_) => {
                    let mut out = vec![];
                    for rule in &batch {
                        out.push(match AssertUnwindSafe(fire(&s, &user, rule, now)).catch_unwind().await {
                            Ok(f) => f,
                            Err(panic) => record_panic(&s, &user, rule, now, panic_text(&panic)).await,
                        });
                    }
                    out
                }
            };
            for (((rule, f), tx), guard) in batch.iter().zip(fired).zip(senders).zip(guards) {
                plan_retry(&plans, rule, now, f.error.is_some());
                drop(guard);
                let _ = tx.send(f);
            }
        });
        Ok(started)
    }

    /// [`SchedulerRunner::run`], but only while this process holds the workspace's scheduler
    /// lock for the user: a second console or `serve` on the same data dir waits (trying again
    /// every 15 s) and takes over when the first exits. `on_state(true)` when this process
    /// starts scheduling, `on_state(false)` when another one already is.
    pub async fn run_exclusive(
        self,
        data_dir: PathBuf,
        mut shutdown: watch::Receiver<bool>,
        on_fired: impl Fn(Fired) + Send + Sync + 'static,
        on_state: impl Fn(bool) + Send + Sync + 'static,
    ) {
        let mut said_standby = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            match SchedulerLock::try_acquire(&data_dir, &self.user) {
                Ok(Some(lock)) => {
                    on_state(true);
                    let _held = lock;
                    return self.run(shutdown, on_fired).await;
                }
                Ok(None) if !said_standby => {
                    on_state(false);
                    said_standby = true;
                }
                Ok(None) => {}
                Err(e) => eprintln!("scheduler lock: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(15)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Ticks once a second until `shutdown` flips.
    pub async fn run(
        mut self,
        mut shutdown: watch::Receiver<bool>,
        on_fired: impl Fn(Fired) + Send + Sync + 'static,
    ) {
        let on_fired = Arc::new(on_fired);
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.tick(self.s.clock.now()).await {
                Ok(handles) => {
                    for h in handles {
                        let cb = on_fired.clone();
                        tokio::spawn(async move {
                            if let Ok(f) = h.await {
                                cb(f);
                            }
                        });
                    }
                }
                Err(e) => eprintln!("scheduler: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// After a failed run the rule is tried again soon (30 s, doubling, at most its period), not
/// only at its next fire; a success resets the count.
fn plan_retry(plans: &Mutex<HashMap<String, Plan>>, rule: &Rule, fired_at: DateTime<Utc>, failed: bool) {
    let Ok(mut plans) = plans.lock() else { return };
    let Some(plan) = plans.get_mut(&rule.id) else { return };
    if !failed {
        plan.failures = 0;
        return;
    }
    plan.failures = plan.failures.saturating_add(1);
    let backoff = RETRY_AFTER_SECS.saturating_mul(1i64 << plan.failures.min(20).saturating_sub(1));
    let retry =
        Duration::try_seconds(backoff).unwrap_or(Duration::days(1)).min(rule.schedule.approx_period());
    if let Some(at) = fired_at.checked_add_signed(retry) {
        plan.next = plan.next.min(at);
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown cause".into())
}

/// A run that panicked, recorded against its rule as a failure; its window is not moved on.
async fn record_panic(s: &Services, user: &str, rule: &Rule, at: DateTime<Utc>, why: String) -> Fired {
    let mut fired = Fired::new(&rule.id, at, None);
    let error = format!("the run stopped on an internal error (a bug; please report it): {why}");
    let status = RunStatus::Failed(error.clone());
    if let Err(e) = record_run(s, user, rule, at, status, &[], 0.0, 0, None).await {
        eprintln!("scheduler: rule {}: {error}; recording it failed: {e}", rule.id);
    }
    fired.error = Some(error);
    fired
}

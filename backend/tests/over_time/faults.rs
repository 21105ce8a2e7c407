//! Fault injection: the stores and the queue wrapped so that one call fails, at every call of
//! routing and delivery in turn, failing before the call lands and (a second pass) after it
//! landed. Every alert ends stored and delivered or dead-lettered; a duplicate delivery only
//! with a redelivery on record.

use super::world::{USER, World, event, login_rule, minutes, t0};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mantissa_backend::Result;
use mantissa_backend::detect::SchedulerRunner;
use mantissa_backend::local::Db;
use mantissa_backend::model::{Alert, DeliveryAttempt, DeliveryStatus, Rule};
use mantissa_backend::ports::{
    AlertQuery, AlertQueue, AlertStore, AttemptRecord, DeadLetter, DedupCache, QueueDepth, ReceivedMessage,
    RuleStore,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq)]
enum When {
    /// The call fails and does nothing.
    Before,
    /// The call does its work, then reports a failure (a lost reply).
    After,
}

/// The local stores with one call made to fail: the `fail_at`-th (1-based; 0 never).
struct Faulty {
    db: Arc<Db>,
    calls: AtomicUsize,
    fail_at: usize,
    when: When,
}

impl Faulty {
    async fn gate<T>(&self, what: &str, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return call.await;
        }
        if self.when == When::After {
            call.await?;
        }
        Err(mantissa_backend::Error::backend("injected fault", format!("call {n} ({what})")))
    }
}

#[async_trait]
impl AlertStore for Faulty {
    async fn put_alert(&self, a: &Alert) -> Result<()> {
        self.gate("put_alert", self.db.put_alert(a)).await
    }
    async fn put_alert_if_absent(&self, a: &Alert) -> Result<bool> {
        self.gate("put_alert_if_absent", self.db.put_alert_if_absent(a)).await
    }
    async fn get_alert(&self, u: &str, id: &str) -> Result<Option<Alert>> {
        self.gate("get_alert", self.db.get_alert(u, id)).await
    }
    async fn list_alerts(&self, u: &str, q: &AlertQuery) -> Result<Vec<Alert>> {
        self.gate("list_alerts", self.db.list_alerts(u, q)).await
    }
    async fn open_alert(&self, u: &str, r: &str, k: &str) -> Result<Option<Alert>> {
        self.gate("open_alert", self.db.open_alert(u, r, k)).await
    }
    async fn record_attempt(&self, u: &str, id: &str, a: &DeliveryAttempt) -> Result<()> {
        self.gate("record_attempt", self.db.record_attempt(u, id, a)).await
    }
    async fn put_alerts_if_absent(&self, a: &[Alert]) -> Result<()> {
        self.gate("put_alerts_if_absent", self.db.put_alerts_if_absent(a)).await
    }
    async fn record_attempts(&self, r: &[AttemptRecord]) -> Result<()> {
        self.gate("record_attempts", self.db.record_attempts(r)).await
    }
    async fn attempts_since(&self, u: &str, since: DateTime<Utc>) -> Result<Vec<DeliveryAttempt>> {
        self.gate("attempts_since", self.db.attempts_since(u, since)).await
    }
}

#[async_trait]
impl AlertQueue for Faulty {
    async fn send(&self, g: &str, d: &str, b: &str) -> Result<String> {
        self.gate("send", self.db.send(g, d, b)).await
    }
    async fn receive(&self, max: usize, vis: u64) -> Result<Vec<ReceivedMessage>> {
        self.gate("receive", self.db.receive(max, vis)).await
    }
    async fn delete(&self, r: &str) -> Result<()> {
        self.gate("delete", self.db.delete(r)).await
    }
    async fn delete_batch(&self, r: &[String]) -> Result<()> {
        self.gate("delete_batch", self.db.delete_batch(r)).await
    }
    async fn retry_later(&self, r: &str, secs: u64, e: &str) -> Result<()> {
        self.gate("retry_later", self.db.retry_later(r, secs, e)).await
    }
    async fn dead_letters(&self, u: &str) -> Result<Vec<DeadLetter>> {
        self.db.dead_letters(u).await
    }
    async fn redrive(&self, u: &str, ids: &[String]) -> Result<usize> {
        self.db.redrive(u, ids).await
    }
    async fn delete_dead_letter(&self, u: &str, id: &str) -> Result<()> {
        self.db.delete_dead_letter(u, id).await
    }
    async fn purge_dead_letters(&self, u: &str) -> Result<usize> {
        self.db.purge_dead_letters(u).await
    }
    async fn depth(&self) -> Result<QueueDepth> {
        self.db.depth().await
    }
}

#[async_trait]
impl DedupCache for Faulty {
    async fn insert_if_absent(&self, k: &str, v: &str, e: DateTime<Utc>) -> Result<bool> {
        self.gate("dedup insert", self.db.insert_if_absent(k, v, e)).await
    }
    async fn get(&self, k: &str) -> Result<Option<String>> {
        self.gate("dedup get", self.db.get(k)).await
    }
    async fn release(&self, k: &str, v: &str) -> Result<()> {
        self.gate("dedup release", self.db.release(k, v)).await
    }
    async fn claim_many(&self, c: &[(String, String, DateTime<Utc>)]) -> Result<Vec<Option<String>>> {
        self.gate("dedup claim_many", self.db.claim_many(c)).await
    }
}

#[async_trait]
impl RuleStore for Faulty {
    async fn list_rules(&self, u: &str) -> Result<Vec<Rule>> {
        // The scheduler's tick: a failure there only skips a tick, so it is not counted.
        self.db.list_rules(u).await
    }
    async fn get_rule(&self, u: &str, id: &str) -> Result<Option<Rule>> {
        self.gate("get_rule", self.db.get_rule(u, id)).await
    }
    async fn put_rule(&self, u: &str, r: &Rule) -> Result<()> {
        self.gate("put_rule", self.db.put_rule(u, r)).await
    }
    async fn delete_rule(&self, u: &str, id: &str) -> Result<()> {
        self.gate("delete_rule", self.db.delete_rule(u, id)).await
    }
}

const INCIDENTS: [&str; 3] = ["alice", "bob", "carol"];

/// Three incidents, one file; the world's stores wrapped by `Faulty`. Returns the world and
/// how many calls the wrapped stores saw once everything settled.
async fn run(fail_at: usize, when: When) -> (World, usize) {
    let mut w = World::new().await;
    let db = Arc::new(Db::open(&w.dir.path().join("state.db")).unwrap().with_clock(w.clock.clone()));
    let faulty = Arc::new(Faulty { db, calls: AtomicUsize::new(0), fail_at, when });
    w.s.alerts = faulty.clone();
    w.s.queue = faulty.clone();
    w.s.dedup = faulty.clone();
    w.s.rules = faulty.clone();
    faulty.db.put_rule(USER, &login_rule()).await.unwrap();
    let records: Vec<_> = INCIDENTS
        .iter()
        .enumerate()
        .map(|(i, u)| event(t0() + minutes(i as i64), u, "ConsoleLogin", "No"))
        .collect();
    w.land("trail.json", &records);
    let mut scheduler = SchedulerRunner::new(w.s.clone(), USER);
    // Until everything settles (the rule's window moved on, the queue empty), at most forty
    // minutes: a failed run is retried within a minute or two, deliveries back off 5-20 s.
    for step in 0..120 {
        w.clock.set(t0() + minutes(18) + chrono::Duration::seconds(step * 20));
        if let Ok(handles) = scheduler.tick(w.now()).await {
            for h in handles {
                let _ = h.await;
            }
        }
        let worker = mantissa_backend::deliver::DeliveryWorker::new(w.s.clone());
        for _ in 0..10 {
            match worker.run_once(32).await {
                Ok(v) if v.is_empty() => break,
                _ => {}
            }
        }
        let rule = faulty.db.get_rule(USER, "login-no-mfa").await.unwrap().unwrap();
        if rule.detected_until.is_some() && faulty.db.depth().await.unwrap().queued == 0 {
            break;
        }
    }
    let calls = faulty.calls.load(Ordering::SeqCst);
    (w, calls)
}

/// Checks the invariants; returns (deliveries, duplicates, dead-lettered).
async fn check(w: &World, label: &str) -> (usize, usize, usize) {
    let db = Db::open(&w.dir.path().join("state.db")).unwrap();
    let alerts = db.list_alerts(USER, &AlertQuery::default()).await.unwrap();
    let dead = db.dead_letters(USER).await.unwrap();
    assert_eq!(alerts.len(), INCIDENTS.len(), "{label}: one alert per incident: {alerts:#?}");
    let (mut delivered, mut duplicates, mut dead_count) = (0, 0, 0);
    for who in INCIDENTS {
        let a = alerts
            .iter()
            .find(|a| a.dedup_key == format!("principal={who}"))
            .unwrap_or_else(|| panic!("{label}: {who}"));
        assert_eq!(a.event_count, 1, "{label}: {who} counted once");
        let sent = w.hook.count_of(&a.id);
        let dead_lettered = dead.iter().any(|d| d.body.contains(&a.id));
        assert!(sent >= 1 || dead_lettered, "{label}: {who}'s alert neither delivered nor dead-lettered");
        delivered += sent.min(1);
        duplicates += sent.saturating_sub(1);
        dead_count += usize::from(sent == 0 && dead_lettered);
        if sent > 1 {
            // A redelivery: the queue handed the message out again (its receive count is on
            // the attempt), after a worker failed between sending and deleting.
            let redelivered =
                a.attempts.iter().any(|t| t.status != DeliveryStatus::Pending && t.attempt >= 2);
            assert!(redelivered, "{label}: {who} sent {sent} times without a redelivery on record");
        }
    }
    (delivered, duplicates, dead_count)
}

#[tokio::test]
async fn any_one_failing_call_loses_and_doubles_nothing() {
    let (w, total) = run(0, When::Before).await;
    assert_eq!(check(&w, "no fault").await, (INCIDENTS.len(), 0, 0));
    assert!(total > 20, "routing and delivery made {total} store calls");
    let (mut faults, mut delivered, mut duplicates, mut dead) = (0, 0, 0, 0);
    for when in [When::Before, When::After] {
        for n in 1..=total {
            let (w, _) = run(n, when).await;
            let (d, dup, dl) = check(&w, &format!("call {n} failing {when:?}")).await;
            (faults, delivered, duplicates, dead) = (faults + 1, delivered + d, duplicates + dup, dead + dl);
        }
    }
    eprintln!(
        "fault injection: {faults} runs ({total} calls, each failing before and after it lands): {} alerts \
         expected, {} stored, {delivered} delivered, {dead} dead-lettered, {duplicates} duplicates (each a \
         redelivery on record)",
        faults * INCIDENTS.len(),
        faults * INCIDENTS.len()
    );
}

//! The SQLite stores and queue against the port contracts, with a hand-driven clock.

use super::Db;
use crate::clock::{Clock, ManualClock};
use crate::model::{Alert, AlertStatus, DeliveryAttempt, DeliveryStatus, Rule, Severity};
use crate::ports::{AlertQuery, AlertQueue, AlertStore, DedupCache, RuleStore};
use chrono::{Duration, TimeZone, Utc};
use std::sync::Arc;

/// A queue body naming its user, as the router writes it.
const M: &str = r#"{"user_id":"u","text":"m"}"#;

fn db() -> (Arc<ManualClock>, Db) {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2024, 11, 20, 12, 0, 0).unwrap()));
    (clock.clone(), Db::in_memory().unwrap().with_clock(clock))
}

fn alert(id: &str, user: &str, rule: &str, sev: Severity, mins: i64) -> Alert {
    let t = Utc.with_ymd_and_hms(2024, 11, 20, 12, 0, 0).unwrap() + Duration::minutes(mins);
    Alert {
        id: id.into(),
        user_id: user.into(),
        rule_id: rule.into(),
        rule_name: rule.into(),
        severity: sev,
        summary: "1 matches".into(),
        description: String::new(),
        result_count: 1,
        query: "SELECT 1".into(),
        window_start: t,
        window_end: t,
        sample_rows: vec![],
        created_at: t,
        status: AlertStatus::Open,
        assignee: None,
        classification: None,
        classification_reason: None,
        suppressed: None,
        notes: vec![],
        attempts: vec![],
        dedup_key: String::new(),
        event_count: 1,
        detected_until: None,
        notified_count: 0,
        history: vec![],
    }
}

#[tokio::test]
async fn rules_are_scoped_by_user() {
    let (_, db) = db();
    let r = Rule::new("r1", "Root use", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
    db.put_rule("alice", &r).await.unwrap();
    assert_eq!(db.list_rules("alice").await.unwrap().len(), 1);
    assert!(db.list_rules("bob").await.unwrap().is_empty());
    assert!(db.get_rule("bob", "r1").await.unwrap().is_none());
    db.delete_rule("bob", "r1").await.unwrap();
    assert!(db.get_rule("alice", "r1").await.unwrap().is_some());
}

#[tokio::test]
async fn alerts_filter_and_keep_attempts() {
    let (_, db) = db();
    db.put_alert(&alert("a1", "alice", "r1", Severity::Low, 0)).await.unwrap();
    db.put_alert(&alert("a2", "alice", "r2", Severity::Critical, 1)).await.unwrap();
    db.put_alert(&alert("b1", "bob", "r1", Severity::Critical, 2)).await.unwrap();
    let at = DeliveryAttempt {
        integration_id: "slack".into(),
        attempt: 1,
        at: Utc::now(),
        status: DeliveryStatus::Delivered,
        latency_ms: Some(12),
        http_status: Some(200),
        error: None,
        retry_in_secs: None,
    };
    db.record_attempt("alice", "a1", &at).await.unwrap();
    let all = db.list_alerts("alice", &AlertQuery::default()).await.unwrap();
    assert_eq!(all.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["a2", "a1"], "newest first");
    assert_eq!(all[1].attempts, vec![at.clone()]);
    let crit = db
        .list_alerts("alice", &AlertQuery { min_severity: Some(Severity::High), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(crit.len(), 1);
    let by_rule = db
        .list_alerts("alice", &AlertQuery { rule_id: Some("r1".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(by_rule[0].id, "a1");
    // Re-storing the alert (triage) keeps its attempts.
    let mut a1 = all[1].clone();
    a1.status = AlertStatus::Acknowledged;
    db.put_alert(&a1).await.unwrap();
    let back = db.get_alert("alice", "a1").await.unwrap().unwrap();
    assert_eq!((back.status, back.attempts.len()), (AlertStatus::Acknowledged, 1));
    assert!(db.get_alert("bob", "a1").await.unwrap().is_none());
}

#[tokio::test]
async fn dedup_insert_is_atomic_under_concurrency() {
    let (clock, db) = db();
    let expires = clock.now() + Duration::minutes(5);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(
                async move { db.insert_if_absent("k", &format!("alert-{i}"), expires).await.unwrap() },
            )
        })
        .collect();
    let wins = futures::future::join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(wins, 1);
    // After the window, the key can be taken again.
    clock.advance(Duration::minutes(6));
    assert!(db.get("k").await.unwrap().is_none());
    assert!(db.insert_if_absent("k", "later", clock.now() + Duration::minutes(5)).await.unwrap());
}

#[tokio::test]
async fn dedup_batch_claims_name_the_holder() {
    let (clock, db) = db();
    let until = clock.now() + Duration::minutes(5);
    let claim = |k: &str, v: &str| (k.to_string(), v.to_string(), until);
    let got = db
        .claim_many(&[claim("k", "a1"), claim("k", "a2"), claim("j", "a3"), claim("k", "a1")])
        .await
        .unwrap();
    assert_eq!(got, vec![None, Some("a1".into()), None, Some("a1".into())]);
    clock.advance(Duration::minutes(6));
    assert_eq!(db.claim_many(&[claim("k", "a2")]).await.unwrap(), vec![None]);
}

#[tokio::test]
async fn heads_are_found_among_many_groups_and_batches_delete() {
    let (_, db) = db();
    for i in 0..300 {
        db.send(&format!("u:g{}", i % 30), &i.to_string(), &format!("m{i}")).await.unwrap();
    }
    let first = db.receive(100, 60).await.unwrap();
    // One head per group, in send order.
    let bodies: Vec<_> = first.iter().map(|m| m.body.clone()).collect();
    assert_eq!(bodies, (0..30).map(|i| format!("m{i}")).collect::<Vec<_>>());
    assert!(db.receive(100, 60).await.unwrap().is_empty(), "every group's head is in flight");
    db.delete_batch(&first.iter().map(|m| m.receipt.clone()).collect::<Vec<_>>()).await.unwrap();
    let second = db.receive(5, 60).await.unwrap();
    assert_eq!(
        second.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["m30", "m31", "m32", "m33", "m34"]
    );
    assert_eq!(db.depth().await.unwrap().queued, 270);
}

#[tokio::test]
async fn fifo_groups_keep_order_and_block_while_in_flight() {
    let (_, db) = db();
    db.send("u:a", "1", "a1").await.unwrap();
    db.send("u:a", "2", "a2").await.unwrap();
    db.send("u:b", "3", "b1").await.unwrap();
    // Same dedup id within five minutes: not enqueued twice.
    db.send("u:a", "1", "a1").await.unwrap();
    let got = db.receive(10, 30).await.unwrap();
    assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["a1", "b1"]);
    // a2 waits for a1.
    assert!(db.receive(10, 30).await.unwrap().is_empty());
    db.delete(&got[0].receipt).await.unwrap();
    let next = db.receive(10, 30).await.unwrap();
    assert_eq!(next.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), vec!["a2"]);
}

#[tokio::test]
async fn visibility_timeout_returns_unfinished_messages() {
    let (clock, db) = db();
    db.send("g", "1", "m").await.unwrap();
    let first = db.receive(1, 30).await.unwrap();
    assert_eq!(first[0].receive_count, 1);
    clock.advance(Duration::seconds(29));
    assert!(db.receive(1, 30).await.unwrap().is_empty());
    clock.advance(Duration::seconds(2));
    let again = db.receive(1, 30).await.unwrap();
    assert_eq!(again[0].receive_count, 2);
    // The stale receipt no longer deletes it.
    db.delete(&first[0].receipt).await.unwrap();
    clock.advance(Duration::seconds(31));
    assert_eq!(db.receive(1, 30).await.unwrap().len(), 1);
}

#[tokio::test]
async fn third_failure_moves_to_dlq_and_redrive_brings_it_back() {
    let (clock, db) = db();
    db.send("u:g", "1", M).await.unwrap();
    for (n, backoff) in [(1, 5), (2, 10)] {
        let m = db.receive(1, 30).await.unwrap().remove(0);
        assert_eq!(m.receive_count, n);
        db.retry_later(&m.receipt, backoff, &format!("HTTP 500 #{n}")).await.unwrap();
        clock.advance(Duration::seconds(backoff as i64 - 1));
        assert!(db.receive(1, 30).await.unwrap().is_empty(), "still backing off");
        clock.advance(Duration::seconds(1));
    }
    let m = db.receive(1, 30).await.unwrap().remove(0);
    assert_eq!(m.receive_count, 3);
    db.retry_later(&m.receipt, 20, "HTTP 500 #3").await.unwrap();
    let dlq = db.dead_letters("u").await.unwrap();
    assert_eq!(dlq.len(), 1);
    assert_eq!((dlq[0].receive_count, dlq[0].last_error.as_deref()), (3, Some("HTTP 500 #3")));
    // Peeking does not consume.
    assert_eq!(db.dead_letters("u").await.unwrap().len(), 1);
    clock.advance(Duration::seconds(60));
    assert!(db.receive(1, 30).await.unwrap().is_empty());
    assert_eq!(db.redrive("u", &[dlq[0].message_id.clone()]).await.unwrap(), 1);
    let back = db.receive(1, 30).await.unwrap();
    assert_eq!((back[0].body.as_str(), back[0].receive_count), (M, 1));
    assert!(db.dead_letters("u").await.unwrap().is_empty());
}

#[tokio::test]
async fn crashed_receiver_past_three_receives_lands_in_dlq() {
    let (clock, db) = db();
    db.send("u:g", "1", M).await.unwrap();
    for _ in 0..3 {
        assert_eq!(db.receive(1, 30).await.unwrap().len(), 1);
        clock.advance(Duration::seconds(31)); // never deleted, never retried: a crash
    }
    assert!(db.receive(1, 30).await.unwrap().is_empty());
    assert_eq!(db.dead_letters("u").await.unwrap().len(), 1);
    db.delete_dead_letter("u", &db.dead_letters("u").await.unwrap()[0].message_id).await.unwrap();
    assert!(db.delete_dead_letter("u", "nope").await.is_err());
    db.send("u:g", "2", M).await.unwrap();
    assert_eq!(db.purge_dead_letters("u").await.unwrap(), 0);
}

/// A database made before dead letters had an owner column gets one, filled from the bodies,
/// when it is opened; the DLQ calls then find the letters of their user only.
#[tokio::test]
async fn old_databases_get_the_owner_column_from_the_bodies() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("state.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
                 group_id TEXT NOT NULL, body TEXT NOT NULL, sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL,
                 receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT, last_error TEXT);
             CREATE TABLE dead_letters (message_id TEXT PRIMARY KEY, group_id TEXT NOT NULL, body TEXT NOT NULL,
                 receive_count INTEGER NOT NULL, last_error TEXT, sent_at INTEGER NOT NULL, dead_at INTEGER NOT NULL);
             INSERT INTO dead_letters VALUES ('m1', 'a:b:x', '{\"user_id\":\"a:b\"}', 3, 'down', 0, 0);
             INSERT INTO dead_letters VALUES ('m2', 'a:x', '{\"user_id\":\"a\"}', 3, 'down', 0, 0);
             INSERT INTO dead_letters VALUES ('m3', 'a:y', 'not json', 3, 'down', 0, 0);
             INSERT INTO dead_letters VALUES ('m4', 'a:z', '{\"user_id\":7}', 3, 'down', 0, 0);
             INSERT INTO queue (message_id, group_id, body, sent_at, visible_at) VALUES ('q1', 'a:x', '{\"user_id\":\"a\"}', 0, 0);",
        )
        .unwrap();
    }
    let db = Db::open(&path).unwrap();
    let ids = |v: Vec<crate::ports::DeadLetter>| v.into_iter().map(|d| d.message_id).collect::<Vec<_>>();
    assert_eq!(ids(db.dead_letters("a").await.unwrap()), ["m2"]);
    assert_eq!(ids(db.dead_letters("a:b").await.unwrap()), ["m1"]);
    // The queued message got its owner too: after three receives it is `a`'s letter.
    for _ in 0..4 {
        for m in db.receive(10, 0).await.unwrap() {
            db.retry_later(&m.receipt, 0, "down").await.unwrap();
        }
    }
    assert_eq!(ids(db.dead_letters("a").await.unwrap()), ["m2", "q1"]);
    // Opening again is a no-op.
    drop(db);
    let db = Db::open(&path).unwrap();
    assert_eq!(db.purge_dead_letters("a").await.unwrap(), 2);
    assert_eq!(ids(db.dead_letters("a:b").await.unwrap()), ["m1"]);
}

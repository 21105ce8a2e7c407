//! The no-loss invariant under crashes: 1,000 alerts queued, a delivery worker process killed
//! with SIGKILL at random points and restarted until the queue is empty. Every alert ends
//! delivered (or in the DLQ); a duplicate is allowed only for a message that was redelivered,
//! and then its attempts record the redelivery.

#[path = "support/workspace.rs"]
mod workspace;

use chrono::Utc;
use mantissa_backend::detect::route_alert;
use mantissa_backend::model::{Alert, Rule, Severity};
use mantissa_backend::services::Services;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const ALERTS: usize = 1_000;
const USER: &str = "crash";

fn alert(i: usize) -> Alert {
    let now = Utc::now();
    Alert {
        rule_id: "r".into(),
        rule_name: "Crash test".into(),
        severity: Severity::High,
        // Distinct summaries: nothing here is a duplicate for dedup.
        summary: format!("{i} matches for Crash test"),
        result_count: i as u64,
        ..Alert::by_hand(format!("alert-{i:05}"), USER, now)
    }
}

#[test]
fn sigkilled_workers_lose_nothing() {
    let dir = TempDir::new().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(async {
        let s = Services::local(dir.path()).await.unwrap();
        // Two integrations: two FIFO groups delivered side by side.
        for id in ["sink-a", "sink-b"] {
            let path = dir.path().join(format!("{id}.jsonl"));
            s.integrations.put_integration(&workspace::file_sink(USER, id, &path)).await.unwrap();
        }
        let rule = Rule::new("r", "Crash test", "SELECT 1", Severity::High, "rate(1 hour)".parse().unwrap());
        for i in 0..ALERTS {
            route_alert(&s, &rule, &mut alert(i)).await.unwrap();
        }
        s
    });

    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    let started = Instant::now();
    let mut kills = 0;
    loop {
        let depth = rt.block_on(s.queue.depth()).unwrap();
        if depth.queued == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "queue never drained: {depth:?}");
        let mut worker = Command::new(env!("CARGO_BIN_EXE_mantissa"))
            .args([
                "--data-dir",
                dir.path().to_str().unwrap(),
                "--user",
                USER,
                "worker",
                "--visibility-secs",
                "1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(50..600)));
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();
        kills += 1;
        // Let messages hidden by the killed worker become visible again.
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1200)));
    }
    assert!(kills >= 3, "only {kills} kills: the test did not exercise crashes");

    let dead = rt.block_on(s.queue.dead_letters(USER)).unwrap();
    let (mut duplicates, mut delivered) = (0, 0);
    for integration in ["sink-a", "sink-b"] {
        let text = std::fs::read_to_string(dir.path().join(format!("{integration}.jsonl"))).unwrap();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("every sink line is whole JSON");
            *seen.entry(v["alert"]["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
        for i in 0..ALERTS {
            let id = alert(i).id;
            let n = seen.get(&id).copied().unwrap_or(0);
            let in_dlq = dead.iter().any(|d| d.body.contains(&id) && d.group_id.ends_with(integration));
            assert!(n >= 1 || in_dlq, "{id} to {integration} was lost");
            delivered += n.min(1);
            if n > 1 {
                duplicates += n - 1;
                let stored = rt.block_on(s.alerts.get_alert(USER, &id)).unwrap().expect("alert stored");
                assert!(
                    stored.attempts.iter().any(|a| a.integration_id == integration && a.attempt >= 2),
                    "{id} duplicated to {integration} without a redelivery on record"
                );
            }
        }
    }
    eprintln!(
        "{kills} SIGKILLs: {delivered} of {} deliveries landed, {duplicates} duplicates (redeliveries), {} in DLQ",
        ALERTS * 2,
        dead.len()
    );
}

/// SIGKILLs while a rule fires: 500 incidents found by one run of a rule, the process doing
/// the run (`mantissa rules run`) killed at random points, run again until a run finishes,
/// then delivered. Every incident ends as one alert, delivered (or in the DLQ).
#[test]
fn sigkilled_rule_runs_lose_nothing() {
    const INCIDENTS: usize = 500;
    let dir = TempDir::new().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = dir.path().join("sink.jsonl");
    let s = rt.block_on(async {
        let s = Services::local(dir.path()).await.unwrap();
        s.integrations.put_integration(&workspace::file_sink(USER, "sink", &sink)).await.unwrap();
        let rule = workspace::login_rule("login", "Console login", "rate(1 hour)".parse().unwrap());
        s.rules.put_rule(USER, &rule).await.unwrap();
        s
    });
    let start = Utc::now() - chrono::Duration::hours(2);
    let records: Vec<serde_json::Value> = (0..INCIDENTS)
        .map(|i| {
            serde_json::json!({
                "eventVersion": "1.09",
                "eventTime": (start + chrono::Duration::seconds(i as i64 * 5)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
                "userIdentity": {"type": "IAMUser", "userName": format!("user{i:03}")},
            })
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({"Records": records})).unwrap();
    mantissa_backend::ingest::ingest_bytes(
        &mantissa_backend::local::Lake::new(dir.path()),
        mantissa_backend::model::Table::CloudTrail,
        std::path::Path::new("trail.json"),
        &body,
    )
    .unwrap();

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut kills = 0;
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(600), "the rule's run never finished");
        let mut run = Command::new(env!("CARGO_BIN_EXE_mantissa"))
            .args(["--data-dir", dir.path().to_str().unwrap(), "--user", USER, "rules", "run", "login"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Early kills land in planning and the query, later ones among the 300 routings.
        let deadline = Instant::now() + Duration::from_millis(rng.random_range(50..300 + kills as u64 * 150));
        let finished = loop {
            if let Some(status) = run.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        match finished {
            Some(status) => {
                assert!(status.success(), "the run failed by itself");
                break;
            }
            None => {
                run.kill().unwrap(); // SIGKILL
                run.wait().unwrap();
                kills += 1;
            }
        }
    }
    assert!(kills >= 3, "only {kills} kills: the test did not exercise crashes");
    let stored =
        rt.block_on(s.alerts.list_alerts(USER, &mantissa_backend::ports::AlertQuery::default())).unwrap();
    let routed = stored.iter().filter(|a| !a.attempts.is_empty()).count();

    // Deliver everything (the worker itself is crash-tested above).
    let worker = mantissa_backend::deliver::DeliveryWorker::new(s.clone());
    rt.block_on(async { while !worker.run_once(64).await.unwrap().is_empty() {} });
    let text = std::fs::read_to_string(&sink).unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *seen.entry(v["alert"]["id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(stored.len(), INCIDENTS, "one alert per incident, none lost, none doubled");
    for a in &stored {
        assert_eq!(a.event_count, 1, "{}: counted once across the killed runs", a.dedup_key);
        assert_eq!(seen.get(&a.id).copied().unwrap_or(0), 1, "{} delivered exactly once", a.dedup_key);
    }
    eprintln!(
        "{kills} SIGKILLs during rule runs: {INCIDENTS} expected, {} stored ({routed} with attempts), {} delivered",
        stored.len(),
        seen.len()
    );
}

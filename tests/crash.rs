//! The no-loss invariant under crashes: 1,000 alerts queued, a delivery worker process killed
//! with SIGKILL at random points and restarted until the queue is empty. Every alert ends
//! delivered (or in the DLQ); a duplicate is allowed only for a message that was redelivered,
//! and then its attempts record the redelivery.

use chrono::Utc;
use mantissa_backend::detect::route_alert;
use mantissa_backend::model::{Alert, Integration, IntegrationKind, Rule, Severity};
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
            s.integrations
                .put_integration(&Integration {
                    id: id.into(),
                    user_id: USER.into(),
                    kind: IntegrationKind::File,
                    name: id.into(),
                    enabled: true,
                    min_severity: Severity::Info,
                    config: serde_json::json!({"path": dir.path().join(format!("{id}.jsonl"))}),
                    secret_ref: None,
                    created_at: Utc::now(),
                })
                .await
                .unwrap();
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

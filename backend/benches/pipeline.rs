//! The pipeline benchmark (`cargo bench -p mantissa-backend --bench pipeline`): on the
//! embedded backend with a loopback webhook, (1) latency from a rule's scheduled fire to the
//! webhook receiving the alert, over one day of demo data; (2) delivery throughput with dedup
//! on, counting every delivery the webhook receives (zero lost).

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use chrono::{Duration, DurationRound, Utc};
use mantissa_backend::clock::{Clock, ManualClock};
use mantissa_backend::deliver::DeliveryWorker;
use mantissa_backend::demo::{DemoOptions, workspace, write_demo};
use mantissa_backend::detect::{SchedulerRunner, route_alert};
use mantissa_backend::local::Lake;
use mantissa_backend::model::{Alert, DedupSpec, Integration, IntegrationKind, Rule, Severity};
use mantissa_backend::services::Services;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

type Received = Arc<Mutex<Vec<(Instant, String)>>>;

async fn hook(State(seen): State<Received>, body: String) -> &'static str {
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    seen.lock().unwrap().push((Instant::now(), v["alert"]["id"].as_str().unwrap_or_default().to_string()));
    "ok"
}

async fn webhook() -> (String, Received) {
    let seen: Received = Arc::default();
    let app = Router::new().route("/hook", post(hook)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

fn integration(id: &str, url: &str) -> Integration {
    Integration {
        id: id.into(),
        user_id: "bench".into(),
        kind: IntegrationKind::Webhook,
        name: id.into(),
        enabled: true,
        min_severity: Severity::Info,
        config: serde_json::json!({"url": url}),
        secret_ref: None,
        created_at: Utc::now(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let deliveries: usize = std::env::var("BENCH_DELIVERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
        let dir = tempfile::TempDir::new().unwrap();
        let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
        let demo = write_demo(&Lake::new(dir.path()), &DemoOptions { days: 1, seed: 5, scale: 1.0, end }).unwrap();
        let clock = Arc::new(ManualClock::new(end));
        let s = Services::local_with_clock(dir.path(), clock.clone()).await.unwrap();
        let (url, seen) = webhook().await;
        s.integrations.put_integration(&integration("hook", &url)).await.unwrap();

        // (1) Fire to webhook. Window 0: every run's alert is new to dedup.
        let mut rule = workspace::demo_rules().into_iter().find(|r| r.id == "aws-console-brute-force").unwrap();
        rule.schedule = "rate(1 minute)".parse().unwrap();
        rule.dedup = DedupSpec { fields: vec![], window_secs: 0 };
        s.rules.put_rule("bench", &rule).await.unwrap();
        let (stop_tx, stop) = watch::channel(false);
        let worker = DeliveryWorker::new(s.clone());
        let worker_task = tokio::spawn(async move { worker.run(stop).await });
        let mut sched = SchedulerRunner::new(s.clone(), "bench");
        let mut latencies = vec![];
        for i in 0..=runs {
            let before = seen.lock().unwrap().len();
            let fired_at = Instant::now();
            let handles = sched.tick(clock.now()).await.unwrap();
            assert_eq!(handles.len(), 1, "the rule is due every minute");
            while seen.lock().unwrap().len() == before {
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            }
            let at = seen.lock().unwrap()[before].0;
            if i > 0 {
                latencies.push((at - fired_at).as_secs_f64() * 1000.0);
            }
            clock.advance(Duration::minutes(1));
        }
        let _ = stop_tx.send(true);
        worker_task.await.unwrap().unwrap();
        latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

        // (2) Throughput: alerts for 8 integrations (8 FIFO groups), dedup on (window 5 min,
        // every alert distinct), one worker.
        for g in 0..8 {
            s.integrations.put_integration(&integration(&format!("hook-{g}"), &url)).await.unwrap();
        }
        let mut bulk = Rule::new("bulk", "Bulk", "SELECT 1", Severity::High, "rate(1 hour)".parse().unwrap());
        bulk.destinations = (0..8).map(|g| format!("hook-{g}")).collect();
        let alerts = deliveries / 8;
        for i in 0..alerts {
            let now = clock.now();
            let mut a = Alert {
                rule_id: "bulk".into(),
                rule_name: "Bulk".into(),
                severity: Severity::High,
                summary: format!("{i} matches for Bulk"),
                result_count: i as u64,
                ..Alert::by_hand(format!("bulk-{i:06}"), "bench", now)
            };
            route_alert(&s, &bulk, &mut a).await.unwrap();
        }
        seen.lock().unwrap().clear();
        let worker = DeliveryWorker::new(s.clone());
        let (stop_tx, stop) = watch::channel(false);
        let t = Instant::now();
        let worker_task = tokio::spawn(async move { worker.run(stop).await });
        while s.queue.depth().await.unwrap().queued > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let _ = stop_tx.send(true);
        worker_task.await.unwrap().unwrap();
        let secs = t.elapsed().as_secs_f64();
        let got = seen.lock().unwrap().len();
        let mut ids: Vec<String> = seen.lock().unwrap().iter().map(|(_, id)| id.clone()).collect();
        ids.sort();
        ids.dedup();

        println!("demo day: {} events in the lake", demo.total());
        println!(
            "fire -> webhook (rule `{}` over one day, {runs} runs): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (target p95 < 300 ms; seed 2.3-6.1 s)",
            rule.name,
            percentile(&latencies, 50.0),
            percentile(&latencies, 95.0),
            latencies.last().unwrap()
        );
        println!(
            "delivery throughput, dedup on: {got} deliveries of {} alerts x 8 integrations in {secs:.2} s = {:.0} deliveries/s; lost {} (target >= 2,000/s, 0 lost)",
            alerts,
            got as f64 / secs,
            alerts * 8 - got
        );
        assert_eq!(ids.len(), alerts, "every alert reached the webhook");
    });
}

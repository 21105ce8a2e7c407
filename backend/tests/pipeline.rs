//! Detection and delivery end to end on the embedded backend, with loopback servers that
//! check payloads against the public API shapes and inject faults.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{Duration, Utc};
use mantissa_backend::clock::{Clock, ManualClock};
use mantissa_backend::deliver::{DeliveryWorker, Verdict};
use mantissa_backend::demo::{DemoOptions, workspace, write_demo};
use mantissa_backend::detect::{SchedulerRunner, fire, resolve_route, route_alert, route_to, run_rule};
use mantissa_backend::ingest::ingest_bytes;
use mantissa_backend::local::Lake;
use mantissa_backend::model::window::LATENESS_SETTING;
use mantissa_backend::model::{
    DedupSpec, DeliveryStatus, Integration, IntegrationKind, Rule, RunStatus, Schedule, Severity, Table,
};
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::services::Services;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

/// What the fake service does with the next requests.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Ok,
    Fail500,
    RateLimited,
    Hang,
}

#[derive(Clone)]
struct Fake {
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<(String, HeaderMap, Value)>>>,
}

fn problems(path: &str, headers: &HeaderMap, v: &Value) -> Vec<String> {
    let mut p = vec![];
    let mut need = |ok: bool, what: &str| {
        if !ok {
            p.push(what.to_string());
        }
    };
    match path {
        "/slack" => {
            need(v["text"].is_string(), "text");
            let blocks = v["blocks"].as_array().cloned().unwrap_or_default();
            need(!blocks.is_empty() && blocks.len() <= 50, "blocks");
            for b in &blocks {
                let t = b["type"].as_str().unwrap_or_default();
                need(["header", "section", "context", "divider"].contains(&t), "block type");
                if t == "header" {
                    need(
                        b["text"]["type"] == "plain_text"
                            && b["text"]["text"].as_str().is_some_and(|s| s.chars().count() <= 150),
                        "header text",
                    );
                }
                if let Some(s) = b["text"]["text"].as_str() {
                    need(s.chars().count() <= 3000, "section text length");
                }
            }
        }
        "/pagerduty" => {
            need(v["routing_key"].as_str().is_some_and(|k| !k.is_empty()), "routing_key");
            need(
                ["trigger", "acknowledge", "resolve"]
                    .contains(&v["event_action"].as_str().unwrap_or_default()),
                "event_action",
            );
            need(
                v["payload"]["summary"].as_str().is_some_and(|s| !s.is_empty() && s.len() <= 1024),
                "payload.summary",
            );
            need(v["payload"]["source"].is_string(), "payload.source");
            need(
                ["critical", "error", "warning", "info"]
                    .contains(&v["payload"]["severity"].as_str().unwrap_or_default()),
                "payload.severity",
            );
        }
        "/rest/api/3/issue" => {
            need(
                headers
                    .get("authorization")
                    .and_then(|a| a.to_str().ok())
                    .is_some_and(|a| a.starts_with("Basic ")),
                "basic auth",
            );
            let f = &v["fields"];
            need(f["project"]["key"].is_string(), "project.key");
            need(f["issuetype"]["name"].is_string(), "issuetype.name");
            need(f["summary"].as_str().is_some_and(|s| s.len() <= 255), "summary");
            need(f["description"]["type"] == "doc" && f["description"]["version"] == 1, "ADF description");
            need(
                f["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().all(|x| x.as_str().is_some_and(|s| !s.contains(' ')))),
                "labels",
            );
        }
        _ => need(v["alert"]["id"].is_string(), "alert"),
    }
    p
}

async fn handle(
    State(fake): State<Fake>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_string();
    let mode = *fake.mode.lock().unwrap();
    match mode {
        Mode::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            return StatusCode::OK.into_response();
        }
        Mode::Fail500 => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Mode::RateLimited => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "42")], "slow down").into_response();
        }
        Mode::Ok => {}
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let p = problems(&path, &headers, &v);
    if !p.is_empty() {
        return (StatusCode::BAD_REQUEST, format!("invalid: {p:?}")).into_response();
    }
    fake.seen.lock().unwrap().push((path.clone(), headers, v.clone()));
    match path.as_str() {
        "/slack" => "ok".into_response(),
        "/pagerduty" => (
            StatusCode::ACCEPTED,
            axum::Json(
                json!({"status": "success", "message": "Event processed", "dedup_key": v["dedup_key"]}),
            ),
        )
            .into_response(),
        "/rest/api/3/issue" => (
            StatusCode::CREATED,
            axum::Json(json!({"id": "10000", "key": "SEC-1", "self": "http://x/rest/api/3/issue/10000"})),
        )
            .into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

/// Jira's project search (GET /rest/api/3/project/search) for the credentials
/// soc@example.com / jira-token only, as Jira Cloud answers with basic auth.
async fn jira_projects(headers: HeaderMap) -> Response {
    use base64::Engine;
    let want =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("soc@example.com:jira-token"));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (StatusCode::UNAUTHORIZED, "Client must be authenticated").into_response();
    }
    axum::Json(json!({
        "startAt": 0, "maxResults": 50, "total": 2, "isLast": true,
        "values": [
            {"id": "10000", "key": "SEC", "name": "Security Operations", "projectTypeKey": "software"},
            {"id": "10001", "key": "IR", "name": "Incident Response", "projectTypeKey": "business"}
        ]
    }))
    .into_response()
}

async fn fake_server() -> (String, Fake) {
    let fake = Fake { mode: Arc::new(Mutex::new(Mode::Ok)), seen: Arc::default() };
    let app = Router::new()
        .route("/rest/api/3/project/search", axum::routing::get(jira_projects))
        .fallback(post(handle))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), fake)
}

struct World {
    _dir: TempDir,
    s: Services,
    clock: Arc<ManualClock>,
}

const USER: &str = "analyst";

async fn world() -> World {
    let dir = TempDir::new().unwrap();
    let end = Utc::now().duration_trunc_hour();
    write_demo(&Lake::new(dir.path()), &DemoOptions { days: 2, seed: 11, scale: 0.05, end }).unwrap();
    let clock = Arc::new(ManualClock::new(end));
    let s = Services::local_with_clock(dir.path(), clock.clone()).await.unwrap();
    // Runs see everything up to the clock: the demo's stories reach its last minutes.
    s.settings.put_setting(USER, LATENESS_SETTING, &json!(0)).await.unwrap();
    World { _dir: dir, s, clock }
}

trait HourTrunc {
    fn duration_trunc_hour(self) -> Self;
}
impl HourTrunc for chrono::DateTime<Utc> {
    fn duration_trunc_hour(self) -> Self {
        chrono::DurationRound::duration_trunc(self, Duration::hours(1)).unwrap()
    }
}

fn integration(
    id: &str,
    kind: IntegrationKind,
    min: Severity,
    config: Value,
    secret_ref: Option<&str>,
) -> Integration {
    Integration {
        id: id.into(),
        user_id: USER.into(),
        kind,
        name: id.into(),
        enabled: true,
        min_severity: min,
        config,
        secret_ref: secret_ref.map(String::from),
        created_at: Utc::now(),
    }
}

fn root_rule() -> Rule {
    workspace::demo_rules().into_iter().find(|r| r.id == "aws-root-account-usage").unwrap()
}

/// Runs the worker until the queue hands out nothing more at the current time.
async fn drain(w: &World) -> Vec<Verdict> {
    let worker = DeliveryWorker::new(w.s.clone());
    let mut all = vec![];
    loop {
        let v = worker.run_once(16).await.unwrap();
        if v.is_empty() {
            return all;
        }
        all.extend(v);
    }
}

#[tokio::test]
async fn rule_makes_alert_with_summary_samples_and_stats() {
    let w = world().await;
    let rule = root_rule();
    w.s.rules.put_rule(USER, &rule).await.unwrap();
    let fired = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!((fired.error.as_deref(), fired.alert_ids.len()), (None, 1), "root story fires once");
    assert_eq!(fired.window_end, Some(w.clock.now()), "no lateness allowance in this world");
    let alert = w.s.alerts.get_alert(USER, &fired.alert_ids[0]).await.unwrap().unwrap();
    assert_eq!(alert.summary, "4 matches for Root account used");
    assert_eq!((alert.event_count, alert.dedup_key.as_str()), (4, "sourceipaddress=45.155.205.233"));
    assert_eq!(alert.sample_rows.len(), 4);
    assert_eq!(alert.sample_rows[0]["sourceipaddress"], "45.155.205.233");
    // The alert's window is its evidence's first and last event, not the run's window.
    let times: Vec<&str> = alert.sample_rows.iter().map(|r| r["eventtime"].as_str().unwrap()).collect();
    assert_eq!(alert.window_start.format("%Y-%m-%dT%H:%M:%SZ").to_string(), *times.iter().min().unwrap());
    assert_eq!(alert.window_end.format("%Y-%m-%dT%H:%M:%SZ").to_string(), *times.iter().max().unwrap());
    assert!(!alert.query.contains("{window_"), "the stored query is the one that ran");
    let stored = w.s.rules.get_rule(USER, &rule.id).await.unwrap().unwrap();
    assert_eq!((stored.executions, stored.alert_count, stored.last_status), (1, 1, Some(RunStatus::Success)));
    assert_eq!(stored.detected_until, Some(w.clock.now()));
    assert!(stored.data_scanned_mb > 0.0);

    let mut broken = rule.clone();
    broken.id = "broken".into();
    broken.query = "SELECT nope FROM cloudtrail_logs".into();
    let fired = fire(&w.s, USER, &broken, w.clock.now()).await;
    assert!(fired.error.as_deref().is_some_and(|e| e.contains("nope")), "{fired:?}");
    let stored = w.s.rules.get_rule(USER, "broken").await.unwrap().unwrap();
    assert!(matches!(stored.last_status, Some(RunStatus::Failed(m)) if m.contains("nope")));
    assert_eq!(stored.detected_until, None, "a failed run does not move the window on");
}

#[tokio::test]
async fn threshold_counts_data_rows_only() {
    let w = world().await;
    let mut rule = root_rule();
    rule.threshold.value = 4; // exactly 4 rows: not more than 4
    assert!(run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.is_empty());
    rule.threshold.value = 3;
    assert!(!run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.is_empty());
}

#[tokio::test]
async fn slack_pagerduty_jira_webhook_receive_valid_payloads() {
    let w = world().await;
    let (base, fake) = fake_server().await;
    let s = &w.s;
    s.secrets.put_secret("slack", &format!("{base}/slack")).await.unwrap();
    s.secrets.put_secret("pd", "R0UTINGKEY").await.unwrap();
    s.secrets.put_secret("jira", "api-token").await.unwrap();
    s.secrets.put_secret("hook", "s3cr3t").await.unwrap();
    for i in [
        integration("slack", IntegrationKind::Slack, Severity::Info, json!({}), Some("slack")),
        integration(
            "pd",
            IntegrationKind::PagerDuty,
            Severity::High,
            json!({"url": format!("{base}/pagerduty"), "dedup_key_prefix": "acme"}),
            Some("pd"),
        ),
        integration(
            "jira",
            IntegrationKind::Jira,
            Severity::Info,
            json!({"base_url": base, "project_key": "SEC", "email": "soc@example.com", "labels": ["aws root"]}),
            Some("jira"),
        ),
        integration(
            "hook",
            IntegrationKind::Webhook,
            Severity::Info,
            json!({"url": format!("{base}/hook"), "headers": {"Authorization": "Bearer ${SECRET}"}}),
            Some("hook"),
        ),
        integration(
            "quiet",
            IntegrationKind::Webhook,
            Severity::Critical,
            json!({"url": format!("{base}/never")}),
            None,
        ),
    ] {
        s.integrations.put_integration(&i).await.unwrap();
    }
    let mut rule = root_rule();
    rule.severity = Severity::High;
    let mut alert = run_rule(s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    assert_eq!(route_alert(s, &rule, &mut alert).await.unwrap(), 4, "critical-only integration filtered out");
    let verdicts = drain(&w).await;
    assert_eq!(verdicts, vec![Verdict::Delivered; 4]);
    let seen = fake.seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
    for p in ["/slack", "/pagerduty", "/rest/api/3/issue", "/hook"] {
        assert!(paths.contains(&p), "{paths:?}");
    }
    let (_, headers, pd) = seen.iter().find(|(p, _, _)| p == "/pagerduty").unwrap();
    assert_eq!(pd["payload"]["severity"], "error");
    assert!(pd["dedup_key"].as_str().unwrap().starts_with("acme-"));
    assert!(headers.get("authorization").is_none());
    let (_, _, jira) = seen.iter().find(|(p, _, _)| p == "/rest/api/3/issue").unwrap();
    assert_eq!(jira["fields"]["priority"]["name"], "High");
    assert!(jira["fields"]["labels"].as_array().unwrap().contains(&json!("aws-root")));
    let (_, hook_headers, _) = seen.iter().find(|(p, _, _)| p == "/hook").unwrap();
    assert_eq!(hook_headers["authorization"], "Bearer s3cr3t");
    let stored = s.alerts.get_alert(USER, &alert.id).await.unwrap().unwrap();
    let delivered = stored.attempts.iter().filter(|a| a.status == DeliveryStatus::Delivered).count();
    assert_eq!(delivered, 4);
    assert!(stored.attempts.iter().all(|a| a.error.as_deref().is_none_or(|e| !e.contains("s3cr3t"))));
}

#[tokio::test]
async fn slack_escapes_log_text_and_mentions_on_critical() {
    let w = world().await;
    let (base, fake) = fake_server().await;
    w.s.secrets.put_secret("slack", &format!("{base}/slack")).await.unwrap();
    w.s.integrations
        .put_integration(&integration(
            "slack",
            IntegrationKind::Slack,
            Severity::Info,
            json!({}),
            Some("slack"),
        ))
        .await
        .unwrap();
    let mut rule = root_rule();
    rule.query = "SELECT '<!everyone> & <https://evil|click>' AS useragent".into();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    route_alert(&w.s, &rule, &mut alert).await.unwrap();
    drain(&w).await;
    let body = fake.seen.lock().unwrap()[0].2.to_string();
    assert!(
        !body.contains("<!everyone>") && body.contains("&lt;!everyone&gt; &amp; &lt;https://evil|click&gt;"),
        "{body}"
    );
    assert!(body.contains("<!channel>"), "critical alerts mention the channel");
}

async fn failing_world(mode: Mode) -> (World, Fake, String) {
    let w = world().await;
    let (base, fake) = fake_server().await;
    *fake.mode.lock().unwrap() = mode;
    w.s.integrations
        .put_integration(&integration(
            "hook",
            IntegrationKind::Webhook,
            Severity::Info,
            json!({"url": format!("{base}/hook"), "timeout_secs": 1}),
            None,
        ))
        .await
        .unwrap();
    let rule = root_rule();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    route_alert(&w.s, &rule, &mut alert).await.unwrap();
    (w, fake, alert.id)
}

#[tokio::test]
async fn server_errors_back_off_then_dead_letter_and_redrive_delivers() {
    let (w, fake, alert_id) = failing_world(Mode::Fail500).await;
    assert_eq!(drain(&w).await, vec![Verdict::Retry { after_secs: 5 }]);
    w.clock.advance(Duration::seconds(4));
    assert!(drain(&w).await.is_empty(), "still backing off");
    w.clock.advance(Duration::seconds(1));
    assert_eq!(drain(&w).await, vec![Verdict::Retry { after_secs: 10 }]);
    w.clock.advance(Duration::seconds(10));
    assert_eq!(drain(&w).await, vec![Verdict::DeadLettered]);
    let dlq = w.s.queue.dead_letters(USER).await.unwrap();
    assert_eq!(dlq.len(), 1);
    assert!(dlq[0].last_error.as_deref().unwrap().contains("HTTP 500"));
    let alert = w.s.alerts.get_alert(USER, &alert_id).await.unwrap().unwrap();
    let statuses: Vec<(u32, DeliveryStatus, Option<u16>)> =
        alert.attempts.iter().map(|a| (a.attempt, a.status, a.http_status)).collect();
    assert_eq!(
        statuses,
        vec![
            (0, DeliveryStatus::Pending, None),
            (1, DeliveryStatus::Retrying, Some(500)),
            (2, DeliveryStatus::Retrying, Some(500)),
            (3, DeliveryStatus::DeadLettered, Some(500)),
        ]
    );
    // The service recovers; a redrive delivers the same alert (a retry is never suppressed).
    *fake.mode.lock().unwrap() = Mode::Ok;
    w.s.queue.redrive(USER, &[dlq[0].message_id.clone()]).await.unwrap();
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let (w, _fake, _) = failing_world(Mode::RateLimited).await;
    assert_eq!(drain(&w).await, vec![Verdict::Retry { after_secs: 42 }]);
}

#[tokio::test]
async fn hanging_server_times_out_and_retries() {
    let (w, _fake, alert_id) = failing_world(Mode::Hang).await;
    assert_eq!(drain(&w).await, vec![Verdict::Retry { after_secs: 5 }]);
    let alert = w.s.alerts.get_alert(USER, &alert_id).await.unwrap().unwrap();
    assert!(alert.attempts.last().unwrap().error.as_deref().unwrap().contains("timed out"));
}

#[tokio::test]
async fn connection_refused_is_a_retry() {
    let w = world().await;
    for i in workspace::demo_integrations(USER, w._dir.path()) {
        w.s.integrations.put_integration(&i).await.unwrap();
    }
    let rule = root_rule();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    route_alert(&w.s, &rule, &mut alert).await.unwrap();
    let mut v = drain(&w).await;
    v.sort_by_key(|x| format!("{x:?}"));
    assert_eq!(v, vec![Verdict::Delivered, Verdict::Retry { after_secs: 5 }]);
    let file = std::fs::read_to_string(w._dir.path().join("alerts.jsonl")).unwrap();
    assert!(file.contains(&alert.id));
}

// --- The four dedup defects of the seed design, each shown fixed. ---

async fn two_integrations(w: &World) {
    for id in ["file-a", "file-b"] {
        let path = w._dir.path().join(format!("{id}.jsonl"));
        w.s.integrations
            .put_integration(&integration(
                id,
                IntegrationKind::File,
                Severity::Info,
                json!({"path": path}),
                None,
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn dedup_a_second_integration_is_not_suppressed_by_the_first() {
    let w = world().await;
    two_integrations(&w).await;
    let rule = root_rule();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    route_alert(&w.s, &rule, &mut alert).await.unwrap();
    // The seed's key (rule|severity|summary) is the same for both: it suppressed file-b.
    assert_eq!(drain(&w).await, vec![Verdict::Delivered, Verdict::Delivered]);
}

#[tokio::test]
async fn dedup_b_concurrent_workers_deliver_a_duplicate_once() {
    let w = world().await;
    two_integrations(&w).await;
    let rule = root_rule();
    // Two different alerts with the same dedup key, in flight at once on two workers.
    let mut a = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    let only_a = Rule { destinations: vec!["file-a".into()], ..rule.clone() };
    route_alert(&w.s, &only_a, &mut a).await.unwrap();
    let (w1, w2) = (DeliveryWorker::new(w.s.clone()), DeliveryWorker::new(w.s.clone()));
    let m1 = w.s.queue.receive(1, 60).await.unwrap().remove(0);
    let mut twin = m1.clone();
    let mut body: Value = serde_json::from_str(&m1.body).unwrap();
    body["alert"]["id"] = json!("other-alert");
    twin.body = body.to_string();
    let (r1, r2) = tokio::join!(w1.process(m1), w2.process(twin));
    let mut v = vec![r1.unwrap(), r2.unwrap()];
    v.sort_by_key(|x| format!("{x:?}"));
    // The seed's check-then-put let both through; the atomic insert lets one.
    assert_eq!(v, vec![Verdict::Delivered, Verdict::Suppressed]);
}

#[tokio::test]
async fn dedup_c_a_retry_of_the_same_alert_is_never_suppressed() {
    let (w, fake, _) = failing_world(Mode::Fail500).await;
    assert_eq!(drain(&w).await, vec![Verdict::Retry { after_secs: 5 }]);
    *fake.mode.lock().unwrap() = Mode::Ok;
    w.clock.advance(Duration::seconds(5));
    // The seed wrote the key before sending, so the retry found it and suppressed itself.
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
}

/// A root event from the attacker's address at `at`, landed in the lake as a trail file.
fn land_root_event(w: &World, at: chrono::DateTime<Utc>) {
    let record = json!({
        "eventVersion": "1.09", "eventTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "awsRegion": "us-east-1",
        "sourceIPAddress": "45.155.205.233", "eventType": "AwsApiCall",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
    });
    let body = serde_json::to_vec(&json!({"Records": [record]})).unwrap();
    let name = format!("root-{}.json", at.timestamp());
    ingest_bytes(&Lake::new(w._dir.path()), Table::CloudTrail, std::path::Path::new(&name), &body).unwrap();
}

/// A world whose root-account rule (dedup by address over a day: the demo's root story is
/// hours old, so new events fold into it) delivers to a file integration, the file's path.
async fn root_story_to_a_file() -> (World, std::path::PathBuf, Rule) {
    let w = world().await;
    let path = w._dir.path().join("f.jsonl");
    let file = integration("f", IntegrationKind::File, Severity::Info, json!({"path": path}), None);
    w.s.integrations.put_integration(&file).await.unwrap();
    let mut rule = root_rule();
    rule.dedup = DedupSpec { fields: vec!["sourceipaddress".into()], window_secs: 86_400 };
    w.s.rules.put_rule(USER, &rule).await.unwrap();
    (w, path, rule)
}

#[tokio::test]
async fn dedup_d_new_events_fold_into_the_open_alert_and_notify_as_the_rule_says() {
    let (w, path, mut rule) = root_story_to_a_file().await;
    let first = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
    let id = first.alert_ids[0].clone();

    // The same address again in the next window: the open alert grows, nobody is paged again.
    land_root_event(&w, w.clock.now() + Duration::minutes(2));
    w.clock.advance(Duration::minutes(5));
    let second = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(second.alert_ids, vec![id.clone()], "folded into the open alert");
    assert_eq!(drain(&w).await, vec![], "notify: first sends nothing more");
    let a = w.s.alerts.get_alert(USER, &id).await.unwrap().unwrap();
    assert_eq!((a.event_count, a.summary.as_str()), (5, "5 matches for Root account used"));
    assert_eq!(a.window_end, w.clock.now() - Duration::minutes(3), "last seen is the new event");
    assert_eq!(a.history.len(), 2, "{:?}", a.history);

    // `notify: every 1`: the next event is sent again, as a notice of its own.
    rule.notify = mantissa_backend::model::Notify::Every(1);
    w.s.rules.put_rule(USER, &rule).await.unwrap();
    land_root_event(&w, w.clock.now() + Duration::minutes(1));
    w.clock.advance(Duration::minutes(5));
    assert_eq!(fire(&w.s, USER, &rule, w.clock.now()).await.alert_ids, vec![id.clone()]);
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
    let a = w.s.alerts.get_alert(USER, &id).await.unwrap().unwrap();
    assert_eq!((a.event_count, a.notified_count), (6, 6));

    // Resolved, then the address comes back: a new alert, delivered although the first one's
    // dedup key is still live (a closed alert does not hold it).
    let mut resolved = a.clone();
    resolved.status = mantissa_backend::model::AlertStatus::Resolved;
    w.s.alerts.put_alert(&resolved).await.unwrap();
    land_root_event(&w, w.clock.now() + Duration::minutes(1));
    w.clock.advance(Duration::minutes(5));
    let again = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(again.alert_ids.len(), 1);
    assert_ne!(again.alert_ids[0], id, "a new alert for the new incident");
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(lines, 3, "first alert, its re-notice, the new alert");
}

#[tokio::test]
async fn routing_commands_resolve_or_list_choices() {
    let list = vec![
        integration("slack-soc", IntegrationKind::Slack, Severity::Info, json!({}), None),
        integration("jira-sec", IntegrationKind::Jira, Severity::Info, json!({}), None),
        integration("pd-oncall", IntegrationKind::PagerDuty, Severity::Info, json!({}), None),
        integration("hook-a", IntegrationKind::Webhook, Severity::Info, json!({}), None),
        integration("hook-b", IntegrationKind::Webhook, Severity::Info, json!({}), None),
    ];
    let ids = |cmd: &str| resolve_route(cmd, &list).unwrap().into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids("send to slack"), vec!["slack-soc"]);
    assert_eq!(ids("create a jira ticket"), vec!["jira-sec"]);
    assert_eq!(ids("page the on-call"), vec!["pd-oncall"]);
    assert_eq!(ids("send to hook-b"), vec!["hook-b"]);
    let e = resolve_route("send to teams", &list).unwrap_err().to_string();
    assert!(e.contains("matches no integration") && e.contains("slack-soc (slack)"), "{e}");
    let e = resolve_route("post to the webhook", &list).unwrap_err().to_string();
    assert!(e.contains("several") && e.contains("hook-a") && e.contains("hook-b"), "{e}");
}

#[tokio::test]
async fn scheduler_fires_due_rules_once_and_catches_up_once() {
    let w = world().await;
    let mut rule = root_rule();
    rule.schedule = Schedule::parse("rate(5 minutes)").unwrap();
    w.s.rules.put_rule(USER, &rule).await.unwrap();
    let mut sched = SchedulerRunner::new(w.s.clone(), USER);
    let t0 = w.clock.now();
    // Never run: due at once.
    let fired = sched.tick(t0).await.unwrap();
    assert_eq!(fired.len(), 1);
    for h in fired {
        assert_eq!(h.await.unwrap().alert_ids.len(), 1);
    }
    assert!(sched.tick(t0 + Duration::minutes(1)).await.unwrap().is_empty());
    assert_eq!(sched.tick(t0 + Duration::minutes(5)).await.unwrap().len(), 1);
    // Two hours of downtime: one catch-up run, not 24.
    let mut later = SchedulerRunner::new(w.s.clone(), USER);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let back = t0 + Duration::hours(2);
    let runs = later.tick(back).await.unwrap();
    assert_eq!(runs.len(), 1);
    // While that run is in flight, another tick does not start a second one.
    let again = later.tick(back + Duration::minutes(5)).await.unwrap();
    let overlapped = again.len();
    for h in runs.into_iter().chain(again) {
        h.await.unwrap();
    }
    assert!(overlapped <= 1);
    let stored = w.s.rules.get_rule(USER, &rule.id).await.unwrap().unwrap();
    assert!(stored.executions >= 3);
    assert_eq!(stored.detected_until, Some(back), "the catch-up run's window reaches its fire time");
    let alerts = w.s.alerts.list_alerts(USER, &AlertQuery::default()).await.unwrap();
    assert_eq!(alerts.len(), 1, "one incident, one alert, however many runs: {alerts:#?}");
}

#[tokio::test]
async fn email_goes_out_over_smtp() {
    let (addr, mail) = smtp_server().await;
    let w = world().await;
    w.s.integrations
        .put_integration(&integration(
            "mail",
            IntegrationKind::Email,
            Severity::Info,
            json!({"host": "127.0.0.1", "port": addr.port(), "tls": "none", "from": "soc@example.com", "to": ["oncall@example.com"], "max_rows": 2}),
            None,
        ))
        .await
        .unwrap();
    let rule = root_rule();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    route_alert(&w.s, &rule, &mut alert).await.unwrap();
    assert_eq!(drain(&w).await, vec![Verdict::Delivered]);
    let data = mail.lock().unwrap().clone();
    assert!(data.contains("RCPT TO:<oncall@example.com>"), "{data}");
    assert!(data.contains("Subject: [CRITICAL] 4 matches for Root account used"), "{data}");
    // The body is quoted-printable: undo its soft line breaks before counting the rows.
    let body = data.replace("=\r\n", "").replace("=\n", "");
    assert_eq!(body.matches("45.155.205.233").count(), 2, "two rows, as max_rows says: {data}");
}

/// Just enough SMTP to accept one message and keep the transcript.
async fn smtp_server() -> (std::net::SocketAddr, Arc<Mutex<String>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let out = log.clone();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut wr) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        wr.write_all(b"220 localhost ESMTP test\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            log.lock().unwrap().push_str(&format!("{line}\n"));
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else if line.starts_with("EHLO") || line.starts_with("HELO") {
                b"250-localhost\r\n250 8BITMIME\r\n"
            } else if line.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else if line.starts_with("QUIT") {
                wr.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            wr.write_all(reply).await.unwrap();
        }
    });
    (addr, out)
}

#[tokio::test]
async fn health_reflects_attempts() {
    let (w, _fake, _) = failing_world(Mode::Fail500).await;
    drain(&w).await;
    let h = mantissa_backend::deliver::health::refresh(&w.s, USER).await.unwrap();
    let hook = h.iter().find(|h| h.integration_id == "hook").unwrap();
    assert_eq!((hook.attempts, hook.delivered), (1, 0));
    assert_eq!(hook.state, mantissa_backend::model::HealthState::Unhealthy);
    assert!(hook.last_error.as_deref().unwrap().contains("HTTP 500"));
}

#[tokio::test]
async fn no_integrations_still_records_the_alert() {
    let w = world().await;
    let rule = root_rule();
    let mut alert = run_rule(&w.s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    assert_eq!(route_alert(&w.s, &rule, &mut alert).await.unwrap(), 0);
    assert!(w.s.alerts.get_alert(USER, &alert.id).await.unwrap().is_some());
    assert!(w.s.alerts.get_alert("someone-else", &alert.id).await.unwrap().is_none());
}

#[tokio::test]
async fn every_starter_pack_rule_fires_on_its_demo_story() {
    let dir = TempDir::new().unwrap();
    let end = Utc::now().duration_trunc_hour();
    write_demo(&Lake::new(dir.path()), &DemoOptions { days: 3, seed: 42, scale: 0.2, end }).unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    s.settings.put_setting(USER, LATENESS_SETTING, &json!(0)).await.unwrap();
    let rules = workspace::starter_rules();
    assert!(rules.len() >= 25, "the pack has {} rules", rules.len());
    let mut silent = vec![];
    for rule in &rules {
        let outcome = run_rule(&s, USER, rule, Utc::now()).await.unwrap();
        assert_eq!(outcome.error, None, "{}", rule.id);
        if outcome.alerts.is_empty() {
            silent.push(rule.id.clone());
        }
    }
    assert!(silent.is_empty(), "no alert on the demo data from: {silent:?}");
}

#[tokio::test]
async fn setup_checks_stores_the_secret_by_name_tests_and_lists_jira_projects() {
    use mantissa_backend::deliver::{setup, test_send};
    let w = world().await;
    let (base, fake) = fake_server().await;
    let s = &w.s;
    let mut jira = integration(
        "jira-sec",
        IntegrationKind::Jira,
        Severity::High,
        json!({"base_url": base, "email": "soc@example.com"}),
        None,
    );
    // Projects come from the typed credentials, before anything is saved.
    let projects = setup::jira_projects(s, &jira, Some("jira-token")).await.unwrap();
    assert_eq!(projects[0], ("SEC".to_string(), "Security Operations".to_string()));
    assert_eq!(projects.len(), 2);
    let denied = setup::jira_projects(s, &jira, Some("wrong")).await.unwrap_err().to_string();
    assert!(denied.contains("HTTP 401") && !denied.contains("wrong"), "{denied}");

    let missing = setup::save(s, jira.clone(), Some("jira-token")).await.unwrap_err().to_string();
    assert!(missing.contains("`project_key` is required"), "{missing}");
    jira.config["project_key"] = json!("SEC");
    let no_secret = setup::save(s, jira.clone(), None).await.unwrap_err().to_string();
    assert!(no_secret.contains("API token is required"), "{no_secret}");

    // Tested before saving with the typed token, then saved: the secret goes to the store
    // under the integration's name and only that name is in the integration.
    assert_eq!(test_send::test_setup(s, &jira, Some("jira-token")).await.unwrap(), Some(201));
    let saved = setup::save(s, jira, Some("jira-token")).await.unwrap();
    let name = setup::secret_name(USER, "jira-sec");
    assert_eq!(saved.secret_ref.as_deref(), Some(name.as_str()));
    assert_eq!(s.secrets.get_secret(&name).await.unwrap().as_deref(), Some("jira-token"));
    let stored = s.integrations.get_integration(USER, "jira-sec").await.unwrap().unwrap();
    assert!(!serde_json::to_string(&stored).unwrap().contains("jira-token"));
    // Later test sends and edits without a new secret use the stored one.
    assert_eq!(test_send::test_send(s, USER, "jira-sec").await.unwrap(), Some(201));
    setup::save(s, stored.clone(), None).await.unwrap();
    assert_eq!(fake.seen.lock().unwrap().iter().filter(|(p, ..)| p == "/rest/api/3/issue").count(), 2);

    // A malformed secret is refused without being repeated.
    let slack = integration("slack", IntegrationKind::Slack, Severity::Info, json!({}), None);
    let e = setup::save(s, slack.clone(), Some("xoxb-not-a-url")).await.unwrap_err().to_string();
    assert!(e.contains("incoming webhook URL") && !e.contains("xoxb"), "{e}");
    let saved = setup::save(s, slack, Some(&format!("{base}/slack"))).await.unwrap();
    assert_eq!(test_send::test_send(s, USER, &saved.id).await.unwrap(), Some(200));
}

#[tokio::test]
async fn an_analyst_routes_a_stored_alert_past_severity_filters_and_again() {
    let w = world().await;
    let (base, fake) = fake_server().await;
    let s = &w.s;
    s.secrets.put_secret("slack", &format!("{base}/slack")).await.unwrap();
    let slack = integration("slack", IntegrationKind::Slack, Severity::Critical, json!({}), Some("slack"));
    s.integrations.put_integration(&slack).await.unwrap();
    let mut rule = root_rule();
    rule.severity = Severity::High;
    let mut alert = run_rule(s, USER, &rule, w.clock.now()).await.unwrap().alerts.remove(0);
    assert_eq!(route_alert(s, &rule, &mut alert).await.unwrap(), 0, "below slack's filter");

    let targets = resolve_route("send to slack", std::slice::from_ref(&slack)).unwrap();
    for n in 1..=2 {
        let mut stored = s.alerts.get_alert(USER, &alert.id).await.unwrap().unwrap();
        assert_eq!(route_to(s, Some(&rule), &mut stored, &targets).await.unwrap(), 1);
        assert_eq!(drain(&w).await, vec![Verdict::Delivered], "routing #{n} is delivered, not deduplicated");
        let slack_posts = fake.seen.lock().unwrap().iter().filter(|(p, ..)| p == "/slack").count();
        assert_eq!(slack_posts, n);
    }
    let stored = s.alerts.get_alert(USER, &alert.id).await.unwrap().unwrap();
    let delivered = stored.attempts.iter().filter(|a| a.status == DeliveryStatus::Delivered).count();
    assert_eq!(delivered, 2, "{:?}", stored.attempts);
}

/// A suppression by the intruder's address holds the rule's alert back (stored, shown as
/// suppressed with who and why, nothing delivered) until it expires while the rule keeps
/// running on the clock; the next incident after expiry is delivered. A snooze holds every
/// alert of its rule, and a lifted one holds nothing.
#[tokio::test]
async fn a_suppression_holds_alerts_back_until_it_expires() {
    use mantissa_backend::detect::suppressions;
    use mantissa_backend::model::suppression::{Scope, Suppression};
    let (w, _, rule) = root_story_to_a_file().await;
    let now = w.clock.now();
    let by_ip = Suppression {
        id: "s-ip".into(),
        rule_id: "*".into(),
        scope: Scope::Match { field: "sourceipaddress".into(), values: vec!["45.155.205.233".into()] },
        reason: "the red team's exercise".into(),
        who: "alice".into(),
        created_at: now,
        from: None,
        until: now + Duration::minutes(12),
    };
    suppressions::add(&w.s, USER, by_ip).await.unwrap();
    let first = fire(&w.s, USER, &rule, now).await;
    assert_eq!(first.alert_ids.len(), 1, "{:?}", first.error);
    assert_eq!(drain(&w).await, vec![], "held back: nothing is delivered");
    let held = w.s.alerts.get_alert(USER, &first.alert_ids[0]).await.unwrap().unwrap();
    let by = held.suppressed.clone().expect("stored as suppressed");
    assert_eq!((by.who.as_str(), by.reason.as_str()), ("alice", "the red team's exercise"));
    assert!(held.attempts.is_empty());
    // The rule runs on; a new event from the same address 5 minutes on is still held.
    land_root_event(&w, now + Duration::minutes(2));
    w.clock.advance(Duration::minutes(5));
    let second = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(second.alert_ids, first.alert_ids, "folded into the held alert");
    assert_eq!(drain(&w).await, vec![]);
    // The suppression expires at +12 min; the incident is closed and the address comes back.
    let mut closed = w.s.alerts.get_alert(USER, &first.alert_ids[0]).await.unwrap().unwrap();
    closed.status = mantissa_backend::model::AlertStatus::Resolved;
    w.s.alerts.put_alert(&closed).await.unwrap();
    w.clock.advance(Duration::minutes(10));
    land_root_event(&w, w.clock.now() - Duration::minutes(2));
    let after = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(after.alert_ids.len(), 1);
    assert_ne!(after.alert_ids[0], first.alert_ids[0]);
    let fresh = w.s.alerts.get_alert(USER, &after.alert_ids[0]).await.unwrap().unwrap();
    assert_eq!(fresh.suppressed, None, "{:?} at {}", fresh.suppressed, w.clock.now());
    assert_eq!(drain(&w).await, vec![Verdict::Delivered], "expired: delivered again: {:?}", fresh.attempts);
    let listed = suppressions::list(&w.s, USER).await.unwrap();
    assert!(!listed[0].is_live(w.clock.now()), "still listed, as expired");

    // A snooze of the rule holds any address; lifted, it holds nothing.
    let snooze = Suppression {
        id: "s-snooze".into(),
        rule_id: rule.id.clone(),
        scope: Scope::Snooze,
        reason: "noisy during the migration".into(),
        who: "bob".into(),
        created_at: w.clock.now(),
        from: None,
        until: w.clock.now() + Duration::hours(2),
    };
    suppressions::add(&w.s, USER, snooze).await.unwrap();
    let mut closed = w.s.alerts.get_alert(USER, &after.alert_ids[0]).await.unwrap().unwrap();
    closed.status = mantissa_backend::model::AlertStatus::Resolved;
    w.s.alerts.put_alert(&closed).await.unwrap();
    land_root_event(&w, w.clock.now() + Duration::minutes(1));
    w.clock.advance(Duration::minutes(5));
    let snoozed = fire(&w.s, USER, &rule, w.clock.now()).await;
    assert_eq!(drain(&w).await, vec![]);
    let a = w.s.alerts.get_alert(USER, &snoozed.alert_ids[0]).await.unwrap().unwrap();
    assert_eq!(a.suppressed.unwrap().what, format!("snooze of {}", rule.id));
    assert!(suppressions::lift(&w.s, USER, "s-snooze").await.unwrap());
    assert!(!suppressions::lift(&w.s, USER, "s-snooze").await.unwrap(), "already lifted");
}

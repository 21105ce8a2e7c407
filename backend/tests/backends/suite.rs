//! The port contracts, written once and run on both backends: the embedded one (SQLite) and
//! AWS (DynamoDB, SQS, Secrets Manager, EventBridge on moto).

use chrono::{Duration, Utc};
use mantissa_backend::model::{
    Alert, AlertStatus, DeliveryAttempt, DeliveryStatus, Integration, IntegrationKind, Rule, Severity,
};
use mantissa_backend::ports::ScheduledRule;
use mantissa_backend::services::Services;

pub use super::alerts::alert_history_filters_newest_first_and_keeps_attempts;
pub use super::cases::cases_are_scoped_versioned_logged_and_close_their_alerts;
pub use super::dlq::{
    dead_letters_are_scoped_to_their_user_exactly, dead_letters_from_history_list_redrive_and_discard,
};
use super::dlq::{msg, text_of};

pub fn alert(user: &str, rule: &str, sev: Severity, mins_ago: i64) -> Alert {
    let t = Utc::now() - Duration::minutes(mins_ago);
    Alert {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.into(),
        rule_id: rule.into(),
        rule_name: format!("Rule {rule}"),
        severity: sev,
        summary: format!("3 matches for Rule {rule}"),
        description: "what happened".into(),
        result_count: 3,
        query: "SELECT 1".into(),
        window_start: t - Duration::minutes(5),
        window_end: t,
        sample_rows: vec![
            serde_json::json!({"sourceipaddress": "203.0.113.9", "n": 3, "ok": true, "none": null}),
        ],
        created_at: t,
        status: AlertStatus::Open,
        assignee: None,
        classification: None,
        classification_reason: None,
        suppressed: None,
        notes: vec![],
        attempts: vec![],
        // Non-default incident fields, so both backends are seen to keep them.
        dedup_key: "sourceipaddress=203.0.113.9".into(),
        event_count: 3,
        detected_until: Some(t),
        notified_count: 3,
        history: vec![mantissa_backend::model::AlertEvent { at: t, what: "made with 3 events".into() }],
    }
}

pub fn attempt(integration: &str, n: u32, status: DeliveryStatus) -> DeliveryAttempt {
    DeliveryAttempt {
        integration_id: integration.into(),
        attempt: n,
        at: Utc::now(),
        status,
        latency_ms: Some(12),
        http_status: Some(200),
        error: None,
        retry_in_secs: None,
    }
}

pub fn integration(user: &str, id: &str, kind: IntegrationKind) -> Integration {
    Integration {
        id: id.into(),
        user_id: user.into(),
        kind,
        name: format!("{id} channel"),
        enabled: true,
        min_severity: Severity::Medium,
        config: serde_json::json!({"channel": "#soc", "url_host": "hooks.example.com"}),
        secret_ref: Some(format!("mantissa-log/users/{user}/integrations/{id}")),
        created_at: Utc::now(),
    }
}

pub async fn rules_crud_is_scoped_by_user(s: &Services) {
    let mut r1 = Rule::new("r1", "Root use", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
    r1.tags = vec!["attack.t1078".into()];
    r1.threshold = mantissa_backend::model::Threshold::count(4);
    let r2 =
        Rule::new("r2", "Stop logging", "SELECT 2", Severity::Critical, "cron(0 9 * * ? *)".parse().unwrap());
    s.rules.put_rule("alice", &r1).await.unwrap();
    s.rules.put_rule("alice", &r2).await.unwrap();
    s.rules.put_rule("bob", &r2).await.unwrap();
    let alice = s.rules.list_rules("alice").await.unwrap();
    assert_eq!(alice.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r1", "r2"]);
    let back = s.rules.get_rule("alice", "r1").await.unwrap().unwrap();
    assert_eq!(back.threshold, r1.threshold);
    assert_eq!(back.tags, r1.tags);
    assert_eq!(back.schedule, r1.schedule);
    assert!(back.enabled);
    // An update (disable + a run recorded) reads back.
    let mut r1b = back.clone();
    r1b.enabled = false;
    r1b.record_run(Utc::now(), 120.0, 5 << 20, mantissa_backend::model::RunStatus::Success, true);
    s.rules.put_rule("alice", &r1b).await.unwrap();
    let back = s.rules.get_rule("alice", "r1").await.unwrap().unwrap();
    assert_eq!((back.enabled, back.executions, back.alert_count, back.data_scanned_mb), (false, 1, 1, 5.0));
    // Bob sees only his, and deleting his copy leaves Alice's.
    assert_eq!(s.rules.list_rules("bob").await.unwrap().len(), 1);
    assert!(s.rules.get_rule("bob", "r1").await.unwrap().is_none());
    s.rules.delete_rule("bob", "r2").await.unwrap();
    assert!(s.rules.get_rule("alice", "r2").await.unwrap().is_some());
    assert!(s.rules.list_rules("bob").await.unwrap().is_empty());
}

pub async fn integrations_crud_is_scoped_by_user(s: &Services) {
    let slack = integration("alice", "slack-1", IntegrationKind::Slack);
    let hook = integration("alice", "hook-1", IntegrationKind::Webhook);
    s.integrations.put_integration(&slack).await.unwrap();
    s.integrations.put_integration(&hook).await.unwrap();
    s.integrations.put_integration(&integration("bob", "slack-1", IntegrationKind::Slack)).await.unwrap();
    let list = s.integrations.list_integrations("alice").await.unwrap();
    assert_eq!(list.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["hook-1", "slack-1"]);
    let back = s.integrations.get_integration("alice", "slack-1").await.unwrap().unwrap();
    assert_eq!(
        (back.kind, back.config.clone(), back.secret_ref.clone()),
        (slack.kind, slack.config.clone(), slack.secret_ref.clone())
    );
    s.integrations.delete_integration("alice", "slack-1").await.unwrap();
    assert!(s.integrations.get_integration("alice", "slack-1").await.unwrap().is_none());
    assert!(s.integrations.get_integration("bob", "slack-1").await.unwrap().is_some());
}

pub async fn dedup_claims_are_atomic_and_expire(s: &Services) {
    let key = format!("k-{}", uuid::Uuid::new_v4());
    let until = Utc::now() + Duration::minutes(5);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let dedup = s.dedup.clone();
            let key = key.clone();
            tokio::spawn(
                async move { dedup.insert_if_absent(&key, &format!("alert-{i}"), until).await.unwrap() },
            )
        })
        .collect();
    let wins: Vec<bool> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "exactly one of the concurrent claims wins: {wins:?}");
    let winner = format!("alert-{}", wins.iter().position(|w| *w).unwrap());
    assert_eq!(s.dedup.get(&key).await.unwrap(), Some(winner.clone()));
    let claims =
        [(key.clone(), "other".to_string(), until), ("fresh".to_string() + &key, "x".to_string(), until)];
    assert_eq!(s.dedup.claim_many(&claims).await.unwrap(), [Some(winner), None]);
    // An expired entry neither answers nor blocks a new claim.
    let old = format!("old-{key}");
    assert!(s.dedup.insert_if_absent(&old, "a", Utc::now() - Duration::seconds(5)).await.unwrap());
    assert_eq!(s.dedup.get(&old).await.unwrap(), None);
    assert!(s.dedup.insert_if_absent(&old, "b", until).await.unwrap());
}

pub async fn settings_round_trip(s: &Services) {
    assert_eq!(s.settings.get_setting("alice", "theme").await.unwrap(), None);
    s.settings.put_setting("alice", "theme", &serde_json::json!("solarized-dark")).await.unwrap();
    let cols = serde_json::json!({"alerts": ["severity", "rule"], "width": 3});
    s.settings.put_setting("alice", "columns", &cols).await.unwrap();
    s.settings.put_setting("alice", "theme", &serde_json::json!("light")).await.unwrap();
    assert_eq!(s.settings.get_setting("alice", "theme").await.unwrap(), Some(serde_json::json!("light")));
    assert_eq!(s.settings.get_setting("alice", "columns").await.unwrap(), Some(cols));
    assert_eq!(s.settings.get_setting("bob", "theme").await.unwrap(), None);
}

/// The user's settings through the settings service: checked values, UI preferences in one
/// map, the assistant's key in the secret store under the user's own name, and nothing of one
/// user's settings or key visible to another.
pub async fn user_settings_and_keys_are_per_user(s: &Services) {
    use mantissa_backend::settings;
    settings::set(s, "alice", "llm_provider", "openai").await.unwrap();
    settings::set(s, "alice", "llm_api_key", "sk-alice-0000").await.unwrap();
    settings::set(s, "alice", "theme", "light").await.unwrap();
    settings::set(s, "alice", "items_per_page", "25").await.unwrap();
    settings::set(s, "bob", "llm_provider", "google").await.unwrap();
    let err = settings::set(s, "bob", "default_time_range", "90d").await.unwrap_err().to_string();
    assert!(err.contains("24h|7d|30d"), "{err}");
    let alice = settings::load(s, "alice").await.unwrap();
    let bob = settings::load(s, "bob").await.unwrap();
    assert_eq!(alice.ui.theme.as_deref(), Some("light"));
    assert_eq!(alice.ui.items_per_page, 25);
    assert_eq!(bob.ui.theme, None);
    let (a, b) = (alice.llm.unwrap(), bob.llm.unwrap());
    assert_eq!(settings::api_key(s, &a).await.unwrap().as_deref(), Some("sk-alice-0000"));
    assert_eq!(b.api_key_secret_id, None);
    assert_eq!(settings::api_key(s, &b).await.unwrap(), None);
    assert!(a.api_key_secret_id.unwrap().contains("/users/alice/"));
    // The stored item holds the secret's id, never the key.
    let stored = serde_json::to_string(&s.settings.all_settings("alice").await.unwrap()).unwrap();
    assert!(!stored.contains("sk-alice"), "{stored}");
    assert!(stored.contains("ui_preferences"), "{stored}");
}

/// FIFO order within a group, a retry that hides the message, the DLQ after three receives,
/// redrive back to the queue, delete and purge.
pub async fn queue_fifo_dlq_and_redrive(s: &Services) {
    let q = &s.queue;
    for i in 0..3 {
        q.send("alice:slack", &format!("d{i}"), &msg("alice", &format!("g1-m{i}"))).await.unwrap();
    }
    // A repeated deduplication id within five minutes is dropped.
    q.send("alice:slack", "d0", &msg("alice", "g1-m0 again")).await.unwrap();
    // Within a group, in send order: take one, delete it, take the next.
    let mut g1 = vec![];
    for _ in 0..10 {
        let got = q.receive(10, 30).await.unwrap();
        for m in got {
            if m.group_id == "alice:slack" {
                g1.push(text_of(&m.body));
                q.delete(&m.receipt).await.unwrap();
            } else {
                q.retry_later(&m.receipt, 0, "not now").await.unwrap();
            }
        }
        if g1.len() >= 3 && q.depth().await.unwrap().queued == 0 {
            break;
        }
    }
    assert_eq!(g1, ["g1-m0", "g1-m1", "g1-m2"], "in order, and the duplicate was dropped");
    q.send("alice:hook", "e0", &msg("alice", "g2-m0")).await.unwrap();
    // g2-m0 fails on every receive: after the third it goes to the DLQ.
    let mut receives = 0;
    for _ in 0..6 {
        let got = q.receive(10, 30).await.unwrap();
        assert!(got.iter().all(|m| text_of(&m.body) == "g2-m0"), "only g2 is left: {got:?}");
        let Some(m) = got.into_iter().next() else { break };
        receives += 1;
        assert_eq!(m.receive_count, receives);
        q.retry_later(&m.receipt, 0, "HTTP 500").await.unwrap();
    }
    assert_eq!(receives, 3);
    let dead = q.dead_letters("alice").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].group_id.as_str(), text_of(&dead[0].body).as_str()), ("alice:hook", "g2-m0"));
    assert_eq!(q.dead_letters("alice").await.unwrap().len(), 1, "inspecting does not consume");
    assert_eq!(q.depth().await.unwrap().dead, 1);
    // Redrive: back on the queue in its group, with a fresh receive count.
    assert_eq!(q.redrive("alice", std::slice::from_ref(&dead[0].message_id)).await.unwrap(), 1);
    assert!(q.dead_letters("alice").await.unwrap().is_empty());
    let again = q.receive(10, 30).await.unwrap();
    assert_eq!(
        again.iter().map(|m| (text_of(&m.body), m.receive_count)).collect::<Vec<_>>(),
        [("g2-m0".to_string(), 1)]
    );
    q.delete(&again[0].receipt).await.unwrap();
    // Two more dead letters: delete one by id, purge the other.
    for (i, body) in ["x", "y"].iter().enumerate() {
        q.send(&format!("bob:g{i}"), &format!("f{i}"), &msg("bob", body)).await.unwrap();
    }
    for _ in 0..4 {
        for m in q.receive(10, 30).await.unwrap() {
            q.retry_later(&m.receipt, 0, "down").await.unwrap();
        }
    }
    let dead = q.dead_letters("bob").await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    q.delete_dead_letter("bob", &dead[0].message_id).await.unwrap();
    assert_eq!(q.purge_dead_letters("bob").await.unwrap(), 1);
    assert_eq!(q.depth().await.unwrap(), Default::default());
}

pub async fn secrets_lifecycle(s: &Services) {
    let name = format!("mantissa-log/users/alice/integrations/{}", uuid::Uuid::new_v4());
    assert_eq!(s.secrets.get_secret(&name).await.unwrap(), None);
    s.secrets.put_secret(&name, r#"{"webhook_url":"https://hooks.example.com/T1"}"#).await.unwrap();
    s.secrets.put_secret(&name, r#"{"webhook_url":"https://hooks.example.com/T2"}"#).await.unwrap();
    assert_eq!(
        s.secrets.get_secret(&name).await.unwrap().as_deref(),
        Some(r#"{"webhook_url":"https://hooks.example.com/T2"}"#)
    );
    s.secrets.delete_secret(&name).await.unwrap();
    assert_eq!(s.secrets.get_secret(&name).await.unwrap(), None);
    s.secrets.delete_secret(&name).await.unwrap();
    s.secrets.put_secret(&name, "new").await.unwrap();
    assert_eq!(s.secrets.get_secret(&name).await.unwrap().as_deref(), Some("new"));
}

pub async fn schedules_lifecycle(s: &Services) {
    let entry = |rule: &str, expr: &str, enabled: bool| ScheduledRule {
        user_id: "alice".into(),
        rule_id: rule.into(),
        schedule: expr.parse().unwrap(),
        enabled,
    };
    s.scheduler.put_schedule(&entry("r1", "rate(5 minutes)", true)).await.unwrap();
    s.scheduler.put_schedule(&entry("r2", "cron(0 9 * * ? *)", true)).await.unwrap();
    s.scheduler
        .put_schedule(&ScheduledRule { user_id: "bob".into(), ..entry("r1", "rate(1 hour)", true) })
        .await
        .unwrap();
    assert_eq!(
        s.scheduler.list_schedules("alice").await.unwrap(),
        [entry("r1", "rate(5 minutes)", true), entry("r2", "cron(0 9 * * ? *)", true)]
    );
    s.scheduler.put_schedule(&entry("r1", "rate(1 minute)", false)).await.unwrap();
    s.scheduler.delete_schedule("alice", "r2").await.unwrap();
    s.scheduler.delete_schedule("alice", "r2").await.unwrap();
    assert_eq!(s.scheduler.list_schedules("alice").await.unwrap(), [entry("r1", "rate(1 minute)", false)]);
    assert_eq!(s.scheduler.list_schedules("bob").await.unwrap().len(), 1);
}

/// A loopback webhook answering `status` and counting calls.
pub async fn webhook(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let counter = counter.clone();
            async move {
                assert!(body.contains("\"rule_id\""), "{body}");
                counter.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hits)
}

/// The services end to end on the backend: an alert routed to two webhooks (one down) is
/// delivered to one, retried for the other, every attempt recorded, health computed.
pub async fn routed_alerts_are_delivered_retried_and_recorded(s: &Services) {
    use mantissa_backend::deliver::{DeliveryWorker, health};
    use mantissa_backend::model::HealthState;
    let (ok_url, ok_hits) = webhook(200).await;
    let (bad_url, _) = webhook(503).await;
    for (id, url) in [("up", &ok_url), ("down", &bad_url)] {
        let mut i = integration("alice", id, IntegrationKind::Webhook);
        i.config = serde_json::json!({ "url": url });
        i.secret_ref = None;
        s.integrations.put_integration(&i).await.unwrap();
    }
    let rule = Rule::new("r1", "Root use", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
    s.rules.put_rule("alice", &rule).await.unwrap();
    let mut a = alert("alice", "r1", Severity::High, 0);
    let sent = mantissa_backend::detect::route_alert(s, &rule, &mut a).await.unwrap();
    assert_eq!(sent, 2);
    let worker = DeliveryWorker::new(s.clone());
    let mut verdicts = vec![];
    for _ in 0..10 {
        verdicts.extend(worker.run_once(10).await.unwrap());
        if verdicts.len() >= 2 {
            break;
        }
    }
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    assert_eq!(ok_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let stored = s.alerts.get_alert("alice", &a.id).await.unwrap().unwrap();
    let mut seen: Vec<(String, DeliveryStatus)> = stored
        .attempts
        .iter()
        .filter(|t| t.status != DeliveryStatus::Pending)
        .map(|t| (t.integration_id.clone(), t.status))
        .collect();
    seen.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        seen,
        [("down".to_string(), DeliveryStatus::Retrying), ("up".into(), DeliveryStatus::Delivered)]
    );
    let mut states: Vec<(String, HealthState)> =
        health::refresh(s, "alice").await.unwrap().into_iter().map(|h| (h.integration_id, h.state)).collect();
    states.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(states, [("down".to_string(), HealthState::Unhealthy), ("up".into(), HealthState::Healthy)]);
    assert_eq!(s.queue.depth().await.unwrap().queued, 1, "the failed delivery waits for its retry");
}

/// Detection as code against the backend's stores: folder -> store and back, conflicts, deletes.
mod sync_round_trip {
    use mantissa_backend::model::Severity;
    use mantissa_backend::rules::load;
    use mantissa_backend::rules::sync::{Action, Change, SyncReport, plan, pull, push};
    use mantissa_backend::services::Services;
    use std::path::Path;

    const USER: &str = "alice";
    const TARGET: &str = "local:alice";

    fn write(dir: &Path, id: &str, severity: &str, query: &str) {
        let text = format!(
            "# kept by the analyst\nid: {id}\nname: Rule {id}\nseverity: {severity}\nschedule: rate(5 minutes)\nquery: {query}\n\
             tests:\n  - name: t\n    expect: {{alert: false}}\n    records: []\n"
        );
        std::fs::write(dir.join(format!("{id}.yml")), text).unwrap();
    }

    async fn actions(dir: &Path, s: &Services) -> Vec<(String, Action, Vec<&'static str>)> {
        let (loaded, problems) = load(&[dir.to_path_buf()]);
        assert!(problems.is_empty(), "{problems:?}");
        plan(dir, &loaded, s, USER, TARGET)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.rule_id, e.action, e.fields))
            .collect()
    }

    async fn push_now(dir: &Path, s: &Services, force: bool) -> SyncReport {
        let (loaded, _) = load(&[dir.to_path_buf()]);
        push(dir, &loaded, s, USER, TARGET, force).await.unwrap()
    }

    pub async fn rule_folder_push_pull_and_conflicts_round_trip(s: &Services) {
        let data = tempfile::TempDir::new().unwrap();
        let dir = data.path().join("rules");
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir, "a", "high", "SELECT 1");
        write(&dir, "b", "low", "SELECT 2");

        // New in the folder: created in the store, with schedules.
        assert_eq!(
            actions(&dir, s).await,
            vec![
                ("a".into(), Action::Push(Change::Create), vec![]),
                ("b".into(), Action::Push(Change::Create), vec![])
            ]
        );
        let r = push_now(&dir, s, false).await;
        assert_eq!(r.created, vec!["a", "b"]);
        assert_eq!(s.scheduler.list_schedules(USER).await.unwrap().len(), 2);
        assert!(actions(&dir, s).await.iter().all(|(_, a, _)| *a == Action::InSync));

        // Edited in the folder -> push; edited in the store -> pull, which keeps the file's tests.
        write(&dir, "a", "critical", "SELECT 1");
        let mut b = s.rules.get_rule(USER, "b").await.unwrap().unwrap();
        b.query = "SELECT 22".into();
        s.rules.put_rule(USER, &b).await.unwrap();
        assert_eq!(
            actions(&dir, s).await,
            vec![
                ("a".into(), Action::Push(Change::Update), vec!["severity"]),
                ("b".into(), Action::Pull(Change::Update), vec!["query"])
            ]
        );
        let (loaded, _) = load(&[dir.to_path_buf()]);
        let pulled = pull(&dir, &loaded, s, USER, TARGET, false).await.unwrap();
        assert_eq!(pulled.updated, vec!["b"]);
        let (loaded, _) = load(&[dir.to_path_buf()]);
        let b_file = loaded.iter().find(|l| l.rule.id == "b").unwrap();
        assert_eq!((b_file.rule.query.as_str(), b_file.file.tests.len()), ("SELECT 22", 1));
        assert_eq!(
            s.rules.get_rule(USER, "a").await.unwrap().unwrap().severity,
            Severity::High,
            "pull never pushes"
        );
        push_now(&dir, s, false).await;
        assert_eq!(s.rules.get_rule(USER, "a").await.unwrap().unwrap().severity, Severity::Critical);

        // Changed on both sides: reported, nothing overwritten, until --force.
        write(&dir, "a", "medium", "SELECT 1");
        let mut a = s.rules.get_rule(USER, "a").await.unwrap().unwrap();
        a.query = "SELECT 11".into();
        s.rules.put_rule(USER, &a).await.unwrap();
        assert_eq!(actions(&dir, s).await[0], ("a".into(), Action::Conflict, vec!["query", "severity"]));
        let r = push_now(&dir, s, false).await;
        assert_eq!(r.conflicts, vec!["a"]);
        assert_eq!(s.rules.get_rule(USER, "a").await.unwrap().unwrap().query, "SELECT 11");
        let (loaded, _) = load(&[dir.to_path_buf()]);
        assert_eq!(pull(&dir, &loaded, s, USER, TARGET, false).await.unwrap().conflicts, vec!["a"]);
        let r = push_now(&dir, s, true).await;
        assert_eq!(r.updated, vec!["a"]);
        assert_eq!(s.rules.get_rule(USER, "a").await.unwrap().unwrap().query, "SELECT 1");

        // Removed from the folder: removed from the store and its schedule with it.
        std::fs::remove_file(dir.join("a.yml")).unwrap();
        assert_eq!(actions(&dir, s).await[0].1, Action::Push(Change::Delete));
        assert_eq!(push_now(&dir, s, false).await.deleted, vec!["a"]);
        assert!(s.rules.get_rule(USER, "a").await.unwrap().is_none());
        let schedules = s.scheduler.list_schedules(USER).await.unwrap();
        assert_eq!(schedules.iter().map(|e| e.rule_id.as_str()).collect::<Vec<_>>(), vec!["b"]);
    }
}

pub use sync_round_trip::rule_folder_push_pull_and_conflicts_round_trip;

/// The activity log through the triage service: one entry per field changed per alert (a bulk
/// change logs each alert), oldest first, scoped by user, and the triage laid onto the stored
/// alert so events folded in by a run meanwhile are kept.
pub async fn triage_is_logged_per_alert_and_field_and_keeps_folded_events(s: &Services) {
    use mantissa_backend::model::{ActivityKind, AlertStatus, Classification};
    let now = chrono::Utc::now();
    let mut a1 = Alert::by_hand("act-1", "alice", now);
    a1.event_count = 3;
    let a2 = Alert::by_hand("act-2", "alice", now);
    s.alerts.put_alert(&a1).await.unwrap();
    s.alerts.put_alert(&a2).await.unwrap();
    // The console read a1 with 3 events; a run folds in 2 more before the analyst saves.
    let (mut seen1, mut seen2) = (a1.clone(), a2.clone());
    a1.event_count = 5;
    s.alerts.put_alert(&a1).await.unwrap();
    for a in [&mut seen1, &mut seen2] {
        a.status = AlertStatus::Acknowledged;
        a.assignee = Some("bob".into());
    }
    let logged = mantissa_backend::triage::save(s, "alice", "alice", &[seen1.clone(), seen2]).await.unwrap();
    assert_eq!(logged, 4, "two fields, two alerts");
    let stored = s.alerts.get_alert("alice", "act-1").await.unwrap().unwrap();
    assert_eq!((stored.status, stored.event_count), (AlertStatus::Acknowledged, 5));
    seen1.status = AlertStatus::Resolved;
    seen1.classification = Some(Classification::FalsePositive);
    seen1.classification_reason = Some("the vendor's scanner".into());
    seen1.notes.push("2026-12-01 10:00 bob: checked with the vendor".into());
    mantissa_backend::triage::save(s, "alice", "bob", &[seen1]).await.unwrap();
    let log = s.activity.activity("alice", "act-1").await.unwrap();
    let said: Vec<(ActivityKind, &str, &str)> =
        log.iter().map(|e| (e.kind, e.who.as_str(), e.detail.as_str())).collect();
    assert_eq!(
        said,
        [
            (ActivityKind::Status, "alice", "open → acknowledged"),
            (ActivityKind::Assignee, "alice", "unassigned → bob"),
            (ActivityKind::Status, "bob", "acknowledged → resolved"),
            (ActivityKind::Classification, "bob", "false positive: the vendor's scanner"),
            (ActivityKind::Note, "bob", "2026-12-01 10:00 bob: checked with the vendor"),
        ]
    );
    assert_eq!(s.activity.activity("alice", "act-2").await.unwrap().len(), 2);
    assert!(s.activity.activity("bob", "act-1").await.unwrap().is_empty(), "scoped by user");
    // An alert id that is a prefix of another does not see the other's log.
    assert!(s.activity.activity("alice", "act").await.unwrap().is_empty());
    let stored = s.alerts.get_alert("alice", "act-1").await.unwrap().unwrap();
    assert_eq!(stored.classification, Some(Classification::FalsePositive));
}

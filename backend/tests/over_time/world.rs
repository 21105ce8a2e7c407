//! The test world: a data dir on a manual clock, a loopback webhook that counts what it is
//! sent, CloudTrail files written into the lake as a trail would deliver them.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Duration, TimeZone, Utc};
use mantissa_backend::clock::{Clock, ManualClock};
use mantissa_backend::deliver::DeliveryWorker;
use mantissa_backend::detect::SchedulerRunner;
use mantissa_backend::ingest::ingest_bytes;
use mantissa_backend::local::Lake;
use mantissa_backend::model::window::LATENESS_SETTING;
use mantissa_backend::model::{DedupSpec, Integration, IntegrationKind, Rule, Severity, Table};
use mantissa_backend::services::Services;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

pub const USER: &str = "soc";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 20, 0, 0, 0).unwrap()
}

/// The loopback webhook: every alert id it was sent, in order.
#[derive(Clone, Default)]
pub struct Hook {
    pub received: Arc<Mutex<Vec<String>>>,
}

impl Hook {
    pub fn count_of(&self, alert_id: &str) -> usize {
        self.received.lock().unwrap().iter().filter(|a| *a == alert_id).count()
    }
}

async fn receive(State(hook): State<Hook>, body: String) -> StatusCode {
    let Ok(v) = serde_json::from_str::<Value>(&body) else { return StatusCode::BAD_REQUEST };
    let Some(id) = v["alert"]["id"].as_str() else { return StatusCode::BAD_REQUEST };
    hook.received.lock().unwrap().push(id.to_string());
    StatusCode::NO_CONTENT
}

pub async fn hook_server() -> (String, Hook) {
    let hook = Hook::default();
    let app = Router::new().route("/hook", post(receive)).with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), hook)
}

pub struct World {
    pub dir: TempDir,
    pub s: Services,
    pub clock: Arc<ManualClock>,
    pub lake: Lake,
    pub hook: Hook,
}

impl World {
    /// A fresh data dir at `t0()`, the webhook integration set up, lateness 15 minutes.
    pub async fn new() -> World {
        let dir = TempDir::new().unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let s = Services::local_with_clock(dir.path(), clock.clone()).await.unwrap();
        let (url, hook) = hook_server().await;
        s.integrations
            .put_integration(&Integration {
                id: "hook".into(),
                user_id: USER.into(),
                kind: IntegrationKind::Webhook,
                name: "hook".into(),
                enabled: true,
                min_severity: Severity::Info,
                config: json!({"url": url}),
                secret_ref: None,
                created_at: t0(),
            })
            .await
            .unwrap();
        s.settings.put_setting(USER, LATENESS_SETTING, &json!(900)).await.unwrap();
        let lake = Lake::new(dir.path());
        World { dir, s, clock, lake, hook }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Writes one CloudTrail delivery file (its records) into the lake.
    pub fn land(&self, name: &str, records: &[Value]) {
        let body = serde_json::to_vec(&json!({"Records": records})).unwrap();
        let report = ingest_bytes(&self.lake, Table::CloudTrail, Path::new(name), &body).unwrap();
        assert!(report.issues.is_empty(), "{:?}", report.issues);
    }

    /// One scheduler tick at the clock's time, its runs awaited, then delivery until the queue
    /// has nothing visible.
    pub async fn tick(&self, scheduler: &mut SchedulerRunner) {
        for h in scheduler.tick(self.now()).await.unwrap() {
            let fired = h.await.unwrap();
            assert!(fired.error.is_none(), "{} failed: {:?}", fired.rule_id, fired.error);
        }
        self.deliver().await;
    }

    pub async fn deliver(&self) {
        let worker = DeliveryWorker::new(self.s.clone());
        while !worker.run_once(32).await.unwrap().is_empty() {}
    }
}

/// Console sign-ins without MFA, one incident per principal within an hour.
pub fn login_rule() -> Rule {
    let mut r = Rule::new(
        "login-no-mfa",
        "Console login without MFA",
        "SELECT eventtime, coalesce(useridentity.username, useridentity.arn) AS principal, sourceipaddress
         FROM cloudtrail_logs
         WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
           AND eventtime >= {window_start_iso} AND eventtime < {window_end_iso}
           AND eventname = 'ConsoleLogin'
           AND json_extract_scalar(additionaleventdata, '$.MFAUsed') = 'No'",
        Severity::High,
        "rate(5 minutes)".parse().unwrap(),
    );
    r.dedup = DedupSpec { fields: vec!["principal".into()], window_secs: 3600 };
    r
}

/// Access keys made, one incident per principal within two hours, checked every 15 minutes.
pub fn key_rule() -> Rule {
    let mut r = Rule::new(
        "key-created",
        "Access key created",
        "SELECT eventtime, useridentity.arn AS principal
         FROM cloudtrail_logs
         WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
           AND eventtime >= {window_start_iso} AND eventtime < {window_end_iso}
           AND eventname = 'CreateAccessKey'",
        Severity::Medium,
        "rate(15 minutes)".parse().unwrap(),
    );
    r.dedup = DedupSpec { fields: vec!["principal".into()], window_secs: 7200 };
    r
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A CloudTrail record of `name` by IAM user `user` at `at`.
pub fn event(at: DateTime<Utc>, user: &str, name: &str, mfa: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": iso(at), "eventSource": "signin.amazonaws.com",
        "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{user}"),
                         "accountId": "111122223333", "userName": user},
        "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"MFAUsed": mfa},
        "eventType": "AwsConsoleSignIn",
    })
}

pub fn minutes(n: i64) -> Duration {
    Duration::minutes(n)
}

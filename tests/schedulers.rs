//! Several processes on one workspace: two `serve`s and a console. One of them runs the rules
//! (the others say they wait), each rule fires once per window, and when the one running them
//! is killed another takes over without a window missed or run twice.

#[path = "support/pty.rs"]
#[allow(dead_code)]
mod pty;
#[path = "support/workspace.rs"]
mod workspace;

use chrono::Utc;
use mantissa_backend::ingest::ingest_bytes;
use mantissa_backend::local::Lake;
use mantissa_backend::model::Table;
use mantissa_backend::model::window::LATENESS_SETTING;
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::services::Services;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

const USER: &str = "analyst";

/// A `serve` whose stderr lines are collected.
struct Serve {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start(dir: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mantissa"))
            .args(["--data-dir", dir.to_str().unwrap(), "--user", USER, "serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(vec![]));
        let (sink, stderr) = (lines.clone(), child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Serve { child, lines }
    }

    fn leads(&self) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains("scheduler: running rules"))
    }

    fn waits(&self) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains("another process runs"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn login(principal: &str) -> serde_json::Value {
    json!({
        "eventVersion": "1.09", "eventTime": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "eventType": "AwsConsoleSignIn",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::1:user/{principal}"), "userName": principal},
        "additionalEventData": {"MFAUsed": "No"}, "responseElements": {"ConsoleLogin": "Success"},
    })
}

#[test]
fn two_serves_and_a_console_fire_each_rule_once_per_window() {
    let dir = TempDir::new().unwrap();
    let sink = dir.path().join("sink.jsonl");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(async {
        let s = Services::local(dir.path()).await.unwrap();
        let mut rule = workspace::login_rule(
            "login-no-mfa",
            "Console login without MFA",
            "rate(1 minute)".parse().unwrap(),
        );
        rule.dedup.window_secs = 3600;
        // The first run starts here, not a day back: the test counts only what it lands.
        let now = chrono::DurationRound::duration_trunc(Utc::now(), chrono::Duration::seconds(1)).unwrap();
        rule.detected_until = Some(now - chrono::Duration::seconds(2));
        s.rules.put_rule(USER, &rule).await.unwrap();
        s.settings.put_setting(USER, LATENESS_SETTING, &json!(5)).await.unwrap();
        s.integrations.put_integration(&workspace::file_sink(USER, "sink", &sink)).await.unwrap();
        s
    });
    let lake = Lake::new(dir.path());
    let land = |n: usize| {
        let body = serde_json::to_vec(&json!({"Records": [login(&format!("user{n}"))]})).unwrap();
        ingest_bytes(&lake, Table::CloudTrail, Path::new(&format!("trail-{n}.json")), &body).unwrap();
    };
    land(0);
    let first = Serve::start(dir.path());
    let wait_for = |what: &dyn Fn() -> bool, secs: u64| {
        let until = Instant::now() + Duration::from_secs(secs);
        while !what() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
        what()
    };
    assert!(
        wait_for(&|| first.leads(), 20),
        "the first serve runs the rules: {:?}",
        first.lines.lock().unwrap()
    );
    let second = Serve::start(dir.path());
    assert!(wait_for(&|| second.waits(), 20), "the second waits: {:?}", second.lines.lock().unwrap());
    // The console: on the status line, it says another process runs the rules.
    let config = TempDir::new().unwrap();
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_mantissa"));
    cmd.args(["--data-dir", dir.path().to_str().unwrap(), "--user", USER]);
    cmd.env("TERM", "xterm-256color");
    cmd.env("XDG_CONFIG_HOME", config.path());
    cmd.env("HOME", config.path());
    let mut console = pty::Pty::spawn(&cmd);
    assert!(
        console.wait(&["rules run in another process"], Duration::from_secs(30)).is_some(),
        "{}",
        console.text()
    );

    // Logs land every 20 s for 70 s; then the serve running the rules is killed and logs go
    // on landing for 80 s more.
    let mut first = Some(first);
    let started = Instant::now();
    let mut n = 1;
    while started.elapsed() < Duration::from_secs(150) {
        if started.elapsed() > Duration::from_secs(70)
            && let Some(mut f) = first.take()
        {
            f.child.kill().unwrap(); // SIGKILL: the lock goes with the process
            f.child.wait().unwrap();
        }
        land(n);
        n += 1;
        std::thread::sleep(Duration::from_secs(20));
    }
    assert!(second.leads(), "the second serve took over: {:?}", second.lines.lock().unwrap());
    // Everything landed up to now is detected by the next run (5 s allowance) and delivered.
    std::thread::sleep(Duration::from_secs(75));
    console.send(":q\r");

    let alerts = rt.block_on(s.alerts.list_alerts(USER, &AlertQuery::default())).unwrap();
    let text = std::fs::read_to_string(&sink).unwrap_or_default();
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *delivered.entry(v["alert"]["id"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for i in 0..n {
        let key = format!("principal=user{i}");
        let mine: Vec<_> = alerts.iter().filter(|a| a.dedup_key == key).collect();
        assert_eq!(mine.len(), 1, "{key}: one alert ({} alerts in all)", alerts.len());
        assert_eq!(mine[0].event_count, 1, "{key}: its event counted once");
        let sent = delivered.get(&mine[0].id).copied().unwrap_or(0);
        assert!(sent >= 1, "{key} delivered");
        if sent > 1 {
            assert!(
                mine[0].attempts.iter().any(|a| a.attempt >= 2),
                "{key} delivered {sent} times without a redelivery on record"
            );
        }
    }
    assert_eq!(alerts.len(), n, "no alert but those of the landed logs");
    let rule = rt.block_on(s.rules.get_rule(USER, "login-no-mfa")).unwrap().unwrap();
    let minutes = started.elapsed().as_secs() / 60 + 2;
    assert!(
        rule.executions <= minutes,
        "{} runs in about {minutes} minutes: a window ran twice",
        rule.executions
    );
    eprintln!(
        "{n} logs landed, {} alerts, {} rule runs in {} s",
        alerts.len(),
        rule.executions,
        started.elapsed().as_secs()
    );
}

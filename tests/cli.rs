//! The `mantissa` binary as a shell user meets it: demo, query in three formats, ingest with
//! partial failures, and first-start status.

use std::path::Path;
use std::process::{Command, Output};
use tempfile::TempDir;

fn mantissa(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mantissa"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("MANTISSA_BACKEND")
        .output()
        .expect("run mantissa")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn demo_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    let out =
        mantissa(dir.path(), &["demo", "--days", "2", "--scale", "0.05", "--end", "2024-11-20T12:00:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("demo workspace:"), "{}", text(&out.stderr));
    dir
}

#[test]
fn query_prints_table_csv_and_json() {
    let dir = demo_dir();
    let sql = "SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC";
    let out = mantissa(dir.path(), &["query", sql]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("eventname") && table.contains("CreateLogStream"), "{table}");
    let stats = text(&out.stderr);
    assert!(
        stats.contains("rows") && stats.contains("scanned") && stats.contains("est. Athena cost $"),
        "{stats}"
    );

    let out = mantissa(
        dir.path(),
        &[
            "query",
            "--format",
            "csv",
            "SELECT eventname FROM cloudtrail_logs WHERE useridentity.type = 'Root' ORDER BY eventtime",
        ],
    );
    assert_eq!(text(&out.stdout), "eventname\nConsoleLogin\nListBuckets\nListAccessKeys\nGetBillingData\n");

    let out = mantissa(
        dir.path(),
        &[
            "query",
            "-f",
            "json",
            "SELECT eventname, errorcode FROM cloudtrail_logs WHERE sourceipaddress = '185.220.101.47' AND eventname = 'StopLogging'",
        ],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"eventname": "StopLogging"}]));
}

#[test]
fn query_errors_exit_non_zero_with_the_reason() {
    let dir = demo_dir();
    let out = mantissa(dir.path(), &["query", "SELECT nope FROM cloudtrail_logs"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
}

#[test]
fn table_output_neutralises_escape_sequences() {
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("evil.jsonl");
    std::fs::write(&log, "{\"timestamp\":\"2024-11-20T10:00:00Z\",\"message\":\"\\u001b[2J\\u001b]52;c;ZXZpbA==\\u0007 \\u202eexe.txt\"}\n").unwrap();
    assert!(mantissa(dir.path(), &["ingest", "custom", log.to_str().unwrap()]).status.success());
    let out = mantissa(dir.path(), &["query", "SELECT message FROM custom_logs"]);
    let shown = text(&out.stdout);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
    assert!(shown.contains("\\x1b[2J") && shown.contains("\\u{202e}"), "{shown}");
}

#[test]
fn ingest_reports_bad_records_and_keeps_the_rest() {
    let dir = TempDir::new().unwrap();
    let logs = dir.path().join("flows");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("a.log"),
        "2 123456789012 eni-1 10.0.1.5 10.0.2.9 443 49152 6 10 840 1732097730 1732097790 ACCEPT OK\n\
         2 123456789012 eni-1 10.0.1.5 10.0.2.9 443\n",
    )
    .unwrap();
    let out = mantissa(dir.path(), &["ingest", "vpcflow", logs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("a.log:2: expected 14 fields"), "{err}");
    assert!(err.contains("2 records read, 1 written, 1 skipped"), "{err}");

    // Nothing usable: non-zero exit.
    std::fs::write(dir.path().join("junk.log"), "nonsense\n").unwrap();
    let out = mantissa(dir.path(), &["ingest", "s3access", dir.path().join("junk.log").to_str().unwrap()]);
    assert!(!out.status.success());

    let out = mantissa(dir.path(), &["ingest", "syslog", "x"]);
    assert!(text(&out.stderr).contains("unknown source `syslog`"), "{}", text(&out.stderr));
}

#[test]
fn first_start_makes_the_demo_workspace() {
    let dir = TempDir::new().unwrap();
    let out = mantissa(dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("First start: making the demo workspace"), "{shown}");
    assert!(shown.contains("cloudtrail_logs"), "{shown}");
    // Second start: no new demo.
    let again = text(&mantissa(dir.path(), &[]).stdout);
    assert!(!again.contains("First start"), "{again}");
}

/// `mantissa demo && mantissa serve`: alerts from the stories reach the file sink; the closed
/// webhook fails three times into the DLQ; `dlq redrive` puts them back; SIGTERM stops cleanly.
#[test]
fn serve_delivers_demo_alerts_and_fills_the_dlq() {
    use std::time::{Duration, Instant};
    let dir = TempDir::new().unwrap();
    let out = mantissa(dir.path(), &["demo", "--days", "2", "--scale", "0.05"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("installed 35 demo rules and 2 integrations"),
        "{}",
        text(&out.stderr)
    );

    let mut serve = Command::new(env!("CARGO_BIN_EXE_mantissa"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sink = dir.path().join("alerts.jsonl");
    let started = Instant::now();
    let mut dead = vec![];
    while started.elapsed() < Duration::from_secs(90) {
        let list = mantissa(dir.path(), &["dlq", "list", "-f", "json"]);
        dead = serde_json::from_slice::<Vec<serde_json::Value>>(&list.stdout).unwrap_or_default();
        let delivered = std::fs::read_to_string(&sink).map(|s| s.lines().count()).unwrap_or(0);
        if delivered >= 6 && !dead.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let lines = std::fs::read_to_string(&sink).unwrap();
    for rule in [
        "Root account used",
        "Console login without MFA",
        "CloudTrail logging stopped",
        "Port scan",
        "Lambda error burst",
        "Console login failures burst",
    ] {
        assert!(lines.contains(rule), "no `{rule}` alert in the file sink:\n{lines}");
    }
    assert!(!dead.is_empty(), "webhook failures never reached the DLQ");
    assert_eq!(dead[0]["integration"], "soc-webhook");
    assert_eq!(dead[0]["receives"], 3);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("connection refused"), "{:?}", dead[0]);

    let alerts = mantissa(dir.path(), &["alerts", "list", "-f", "json"]);
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&alerts.stdout).unwrap();
    assert!(
        alerts.iter().any(|a| a["delivery"].as_str().unwrap().contains("soc-webhook: DLQ")),
        "{alerts:?}"
    );

    // Three attempts on the closed port: backoff 5 s, then 10 s, then the DLQ.
    let failed =
        alerts.iter().find(|a| a["delivery"].as_str().unwrap().contains("soc-webhook: DLQ")).unwrap();
    let tries: Vec<_> = failed["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["integration_id"] == "soc-webhook")
        .collect();
    let schedule: Vec<_> =
        tries.iter().map(|t| (t["attempt"].as_u64(), t["retry_in_secs"].as_u64())).collect();
    assert_eq!(schedule, vec![(Some(1), Some(5)), (Some(2), Some(10)), (Some(3), None)], "{tries:?}");
    assert_eq!(tries[2]["status"], "dead_lettered");
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(tries[i]["at"].as_str().unwrap()).unwrap();
    assert!((at(1) - at(0)).num_milliseconds() >= 5_000 && (at(2) - at(1)).num_milliseconds() >= 10_000);

    let redrive = mantissa(dir.path(), &["dlq", "redrive", "--all"]);
    assert!(text(&redrive.stderr).contains("redrove"), "{}", text(&redrive.stderr));
    // The running worker takes the redriven messages and tries the webhook again.
    let failed_id = failed["id"].as_str().unwrap().to_string();
    let retried = (0..40).any(|_| {
        std::thread::sleep(Duration::from_millis(250));
        let out = mantissa(dir.path(), &["alerts", "list", "-f", "json"]);
        let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        all.iter().filter(|a| a["id"] == failed_id.as_str()).any(|a| {
            a["attempts"].as_array().unwrap().iter().filter(|t| t["integration_id"] == "soc-webhook").count()
                > 3
        })
    });
    assert!(retried, "the redriven message was not attempted again");

    Command::new("kill").arg("-TERM").arg(serve.id().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = serve.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

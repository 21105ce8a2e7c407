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
fn help_says_what_no_subcommand_does_and_query_help_has_examples() {
    let dir = TempDir::new().unwrap();
    let help = text(&mantissa(dir.path(), &["--help"]).stdout);
    assert!(help.contains("With no subcommand, `mantissa` opens the console"), "{help}");
    let query = text(&mantissa(dir.path(), &["query", "--help"]).stdout);
    assert!(query.contains("Examples:") && query.contains("--file"), "{query}");
    assert!(
        !query.contains("--keymap") && !query.contains("--theme"),
        "console flags in query's help:\n{query}"
    );
}

#[test]
fn query_reads_sql_from_stdin_or_a_file_and_ends_quietly_on_a_closed_pipe() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let dir = demo_dir();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mantissa"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["query", "-f", "csv", "-"], "SELECT 41 + 1 AS answer");
    assert_eq!(text(&out.stdout), "answer\n42\n", "{}", text(&out.stderr));
    let file = dir.path().join("hunt.sql");
    std::fs::write(&file, "SELECT eventname FROM cloudtrail_logs\nLIMIT 0\n").unwrap();
    let out = run(&["query", "-f", "csv", "--file", file.to_str().unwrap()], "");
    assert_eq!(text(&out.stdout), "eventname\n", "no rows, still a header: {}", text(&out.stderr));
    let out = run(&["query", "--file", file.to_str().unwrap()], "");
    assert!(text(&out.stdout).contains("eventname"), "the table has its header: {}", text(&out.stdout));
    let out = run(&["query", "-"], "  ");
    assert!(!out.status.success() && text(&out.stderr).contains("the SQL is empty"));

    // `| head`: the reader goes away after a few bytes; the query ends quietly, exit 0.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mantissa"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["query", "-f", "csv", "SELECT * FROM cloudtrail_logs"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status, text(&out.stderr));
    assert!(!text(&out.stderr).contains("Broken pipe"), "{}", text(&out.stderr));
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
    // Times to the millisecond, as Athena prints them.
    let out = mantissa(dir.path(), &["query", "SELECT timestamp FROM custom_logs"]);
    let shown = text(&out.stdout);
    assert!(shown.contains("2024-11-20 10:00:00.000") && !shown.contains("000000"), "{shown}");
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

/// Cases from the shell: suggested from the demo's alerts, opened from their ids (a unique start
/// will do), noted, shown with the note in the timeline, and closed, which resolves the alerts.
#[test]
fn cases_are_suggested_opened_noted_shown_and_closed() {
    let dir = TempDir::new().unwrap();
    let out = mantissa(dir.path(), &["demo", "--days", "1", "--scale", "0.05"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mantissa(dir.path(), &["rules", "run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mantissa(dir.path(), &["cases", "suggest", "-f", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let top = found.first().unwrap_or_else(|| panic!("no suggestion: {}", text(&out.stdout)));
    assert!(top["shared"].as_str().unwrap().contains("185.220.101.47"), "{top}");
    let ids: Vec<&str> = top["alerts"].as_str().unwrap().split(' ').collect();
    let out = mantissa(dir.path(), &["cases", "new", "carol's account taken over", ids[0], &ids[1][..8]]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let case = said.split_whitespace().next().unwrap().to_string();
    assert!(case.starts_with("case-") && said.contains("(open, 2 alerts)"), "{said}");
    let out = mantissa(dir.path(), &["cases", "note", &case, "keys", "revoked"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mantissa(dir.path(), &["cases", "show", &case, "-f", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timeline = shown["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(|e| e["what"].as_str().unwrap().ends_with("keys revoked")), "{shown}");
    assert!(shown["lake_timeline_sql"].as_str().unwrap().contains("185.220.101.47"));
    let out = mantissa(dir.path(), &["cases", "close", &case, "maybe"]);
    assert!(
        !out.status.success() && text(&out.stderr).contains("no classification"),
        "{}",
        text(&out.stderr)
    );
    let out = mantissa(dir.path(), &["cases", "close", &case, "tp", "password", "sprayed"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mantissa(dir.path(), &["alerts", "list", "-f", "json", "--limit", "500"]);
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    for id in &ids[..2] {
        let a = alerts.iter().find(|a| a["id"] == *id).unwrap();
        assert_eq!(
            (a["status"].as_str(), a["classification"].as_str()),
            (Some("resolved"), Some("true positive"))
        );
    }
    let open = text(&mantissa(dir.path(), &["cases", "list"]).stdout);
    assert!(!open.contains(&case), "{open}");
    let all = text(&mantissa(dir.path(), &["cases", "list", "--all"]).stdout);
    assert!(all.contains(&case) && all.contains("closed"), "{all}");
}

/// `mantissa demo && mantissa serve`: alerts from the stories reach the file sink; the closed
/// webhook fails three times into the DLQ; `dlq redrive` puts them back; SIGTERM stops cleanly.
#[test]
fn serve_delivers_demo_alerts_and_fills_the_dlq() {
    use std::time::{Duration, Instant};
    let dir = TempDir::new().unwrap();
    let out = mantissa(dir.path(), &["demo", "--days", "2", "--scale", "0.05"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pack = mantissa_backend::rules::pack::files().len();
    assert!(pack > 100, "the pack has {pack} rules");
    assert!(
        text(&out.stderr).contains(&format!("installed {pack} demo rules and 2 integrations")),
        "{}",
        text(&out.stderr)
    );

    let serve = Command::new(env!("CARGO_BIN_EXE_mantissa"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("serve")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A failed assertion must not leave the server running (it would hold the test's pipes open).
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut serve = KillOnDrop(serve);
    let sink = dir.path().join("alerts.jsonl");
    let expected = [
        "Root account used",
        "Console login without MFA",
        "CloudTrail logging stopped",
        "Port scan",
        "Lambda error burst",
        "Console login failures burst",
    ];
    let started = Instant::now();
    let mut dead = vec![];
    while started.elapsed() < Duration::from_secs(120) {
        let list = mantissa(dir.path(), &["dlq", "list", "-f", "json"]);
        dead = serde_json::from_slice::<Vec<serde_json::Value>>(&list.stdout).unwrap_or_default();
        let delivered = std::fs::read_to_string(&sink).unwrap_or_default();
        if expected.iter().all(|rule| delivered.contains(rule)) && !dead.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let lines = std::fs::read_to_string(&sink).unwrap();
    for rule in expected {
        assert!(lines.contains(rule), "no `{rule}` alert in the file sink");
    }
    assert!(!dead.is_empty(), "webhook failures never reached the DLQ");
    assert_eq!(dead[0]["integration"], "soc-webhook");
    assert_eq!(dead[0]["receives"], 3);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("connection refused"), "{:?}", dead[0]);

    let alerts = mantissa(dir.path(), &["alerts", "list", "-f", "json", "--limit", "1000"]);
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
        .filter(|t| t["integration_id"] == "soc-webhook" && t["status"] != "pending")
        .collect();
    let schedule: Vec<_> =
        tries.iter().map(|t| (t["attempt"].as_u64(), t["retry_in_secs"].as_u64())).collect();
    assert_eq!(schedule, vec![(Some(1), Some(5)), (Some(2), Some(10)), (Some(3), None)], "{tries:?}");
    assert_eq!(tries[2]["status"], "dead_lettered");
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(tries[i]["at"].as_str().unwrap()).unwrap();
    assert!((at(1) - at(0)).num_milliseconds() >= 5_000 && (at(2) - at(1)).num_milliseconds() >= 10_000);

    // Redriven messages go to the end of their FIFO group, behind any webhook alert still on
    // its 5 s + 10 s way to the DLQ (or one a scheduled run adds meanwhile), so let the queue
    // drain first; then the retry is the group's next message.
    let queued = |dir: &std::path::Path| {
        let status = text(&mantissa(dir, &[]).stdout);
        status
            .lines()
            .find_map(|l| l.trim().strip_prefix("queued")?.split_whitespace().next()?.parse::<u64>().ok())
    };
    let drained = Instant::now() + Duration::from_secs(120);
    while queued(dir.path()) != Some(0) {
        assert!(Instant::now() < drained, "the webhook retries never drained into the DLQ");
        std::thread::sleep(Duration::from_millis(500));
    }
    let redrive = mantissa(dir.path(), &["dlq", "redrive", "--all"]);
    assert!(text(&redrive.stderr).contains("redrove"), "{}", text(&redrive.stderr));
    // The running worker takes the redriven messages and tries the webhook again.
    let failed_id = failed["id"].as_str().unwrap().to_string();
    let retry_deadline = Instant::now() + Duration::from_secs(120);
    let retried = std::iter::from_fn(|| (Instant::now() < retry_deadline).then_some(())).any(|_| {
        std::thread::sleep(Duration::from_millis(250));
        let out = mantissa(dir.path(), &["alerts", "list", "-f", "json", "--limit", "1000"]);
        let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        all.iter().filter(|a| a["id"] == failed_id.as_str()).any(|a| {
            a["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["integration_id"] == "soc-webhook" && t["status"] != "pending")
                .count()
                > 3
        })
    });
    assert!(retried, "the redriven message was not attempted again");

    Command::new("kill").arg("-TERM").arg(serve.0.id().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rules_validate_test_and_import_sigma_work_offline() {
    let dir = TempDir::new().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pack = root.join("backend/rules");
    let pack = pack.to_str().unwrap();

    // The pack passes its own tests, each rule with a positive and a negative case, and no rule
    // fires on the benign corpus unless the case accepts it (each rule's count is printed).
    let benign = root.join("backend/benign");
    let out = mantissa(
        dir.path(),
        &["rules", "test", pack, "--minimum-tests", "2", "--benign", benign.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(
        text(&out.stderr).contains("failed") && text(&out.stderr).contains(" 0 failed"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("; 0 false positives ("), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("FALSE POSITIVE"), "{}", text(&out.stdout));
    let out = mantissa(dir.path(), &["rules", "validate", pack]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // A broken file: every problem at file:line:col, exit 1; the good file beside it still loads.
    let rules = dir.path().join("mine");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("typo.yml"),
        "id: typo\nname: Typo\nsevrity: high\nschedule: rate(5 minutes)\nquery: SELECT 1\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("column.yml"),
        "id: column\nname: Column\nseverity: low\nschedule: rate(1 hour)\nquery: |\n  SELECT eventnme FROM cloudtrail_logs\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("scan.yml"),
        "id: scan\nname: Scan\nseverity: low\nschedule: rate(1 hour)\nquery: |\n  SELECT count(*) FROM vpc_flow_logs\n",
    )
    .unwrap();
    let out = mantissa(dir.path(), &["rules", "validate", rules.to_str().unwrap()]);
    assert!(!out.status.success());
    let report = text(&out.stdout);
    assert!(
        report.contains("typo.yml:3:1: error: unknown key `sevrity`; did you mean `severity`?"),
        "{report}"
    );
    assert!(
        report
            .contains("column.yml:6:10: error: query: unknown column `eventnme`; did you mean `eventname`?"),
        "{report}"
    );
    assert!(
        report.contains("scan.yml:6:24: warning: `vpc_flow_logs` is read without a `dt` filter"),
        "{report}"
    );
    assert!(report.contains("scan.yml:6:3: warning: the query ignores its run window"), "{report}");
    assert!(text(&out.stderr).contains("2 rules checked: 2 errors, 2 warnings"), "{}", text(&out.stderr));

    // Sigma import: the samples convert (one is refused by name), and what they make validates.
    let out_dir = dir.path().join("sigma");
    let out = mantissa(
        dir.path(),
        &["rules", "import-sigma", "/work/shared/sigma-sample", "--out", out_dir.to_str().unwrap()],
    );
    let sample_dir = root.join("backend/tests/sigma/data");
    let out = if out.status.success() {
        out
    } else {
        // Outside this machine the shared folder is absent; the copies in the repo are the same files.
        mantissa(
            dir.path(),
            &["rules", "import-sigma", sample_dir.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
        )
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("converted 7 rules"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("AWS Console Login Brute Force"), "{}", text(&out.stderr));
    let out = mantissa(dir.path(), &["rules", "validate", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Nothing convertible: exit 1.
    let out = mantissa(
        dir.path(),
        &["rules", "import-sigma", rules.to_str().unwrap(), "--out", out_dir.to_str().unwrap()],
    );
    assert!(!out.status.success());
}

//! The CLI on the AWS backend against moto server: bootstrap an environment, push a rule
//! folder, list it, and read the items back with the AWS CLI in the seed's layout; and the
//! lake: raw CloudTrail copied into the raw bucket with the AWS CLI, backfilled, queried on
//! the S3 lake with the embedded engine and through Athena (statement, database, workgroup).

#[path = "../backend/tests/backends/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::path::Path;
use std::process::{Command, Output};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn aws_env<'a>(cmd: &'a mut Command, endpoint: &str) -> &'a mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", moto::REGION)
        .env("AWS_DEFAULT_REGION", moto::REGION)
        .env_remove("AWS_PROFILE")
        .env_remove("MANTISSA_BACKEND")
        .env_remove("AWS_ENDPOINT_URL")
        .arg("--endpoint-url")
        .arg(endpoint)
}

fn mantissa(data_dir: &Path, env: &str, args: &[&str]) -> Output {
    let endpoint = &moto::moto().endpoint;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mantissa"));
    aws_env(&mut cmd, endpoint)
        .args(["--backend", "aws", "--env", env, "--data-dir"])
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run mantissa")
}

#[test]
fn cli_on_aws_bootstraps_pushes_lists_and_writes_the_seed_layout() {
    let endpoint = moto::moto().endpoint.clone();
    let env = moto::unique_env("cli");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let pack = moto::workspace_root().join("backend/rules");
    for f in ["aws-cloudtrail-stopped.yml", "aws-console-brute-force.yml"] {
        std::fs::copy(pack.join(f), rules.join(f)).unwrap();
    }

    let out = mantissa(dir.path(), &env, &["aws", "bootstrap"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains(&format!("created table mantissa-log-detection-rules-{env}")), "{report}");
    assert!(report.contains(&format!("created queue mantissa-log-alerts-{env}.fifo")), "{report}");

    let out = mantissa(dir.path(), &env, &["rules", "push"]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = mantissa(dir.path(), &env, &["rules", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(
        listed.contains("aws-cloudtrail-stopped") && listed.contains("aws-console-brute-force"),
        "{listed}"
    );
    let out = mantissa(dir.path(), &env, &["rules", "diff"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for cmd in [&["alerts", "list"][..], &["dlq", "list"], &["integrations", "list"]] {
        let out = mantissa(dir.path(), &env, cmd);
        assert!(out.status.success(), "{cmd:?}: {}", text(&out.stderr));
    }

    // The item as the AWS CLI reads it: the seed's attribute names and types.
    let mut get = Command::new(moto::venv_tool("aws"));
    get.args(["dynamodb", "get-item", "--output", "json", "--table-name"])
        .arg(format!("mantissa-log-detection-rules-{env}"))
        .args(["--key", r#"{"user_id":{"S":"moto"},"rule_id":{"S":"aws-cloudtrail-stopped"}}"#]);
    let out = aws_env(&mut get, &endpoint).output().expect("aws dynamodb get-item");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let item: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = &item["Item"];
    assert_eq!(item["user_id"]["S"], "moto", "the user is the caller's identity (moto's is user/moto)");
    assert_eq!(item["rule_id"]["S"], "aws-cloudtrail-stopped");
    assert_eq!(item["enabled"]["S"], "true");
    assert!(item["query"]["S"].as_str().unwrap().to_lowercase().contains("stoplogging"), "{item}");
    assert!(
        item["schedule"]["S"].as_str().unwrap().starts_with("rate(")
            || item["schedule"]["S"].as_str().unwrap().starts_with("cron(")
    );
    assert!(item["threshold"]["M"]["value"]["N"].is_string(), "{item}");
    assert!(item["last_executed"]["S"].is_string());

    // The push put each rule on its schedule expression's EventBridge rule: one per expression
    // (the two rules run every 5 and every 15 minutes), the rules on it in the schedules table.
    let mut list = Command::new(moto::venv_tool("aws"));
    list.args(["events", "list-rules", "--output", "json", "--name-prefix", "detection-schedule-"]);
    let out = aws_env(&mut list, &endpoint).output().expect("aws events list-rules");
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rules["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .filter(|n| n.ends_with(&env))
        .collect();
    assert_eq!(names.len(), 2, "{rules}");
    let mut scan = Command::new(moto::venv_tool("aws"));
    scan.args(["dynamodb", "scan", "--output", "json", "--table-name"])
        .arg(format!("mantissa-log-schedules-{env}"));
    let out = aws_env(&mut scan, &endpoint).output().expect("aws dynamodb scan");
    let members: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut on: Vec<String> = members["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!("{} {}", i["rule_id"]["S"].as_str().unwrap(), i["expression"]["S"].as_str().unwrap())
        })
        .collect();
    on.sort();
    assert_eq!(on, ["aws-cloudtrail-stopped rate(5 minutes)", "aws-console-brute-force rate(15 minutes)"]);

    // On AWS the user is who STS says; another user's id needs an admin ARN.
    let as_alice = |admins: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mantissa"));
        aws_env(&mut cmd, &endpoint)
            .env("MANTISSA_ADMIN_ARNS", admins)
            .args(["--backend", "aws", "--env", &env, "--user", "alice", "--data-dir"])
            .arg(dir.path())
            .args(["rules", "list", "--format", "json"])
            .output()
            .expect("run mantissa")
    };
    let out = as_alice("");
    assert!(!out.status.success());
    let refusal = text(&out.stderr);
    assert!(refusal.contains("you are `moto`") && refusal.contains("MANTISSA_ADMIN_ARNS"), "{refusal}");
    let out = as_alice("arn:aws:sts::123456789012:user/moto");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The folder's rules are pushed for moto, not for alice: in her store they are still to push.
    assert!(
        text(&out.stdout).contains(r#""sync": "to push""#),
        "alice's store is her own: {}",
        text(&out.stdout)
    );

    // Commands that only make sense locally say so.
    let out = mantissa(dir.path(), &env, &["serve"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Lambdas"), "{}", text(&out.stderr));
}

fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_new_environment_queries_its_s3_lake_with_datafusion_and_athena() {
    let endpoint = moto::moto().endpoint.clone();
    let env = moto::unique_env("lake");
    let database = format!("mantissa_log_{env}");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mantissa"));
        aws_env(&mut cmd, &endpoint)
            .env("MANTISSA_ATHENA_DATABASE", &database)
            .env_remove("MANTISSA_LAKE_URL")
            .args(["--backend", "aws", "--env", &env, "--data-dir"])
            .arg(dir.path())
            .args(args)
            .output()
            .expect("run mantissa")
    };
    let out = run(&["aws", "bootstrap"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    let lake_line =
        report.lines().find(|l| l.starts_with("lake s3://")).unwrap_or_else(|| panic!("{report}"));
    let lake = lake_line.split_whitespace().nth(1).unwrap().to_string();
    let raw = lake_line.split("raw logs in ").nth(1).unwrap().split(',').next().unwrap().to_string();

    // A CloudTrail delivery as AWS writes it, copied in with the AWS CLI.
    let records: Vec<serde_json::Value> = (0..6)
        .map(|i| {
            serde_json::json!({
                "eventVersion": "1.08", "eventTime": format!("2024-11-20T10:05:{i:02}Z"),
                "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
                "sourceIPAddress": "203.0.113.9", "errorMessage": "Failed authentication",
                "userIdentity": {"type": "IAMUser", "userName": "alice"}, "eventID": format!("e{i}")
            })
        })
        .collect();
    let file = dir.path().join("delivery.json.gz");
    std::fs::write(&file, gzip(&serde_json::json!({ "Records": records }).to_string())).unwrap();
    let key = "AWSLogs/123456789012/CloudTrail/us-east-1/2024/11/20/123456789012_CloudTrail_us-east-1_20241120T1005Z_a.json.gz";
    let mut cp = Command::new(moto::venv_tool("aws"));
    cp.args(["s3", "cp"]).arg(&file).arg(format!("{raw}/{key}"));
    let out = aws_env(&mut cp, &endpoint).output().expect("aws s3 cp");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Backfill from the raw bucket into the lake; a second run adds nothing.
    let out = run(&["ingest", "cloudtrail", &format!("{raw}/AWSLogs/")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 Parquet files written"), "{}", text(&out.stderr));
    let out = run(&["ingest", "cloudtrail", &format!("{raw}/AWSLogs/")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 files were already in the lake"), "{}", text(&out.stderr));

    let sql = "SELECT eventname, count(*) AS n FROM cloudtrail_logs WHERE dt = '2024-11-20' GROUP BY 1";
    let out = run(&["--lake", &lake, "query", "--format", "json", sql]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"eventname": "ConsoleLogin", "n": 6}]), "{}", text(&out.stderr));

    // The same query through Athena: moto records what the console sent.
    let out = run(&["query", sql]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let workgroup = format!("mantissa-log-{env}");
    let mut list = Command::new(moto::venv_tool("aws"));
    list.args(["athena", "list-query-executions", "--output", "json", "--work-group", &workgroup]);
    let out = aws_env(&mut list, &endpoint).output().expect("aws athena list-query-executions");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ids: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sent = vec![];
    for id in ids["QueryExecutionIds"].as_array().unwrap() {
        let mut get = Command::new(moto::venv_tool("aws"));
        get.args([
            "athena",
            "get-query-execution",
            "--output",
            "json",
            "--query-execution-id",
            id.as_str().unwrap(),
        ]);
        let out = aws_env(&mut get, &endpoint).output().expect("aws athena get-query-execution");
        let exec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        sent.push(exec["QueryExecution"].clone());
    }
    let ours = sent.iter().find(|e| e["Query"] == sql).unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(ours["QueryExecutionContext"]["Database"], database.as_str());
    assert_eq!(ours["WorkGroup"], workgroup.as_str());
}

//! The CLI on the AWS backend against moto server: bootstrap an environment, push a rule
//! folder, list it, and read the items back with the AWS CLI in the seed's layout.

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
        .args(["--backend", "aws", "--env", env, "--user", "alice", "--data-dir"])
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
    assert!(report.contains(&format!("queue mantissa-log-alerts-{env}.fifo ready")), "{report}");

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
        .args(["--key", r#"{"user_id":{"S":"alice"},"rule_id":{"S":"aws-cloudtrail-stopped"}}"#]);
    let out = aws_env(&mut get, &endpoint).output().expect("aws dynamodb get-item");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let item: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = &item["Item"];
    assert_eq!(item["user_id"]["S"], "alice");
    assert_eq!(item["rule_id"]["S"], "aws-cloudtrail-stopped");
    assert_eq!(item["enabled"]["S"], "true");
    assert!(item["query"]["S"].as_str().unwrap().to_lowercase().contains("stoplogging"), "{item}");
    assert!(
        item["schedule"]["S"].as_str().unwrap().starts_with("rate(")
            || item["schedule"]["S"].as_str().unwrap().starts_with("cron(")
    );
    assert!(item["threshold"]["M"]["value"]["N"].is_string(), "{item}");
    assert!(item["last_executed"]["S"].is_string());

    // The push made each rule's EventBridge schedule.
    let mut list = Command::new(moto::venv_tool("aws"));
    list.args(["events", "list-rules", "--output", "json", "--name-prefix", "detection-alice-"]);
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

    // Commands that only make sense locally say so.
    let out = mantissa(dir.path(), &env, &["serve"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Lambdas"), "{}", text(&out.stderr));
}

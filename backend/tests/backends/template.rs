//! The deploy template: cfn-lint in every VPC mode, least privilege, the tables the stores use,
//! the guard rails (reserved concurrency, tracing, alarms, VPC endpoints, saved queries), and
//! the alarms read back from the emulator.

use super::moto::{self, REGION};
use serde_json::json;

#[test]
fn deploy_template_passes_cfn_lint_and_grants_no_wildcard_resources() {
    let template = moto::workspace_root().join("backend/deploy/template.yaml");
    let out = std::process::Command::new(moto::venv_tool("cfn-lint")).arg(&template).output().unwrap();
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&template).unwrap();
    for wildcard in ["Resource: \"*\"", "Resource: '*'", "Resource: *", "- \"*\"", "Action: \"*\""] {
        assert!(!text.contains(wildcard), "least privilege: `{wildcard}` in the template");
    }
    for table in mantissa_backend::aws::names::Table::ALL {
        let name = format!("mantissa-log-{}-${{Env}}", table.stem());
        assert!(text.contains(&name), "the template makes every table the stores use: {name} is missing");
    }
    let analyst = &text[text.find("AnalystPolicy:").unwrap()..];
    for resource in ["AlertActivityTable.Arn", "CasesTable.Arn", "UserSettingsTable.Arn"] {
        assert!(analyst.contains(resource), "the analyst's console writes {resource}");
    }
    for function in ["mantissa-detection", "mantissa-delivery", "mantissa-health"] {
        assert!(
            text.contains(&format!("target/lambda/{function}/")),
            "{function} is deployed from its cargo-lambda build"
        );
    }
}

/// `v` when it is `!<tag> ...`: the tagged value.
fn yaml_tagged<'a>(v: &'a yaml_serde::Value, tag: &str) -> Option<&'a yaml_serde::Value> {
    match v {
        yaml_serde::Value::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

/// The template's resources of one type.
fn resources_of<'a>(template: &'a yaml_serde::Value, kind: &str) -> Vec<&'a yaml_serde::Value> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(_, r)| r)
        .collect()
}

/// A SAM function's property as deployed: its own, else the Globals' one.
fn effective<'a>(
    globals: &'a yaml_serde::Value,
    properties: &'a yaml_serde::Value,
    key: &str,
) -> &'a yaml_serde::Value {
    properties.get(key).unwrap_or(&globals[key])
}

/// The template with String parameter `key` defaulting to `value` instead.
fn with_default(text: &str, key: &str, value: &str) -> String {
    let head = format!("\n  {key}:\n    Type: String\n    Default: \"");
    assert_eq!(text.matches(&head).count(), 1, "one String parameter {key} with a quoted default");
    let start = text.find(&head).unwrap() + head.len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{value}{}", &text[..start], &text[end..])
}

/// Resolves what the alarms and saved queries use (!Ref, !Sub, !GetAtt <queue>.QueueName, !If
/// on the template's conditions) for one environment, as CloudFormation would, into JSON.
struct Resolver<'a> {
    template: &'a yaml_serde::Value,
    env: &'a str,
    alarm_topic: &'a str,
}

impl Resolver<'_> {
    /// None: `!Ref AWS::NoValue` (the key is left out).
    fn resolve(&self, v: &yaml_serde::Value) -> Option<serde_json::Value> {
        use yaml_serde::Value as Y;
        Some(match v {
            Y::Null => serde_json::Value::Null,
            Y::Bool(b) => json!(b),
            Y::Number(n) => match n.as_i64() {
                Some(i) => json!(i),
                None => json!(n.as_f64().expect("a number")),
            },
            Y::String(s) => json!(s),
            Y::Sequence(items) => {
                serde_json::Value::Array(items.iter().filter_map(|i| self.resolve(i)).collect())
            }
            Y::Mapping(m) => serde_json::Value::Object(
                m.iter()
                    .filter_map(|(k, v)| {
                        Some((k.as_str().expect("string keys").to_string(), self.resolve(v)?))
                    })
                    .collect(),
            ),
            Y::Tagged(t) => {
                let tag = t.tag.to_string();
                match tag.trim_start_matches('!') {
                    "Ref" => return self.reference(t.value.as_str().expect("!Ref <name>")),
                    "Sub" => json!(self.sub(t.value.as_str().expect("!Sub of a string"))),
                    "GetAtt" => {
                        let (resource, attribute) = t
                            .value
                            .as_str()
                            .and_then(|s| s.split_once('.'))
                            .expect("!GetAtt <resource>.<attribute>");
                        assert_eq!(attribute, "QueueName", "only queue names are resolved here");
                        return self
                            .resolve(&self.template["Resources"][resource]["Properties"]["QueueName"]);
                    }
                    "If" => {
                        let arms = t.value.as_sequence().expect("!If [condition, then, else]");
                        let holds = self.condition(arms[0].as_str().expect("a condition name"));
                        return self.resolve(&arms[if holds { 1 } else { 2 }]);
                    }
                    other => panic!("!{other} is not resolved here"),
                }
            }
        })
    }

    fn reference(&self, name: &str) -> Option<serde_json::Value> {
        match name {
            "AWS::NoValue" => return None,
            "Env" => return Some(json!(self.env)),
            "AlarmTopicArn" => return Some(json!(self.alarm_topic)),
            _ => {}
        }
        if let Some(parameter) = self.template["Parameters"].get(name) {
            return self.resolve(&parameter["Default"]);
        }
        let resource = &self.template["Resources"][name];
        let property = match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => "FunctionName",
            Some("AWS::Athena::WorkGroup") => "Name",
            Some("AWS::Logs::LogGroup") => "LogGroupName",
            other => panic!("!Ref {name} ({other:?}) is not resolved here"),
        };
        self.resolve(&resource["Properties"][property])
    }

    fn sub(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find('}').expect("a closing brace");
            let name = &rest[start + 2..end];
            match self.reference(name) {
                Some(serde_json::Value::String(v)) => out.push_str(&v),
                other => panic!("${{{name}}} resolved to {other:?}"),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn condition(&self, name: &str) -> bool {
        self.truth(&self.template["Conditions"][name])
    }

    fn truth(&self, v: &yaml_serde::Value) -> bool {
        let yaml_serde::Value::Tagged(t) = v else { panic!("not a condition: {v:?}") };
        let args = t.value.as_sequence();
        let tag = t.tag.to_string();
        match tag.trim_start_matches('!') {
            "Not" => !self.truth(&args.expect("!Not [c]")[0]),
            "And" => args.expect("!And [...]").iter().all(|c| self.truth(c)),
            "Or" => args.expect("!Or [...]").iter().any(|c| self.truth(c)),
            "Equals" => {
                let pair = args.expect("!Equals [a, b]");
                self.resolve(&pair[0]) == self.resolve(&pair[1])
            }
            "Condition" => self.condition(t.value.as_str().expect("a condition name")),
            other => panic!("!{other} in a condition"),
        }
    }
}

#[test]
fn deploy_template_guard_rails_lint_in_both_vpc_modes_and_read_back() {
    let path = moto::workspace_root().join("backend/deploy/template.yaml");
    let text = std::fs::read_to_string(&path).unwrap();

    // cfn-lint in each network mode. cfn-lint 1.58 drops `--parameters` for a template with a
    // Transform (its SAM step rebuilds the lint context without them), so each mode is a copy
    // whose parameter defaults are that mode's values; the bogus subnet shows that the VPC
    // values really reach the functions' VpcConfig and are checked there.
    let dir = tempfile::tempdir().unwrap();
    let subnets = "subnet-0123456789abcdef0,subnet-0fedcba9876543210";
    let in_vpc = with_default(
        &with_default(&with_default(&text, "VpcId", "vpc-0123456789abcdef0"), "VpcSubnetIds", subnets),
        "VpcRouteTableIds",
        "rtb-0123456789abcdef0",
    );
    let modes = [
        ("no-vpc.yaml", text.clone()),
        ("vpc.yaml", in_vpc.clone()),
        (
            "vpc-own-endpoints.yaml",
            with_default(&with_default(&in_vpc, "VpcCreateEndpoints", "false"), "VpcRouteTableIds", ""),
        ),
        ("vpc-bogus-subnet.yaml", with_default(&in_vpc, "VpcSubnetIds", "subnet-0123456789abcdef0,bogus")),
    ];
    let cfn_lint = moto::venv_tool("cfn-lint");
    let runs: Vec<(&str, std::process::Child)> = modes
        .iter()
        .map(|(name, body)| {
            let file = dir.path().join(name);
            std::fs::write(&file, body).unwrap();
            let child = std::process::Command::new(&cfn_lint)
                .arg(&file)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start cfn-lint");
            (*name, child)
        })
        .collect();
    for (name, child) in runs {
        let out = child.wait_with_output().unwrap();
        let report =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if name == "vpc-bogus-subnet.yaml" {
            assert!(!out.status.success(), "cfn-lint accepted a bogus subnet:\n{report}");
            assert!(
                report.contains("'bogus' does not match") && report.contains("Properties/VpcConfig"),
                "the bogus subnet is caught in the functions' VpcConfig:\n{report}"
            );
        } else {
            assert!(out.status.success(), "cfn-lint {name}:\n{report}");
        }
    }

    let t: yaml_serde::Value = yaml_serde::from_str(&text).expect("the template parses");
    let parameters = &t["Parameters"];
    let reserved = &parameters["ReservedConcurrency"];
    assert_eq!(
        (reserved["Default"].as_u64(), reserved["MinValue"].as_u64(), reserved["MaxValue"].as_u64()),
        (Some(10), Some(1), Some(1000)),
        "each function capped at 10 by default"
    );
    assert_eq!(parameters["AthenaBytesScannedBudget"]["Default"].as_u64(), Some(10 * 1024 * 1024 * 1024));

    // Every function: reserved concurrency, active tracing, the VPC config when UseVpc.
    let globals = &t["Globals"]["Function"];
    assert_eq!(
        globals["Environment"]["Variables"]["MANTISSA_METRICS_NAMESPACE"],
        yaml_serde::Value::String("MantissaLog".into())
    );
    let functions = resources_of(&t, "AWS::Serverless::Function");
    let mut names: Vec<&str> =
        functions.iter().filter_map(|f| f["Properties"]["FunctionName"].as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "mantissa-log-delivery-${Env}",
            "mantissa-log-detection-${Env}",
            "mantissa-log-health-${Env}",
            "mantissa-log-ingest-${Env}"
        ]
    );
    for f in &functions {
        let props = &f["Properties"];
        let name = props["FunctionName"].as_str().unwrap();
        assert!(f["IgnoreGlobals"].is_null(), "{name} takes the Globals");
        let concurrency = effective(globals, props, "ReservedConcurrentExecutions");
        assert_eq!(
            yaml_tagged(concurrency, "Ref").and_then(|v| v.as_str()),
            Some("ReservedConcurrency"),
            "{name}: {concurrency:?}"
        );
        assert_eq!(
            effective(globals, props, "Tracing"),
            &yaml_serde::Value::String("Active".into()),
            "{name}"
        );
        let vpc = effective(globals, props, "VpcConfig");
        let arms =
            yaml_tagged(vpc, "If").and_then(|v| v.as_sequence()).unwrap_or_else(|| panic!("{name}: {vpc:?}"));
        assert_eq!(arms[0].as_str(), Some("UseVpc"), "{name}");
        assert_eq!(yaml_tagged(&arms[2], "Ref").and_then(|v| v.as_str()), Some("AWS::NoValue"), "{name}");
        let groups: Vec<&str> = arms[1]["SecurityGroupIds"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name}: security groups"))
            .iter()
            .filter_map(|g| yaml_tagged(g, "Ref").and_then(|v| v.as_str()))
            .collect();
        assert!(groups.contains(&"FunctionSecurityGroup"), "{name}: {groups:?}");
        assert!(yaml_tagged(&arms[1]["SubnetIds"], "Split").is_some(), "{name}: {:?}", arms[1]);
    }

    // In a VPC: 443 out only (plus SMTP for delivery), nothing in; the five endpoints.
    let function_group = &t["Resources"]["FunctionSecurityGroup"];
    assert_eq!(function_group["Type"].as_str(), Some("AWS::EC2::SecurityGroup"));
    assert_eq!(function_group["Condition"].as_str(), Some("UseVpc"));
    let props = &function_group["Properties"];
    assert!(props["SecurityGroupIngress"].is_null(), "nothing in: {props:?}");
    let egress = props["SecurityGroupEgress"].as_sequence().expect("egress rules");
    assert!(
        !egress.is_empty()
            && egress
                .iter()
                .all(|r| r["FromPort"].as_u64() == Some(443) && r["ToPort"].as_u64() == Some(443)),
        "HTTPS out only: {egress:?}"
    );
    let mut endpoints: Vec<(String, String)> = resources_of(&t, "AWS::EC2::VPCEndpoint")
        .iter()
        .map(|e| {
            assert_eq!(e["Condition"].as_str(), Some("MakeVpcEndpoints"));
            let p = &e["Properties"];
            let service = yaml_tagged(&p["ServiceName"], "Sub").and_then(|s| s.as_str()).unwrap_or_default();
            let kind = p["VpcEndpointType"].as_str().unwrap_or_default();
            if kind == "Interface" {
                assert_eq!(p["PrivateDnsEnabled"].as_bool(), Some(true), "{service}");
            }
            (service.to_string(), kind.to_string())
        })
        .collect();
    endpoints.sort();
    let region = "com.amazonaws.${AWS::Region}";
    assert_eq!(
        endpoints,
        [
            (format!("{region}.athena"), "Interface".to_string()),
            (format!("{region}.dynamodb"), "Gateway".to_string()),
            (format!("{region}.s3"), "Gateway".to_string()),
            (format!("{region}.secretsmanager"), "Interface".to_string()),
            (format!("{region}.sqs"), "Interface".to_string()),
        ]
    );

    // The detection run lists the rules on its schedule from the schedules table's index.
    let statements = t["Resources"]["DetectionFunction"]["Properties"]["Policies"][0]["Statement"]
        .as_sequence()
        .expect("the detection function's statements");
    let index = "${SchedulesTable.Arn}/index/expression-index";
    assert!(
        statements.iter().any(|s| {
            let resources =
                s["Resource"].as_sequence().cloned().unwrap_or_else(|| vec![s["Resource"].clone()]);
            resources.iter().any(|r| yaml_tagged(r, "Sub").and_then(|r| r.as_str()) == Some(index))
                && s["Action"]
                    .as_sequence()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("dynamodb:Query")))
        }),
        "dynamodb:Query on the schedules' expression-index"
    );
    assert!(text.contains(":rule/detection-*-${Env}\""), "the schedules' invoke permission");
    assert_eq!(
        t["Resources"]["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]["PublishCloudWatchMetricsEnabled"]
            .as_bool(),
        Some(true),
        "AWS/Athena ProcessedBytes exists only when the workgroup publishes it"
    );

    // The alarms, resolved for one environment as CloudFormation would.
    struct Expected {
        what: String,
        namespace: &'static str,
        metric: &'static str,
        dimensions: Vec<(&'static str, String)>,
        statistic: &'static str,
        period: i64,
        threshold: f64,
    }
    let env = moto::unique_env("guard");
    let topic = "arn:aws:sns:us-east-1:123456789012:mantissa-ops";
    let mut expected = vec![
        Expected {
            what: "alerts-dlq-depth".into(),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: vec![("QueueName", format!("mantissa-log-alerts-dlq-{env}.fifo"))],
            statistic: "Maximum",
            period: 300,
            threshold: 0.0,
        },
        Expected {
            what: "ingest-dlq-depth".into(),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            dimensions: vec![("QueueName", format!("mantissa-log-ingest-dlq-{env}"))],
            statistic: "Maximum",
            period: 300,
            threshold: 0.0,
        },
        Expected {
            what: "alerts-oldest-age".into(),
            namespace: "AWS/SQS",
            metric: "ApproximateAgeOfOldestMessage",
            dimensions: vec![("QueueName", format!("mantissa-log-alerts-{env}.fifo"))],
            statistic: "Maximum",
            period: 300,
            threshold: 900.0,
        },
        Expected {
            what: "athena-bytes-scanned".into(),
            namespace: "AWS/Athena",
            metric: "ProcessedBytes",
            dimensions: vec![("WorkGroup", format!("mantissa-log-{env}"))],
            statistic: "Sum",
            period: 86400,
            threshold: 10737418240.0,
        },
        Expected {
            what: "detections-failing".into(),
            namespace: "MantissaLog",
            metric: "RuleRuns",
            dimensions: vec![("Env", env.clone()), ("Outcome", "failed".into())],
            statistic: "Sum",
            period: 300,
            threshold: 0.0,
        },
    ];
    for function in ["detection", "delivery", "health", "ingest"] {
        for metric in ["Errors", "Throttles"] {
            expected.push(Expected {
                what: format!("{function}-{}", metric.to_lowercase()),
                namespace: "AWS/Lambda",
                metric,
                dimensions: vec![("FunctionName", format!("mantissa-log-{function}-{env}"))],
                statistic: "Sum",
                period: 300,
                threshold: 0.0,
            });
        }
    }
    let check = |source: &str, alarm: &serde_json::Value, e: &Expected| {
        let name = format!("mantissa-log-{}-{env}", e.what);
        assert_eq!(alarm["AlarmName"].as_str(), Some(name.as_str()), "{source}");
        let at = format!("{source}: {name}: {alarm}");
        assert_eq!(alarm["Namespace"].as_str(), Some(e.namespace), "{at}");
        assert_eq!(alarm["MetricName"].as_str(), Some(e.metric), "{at}");
        let mut dimensions: Vec<(String, String)> = alarm["Dimensions"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}"))
            .iter()
            .map(|d| {
                (
                    d["Name"].as_str().unwrap_or_default().to_string(),
                    d["Value"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        dimensions.sort();
        let mut want: Vec<(String, String)> =
            e.dimensions.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        want.sort();
        assert_eq!(dimensions, want, "{at}");
        assert_eq!(alarm["Statistic"].as_str(), Some(e.statistic), "{at}");
        assert_eq!(alarm["Period"].as_i64(), Some(e.period), "{at}");
        assert_eq!(alarm["EvaluationPeriods"].as_i64(), Some(1), "{at}");
        assert_eq!(alarm["Threshold"].as_f64(), Some(e.threshold), "{at}");
        assert_eq!(alarm["ComparisonOperator"].as_str(), Some("GreaterThanThreshold"), "{at}");
        assert_eq!(alarm["TreatMissingData"].as_str(), Some("notBreaching"), "{at}");
        assert_eq!(alarm["AlarmActions"], json!([topic]), "{at}");
    };
    let with_topic = Resolver { template: &t, env: &env, alarm_topic: topic };
    let without_topic = Resolver { template: &t, env: &env, alarm_topic: "" };
    let alarm_resources = resources_of(&t, "AWS::CloudWatch::Alarm");
    let alarms: Vec<serde_json::Value> = alarm_resources
        .iter()
        .map(|a| with_topic.resolve(&a["Properties"]).expect("alarm properties"))
        .collect();
    for a in &alarm_resources {
        let quiet = without_topic.resolve(&a["Properties"]).unwrap();
        assert!(quiet.get("AlarmActions").is_none(), "no AlarmTopicArn, no actions: {quiet}");
    }
    for e in &expected {
        let name = format!("mantissa-log-{}-{env}", e.what);
        let alarm = alarms
            .iter()
            .find(|a| a["AlarmName"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("alarm {name} in the template"));
        check("template", alarm, e);
    }

    // The saved Logs Insights queries.
    let queries: Vec<serde_json::Value> = resources_of(&t, "AWS::Logs::QueryDefinition")
        .iter()
        .map(|q| with_topic.resolve(&q["Properties"]).unwrap())
        .collect();
    assert_eq!(queries.len(), 3, "{queries:?}");
    for (what, group, fragments) in [
        (
            "failed-deliveries",
            "delivery",
            &[
                "fields @timestamp, RuleId, AlertId, IntegrationType, Outcome, Error, TraceId",
                "filter Metric = \"Deliveries\" and Outcome != \"delivered\" and Outcome != \"suppressed\"",
                "sort @timestamp desc",
                "limit 200",
            ][..],
        ),
        (
            "query-execution-times",
            "detection",
            &[
                "filter Metric = \"RuleRuns\"",
                "avg(QueryMs)",
                "pct(QueryMs, 95) as p95_ms",
                "max(QueryMs)",
                "sum(BytesScanned)",
                "by RuleId",
                "sort p95_ms desc",
            ][..],
        ),
        (
            "alert-volume-by-severity",
            "detection",
            &["filter Metric = \"AlertsRouted\"", "stats sum(AlertsRouted) as alerts by Severity, bin(1h)"][..],
        ),
    ] {
        let name = format!("mantissa-log/{env}/{what}");
        let q = queries
            .iter()
            .find(|q| q["Name"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("saved query {name}: {queries:?}"));
        assert_eq!(q["LogGroupNames"], json!([format!("/aws/lambda/mantissa-log-{group}-{env}")]), "{name}");
        let query = q["QueryString"].as_str().unwrap_or_default();
        for fragment in fragments {
            assert!(query.contains(fragment), "{name}: `{fragment}` in\n{query}");
        }
    }

    // Read back from moto. Its CloudFormation skips AWS::CloudWatch::Alarm and
    // AWS::Logs::QueryDefinition (a stack of them completes with nothing made) and its Logs has
    // no query definitions at all, so the alarms go in through PutMetricAlarm, whose request
    // model (in the AWS CLI) refuses any property that is not one of its parameters.
    let endpoint = moto::moto().endpoint.clone();
    let aws = |args: &[&str]| -> std::process::Output {
        std::process::Command::new(moto::venv_tool("aws"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", REGION)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .args(["--endpoint-url", endpoint.as_str(), "--region", REGION, "--output", "json"])
            .args(args)
            .output()
            .expect("run the aws CLI")
    };
    for alarm in &alarms {
        let input = alarm.to_string();
        let out = aws(&["cloudwatch", "put-metric-alarm", "--cli-input-json", input.as_str()]);
        assert!(out.status.success(), "put-metric-alarm {input}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let names: Vec<String> = expected.iter().map(|e| format!("mantissa-log-{}-{env}", e.what)).collect();
    let mut describe = vec!["cloudwatch", "describe-alarms", "--alarm-names"];
    describe.extend(names.iter().map(String::as_str));
    let out = aws(&describe);
    assert!(out.status.success(), "describe-alarms: {}", String::from_utf8_lossy(&out.stderr));
    let described: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read_back = described["MetricAlarms"].as_array().expect("MetricAlarms");
    assert_eq!(read_back.len(), expected.len(), "{described}");
    for e in &expected {
        let name = format!("mantissa-log-{}-{env}", e.what);
        let alarm = read_back
            .iter()
            .find(|a| a["AlarmName"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("{name} read back from moto: {described}"));
        check("moto", alarm, e);
    }
}

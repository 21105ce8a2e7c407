//! The demo workspace's rules and integrations: detections for the demo's attack stories, a
//! file sink that works, and a webhook to a closed loopback port that fails into the DLQ.

use crate::error::Result;
use crate::model::{DedupSpec, Integration, IntegrationKind, Rule, Schedule, Severity, Threshold};
use crate::services::Services;
use chrono::Utc;
use serde_json::json;
use std::path::Path;

/// `dt` filter for "the last day", in the Athena dialect (runs on DataFusion too).
const LAST_DAY: &str = "dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')";

struct Def {
    id: &'static str,
    name: &'static str,
    severity: Severity,
    schedule: &'static str,
    dedup: &'static [&'static str],
    query: String,
    description: &'static str,
}

fn defs() -> Vec<Def> {
    vec![
        Def {
            id: "aws-root-account-usage",
            name: "Root account used",
            severity: Severity::Critical,
            schedule: "rate(5 minutes)",
            dedup: &["sourceipaddress"],
            query: format!(
                "SELECT eventtime, eventname, sourceipaddress, useragent FROM cloudtrail_logs WHERE useridentity.type = 'Root' AND {LAST_DAY}"
            ),
            description: "The root user signed in or called an API; root should be locked away.",
        },
        Def {
            id: "aws-console-login-without-mfa",
            name: "Console login without MFA",
            severity: Severity::High,
            schedule: "rate(5 minutes)",
            dedup: &["sourceipaddress"],
            query: format!(
                "SELECT eventtime, useridentity.username AS username, sourceipaddress FROM cloudtrail_logs \
                 WHERE eventname = 'ConsoleLogin' AND useridentity.type = 'IAMUser' \
                 AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success' \
                 AND json_extract_scalar(additionaleventdata, '$.MFAUsed') = 'No' AND {LAST_DAY}"
            ),
            description: "An IAM user signed in to the console without MFA.",
        },
        Def {
            id: "aws-console-brute-force",
            name: "Console login failures burst",
            severity: Severity::High,
            schedule: "rate(15 minutes)",
            dedup: &["sourceipaddress"],
            query: format!(
                "SELECT sourceipaddress, useridentity.username AS username, count(*) AS failures FROM cloudtrail_logs \
                 WHERE eventname = 'ConsoleLogin' AND errorcode IS NOT NULL AND {LAST_DAY} \
                 GROUP BY 1, 2 HAVING count(*) >= 10"
            ),
            description: "Ten or more failed console logins for one user from one address.",
        },
        Def {
            id: "aws-cloudtrail-stopped",
            name: "CloudTrail logging stopped or trail deleted",
            severity: Severity::Critical,
            schedule: "rate(5 minutes)",
            dedup: &[],
            query: format!(
                "SELECT eventtime, eventname, useridentity.arn AS actor, sourceipaddress FROM cloudtrail_logs \
                 WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname IN ('StopLogging', 'DeleteTrail') AND {LAST_DAY}"
            ),
            description: "Someone is blinding the audit trail.",
        },
        Def {
            id: "vpc-port-scan",
            name: "Port scan against a host",
            severity: Severity::Medium,
            schedule: "rate(15 minutes)",
            dedup: &["srcaddr"],
            query: format!(
                "SELECT srcaddr, dstaddr, count(DISTINCT dstport) AS ports FROM vpc_flow_logs \
                 WHERE action = 'REJECT' AND {LAST_DAY} GROUP BY 1, 2 HAVING count(DISTINCT dstport) > 100"
            ),
            description: "One source was rejected on more than 100 ports of one host.",
        },
        Def {
            id: "lambda-error-burst",
            name: "Lambda error burst",
            severity: Severity::Medium,
            schedule: "rate(1 hour)",
            dedup: &["function_name"],
            query: format!(
                "SELECT function_name, count(*) AS errors FROM lambda_logs WHERE level = 'ERROR' AND {LAST_DAY} \
                 GROUP BY 1 HAVING count(*) >= 20"
            ),
            description: "A function logged twenty or more errors in a day.",
        },
    ]
}

pub fn demo_rules() -> Vec<Rule> {
    defs()
        .into_iter()
        .map(|d| {
            let mut r = Rule::new(
                d.id,
                d.name,
                &d.query,
                d.severity,
                Schedule::parse(d.schedule).expect("valid demo schedule"),
            );
            r.description = d.description.into();
            r.threshold = Threshold::count(0);
            r.dedup =
                DedupSpec { fields: d.dedup.iter().map(|f| f.to_string()).collect(), ..DedupSpec::default() };
            r.tags = vec!["demo".into()];
            r
        })
        .collect()
}

pub fn demo_integrations(user: &str, data_dir: &Path) -> Vec<Integration> {
    let now = Utc::now();
    vec![
        Integration {
            id: "alerts-file".into(),
            user_id: user.into(),
            kind: IntegrationKind::File,
            name: "alerts-file".into(),
            enabled: true,
            min_severity: Severity::Info,
            config: json!({"path": data_dir.join("alerts.jsonl")}),
            secret_ref: None,
            created_at: now,
        },
        Integration {
            id: "soc-webhook".into(),
            user_id: user.into(),
            kind: IntegrationKind::Webhook,
            name: "soc-webhook".into(),
            enabled: true,
            min_severity: Severity::High,
            // Port 9 (discard) is closed on loopback: every delivery fails, so the DLQ fills.
            config: json!({"url": "http://127.0.0.1:9/hook", "timeout_secs": 3}),
            secret_ref: None,
            created_at: now,
        },
    ]
}

/// Stores the demo rules and integrations for `user` (existing ones of the same id replaced).
pub async fn install(s: &Services, user: &str, data_dir: &Path) -> Result<(usize, usize)> {
    let rules = demo_rules();
    for r in &rules {
        s.rules.put_rule(user, r).await?;
    }
    let integrations = demo_integrations(user, data_dir);
    for i in &integrations {
        s.integrations.put_integration(i).await?;
    }
    Ok((rules.len(), integrations.len()))
}

//! Helpers shared by the integration tests: building small rules and picking parts of the SQL.
#![allow(dead_code)]

use mantissa_backend::rules::sigma::{ConvertError, ConvertedRule, convert_yaml};

pub const WINDOW: u64 = 3600;

/// Two rules the correlation tests refer to, by id or name.
pub const FAILED_LOGIN: &str = "title: Failed console login
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
name: failed_login
level: low
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: ConsoleLogin
    errorMessage: Failed authentication
  condition: selection
";

pub const ROOT_LOGIN: &str = "title: Root console login
name: root_login
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: ConsoleLogin
    userIdentity.type: Root
  condition: selection
";

/// A CloudTrail rule around a detection block (indented two spaces, as under `detection:`).
pub fn cloudtrail(detection: &str) -> String {
    rule("product: aws\n  service: cloudtrail", detection)
}

pub fn vpc(detection: &str) -> String {
    rule("product: aws\n  service: vpcflowlogs", detection)
}

pub fn s3(detection: &str) -> String {
    rule("product: aws\n  service: s3", detection)
}

pub fn rule(logsource: &str, detection: &str) -> String {
    format!("title: Test rule\nlogsource:\n  {logsource}\ndetection:\n{}\n", detection.trim_matches('\n'))
}

/// Converts a text holding exactly one convertible document.
pub fn convert(text: &str) -> ConvertedRule {
    let mut results = convert_yaml(text, WINDOW);
    assert_eq!(results.len(), 1, "expected one result, got {results:#?}");
    results.remove(0).unwrap_or_else(|e| panic!("conversion failed: {e}"))
}

pub fn error(text: &str) -> ConvertError {
    let mut results = convert_yaml(text, WINDOW);
    assert_eq!(results.len(), 1, "expected one result, got {results:#?}");
    results.remove(0).expect_err("conversion should fail")
}

/// The WHERE clause after the window filter, one top-level conjunct per line, without the
/// leading `AND ` of the first.
pub fn condition(query: &str) -> String {
    let lines: Vec<&str> = query.lines().collect();
    let window_end = lines
        .iter()
        .position(|l| l.contains("< {window_end_iso}") || l.contains("< {window_end_unix}"))
        .or_else(|| lines.iter().position(|l| l.starts_with("WHERE dt BETWEEN {window_start_dt}")))
        .expect("window filter");
    let rest: Vec<&str> = lines[window_end + 1..]
        .iter()
        .take_while(|l| !l.starts_with("GROUP BY") && !l.starts_with("HAVING"))
        .copied()
        .collect();
    rest.join("\n").trim_start().strip_prefix("AND ").expect("condition after the window").to_string()
}

/// The condition SQL of a CloudTrail rule with this detection block.
pub fn cloudtrail_condition(detection: &str) -> String {
    condition(&convert(&cloudtrail(detection)).query)
}

pub fn vpc_condition(detection: &str) -> String {
    condition(&convert(&vpc(detection)).query)
}

//! Condition expressions (and, or, not, parentheses, `N of` selectors) and the query around them.

use crate::common;
use crate::common::{cloudtrail, cloudtrail_condition as ct, convert, error};

const SELECTIONS: &str = "
  sel_a:
    eventName: A
  sel_b:
    eventName: B
  other:
    eventSource: s3.amazonaws.com
  _hidden:
    awsRegion: us-east-1";

fn with(condition: &str) -> String {
    format!("{SELECTIONS}\n  condition: {condition}")
}

#[test]
fn and_or_not() {
    assert_eq!(
        ct(&with("sel_a and other")),
        "lower(eventname) = 'a'\n  AND lower(eventsource) = 's3.amazonaws.com'"
    );
    assert_eq!(ct(&with("sel_a or sel_b")), "(lower(eventname) = 'a' OR lower(eventname) = 'b')");
    // A missing field makes a Sigma selection false, so `not` of it is true: NULL is coalesced.
    assert_eq!(ct(&with("not sel_a")), "NOT coalesce(lower(eventname) = 'a', false)");
}

#[test]
fn parentheses_and_precedence() {
    assert_eq!(
        ct(&with("(sel_a or sel_b) and not other")),
        "(lower(eventname) = 'a' OR lower(eventname) = 'b')\n  AND NOT coalesce(lower(eventsource) = 's3.amazonaws.com', false)"
    );
    // `and` binds tighter than `or`.
    assert_eq!(
        ct(&with("sel_a or sel_b and other")),
        "(lower(eventname) = 'a' OR (lower(eventname) = 'b' AND lower(eventsource) = 's3.amazonaws.com'))"
    );
    assert_eq!(
        ct(&with("not (sel_a or sel_b)")),
        "NOT coalesce(lower(eventname) = 'a' OR lower(eventname) = 'b', false)"
    );
}

#[test]
fn one_of_and_all_of_patterns() {
    assert_eq!(ct(&with("1 of sel_*")), "(lower(eventname) = 'a' OR lower(eventname) = 'b')");
    assert_eq!(ct(&with("any of sel_*")), "(lower(eventname) = 'a' OR lower(eventname) = 'b')");
    assert_eq!(ct(&with("all of sel_*")), "lower(eventname) = 'a'\n  AND lower(eventname) = 'b'");
}

#[test]
fn them_covers_every_detection_except_underscored_ones() {
    assert_eq!(
        ct(&with("1 of them")),
        "(lower(eventsource) = 's3.amazonaws.com' OR lower(eventname) = 'a' OR lower(eventname) = 'b')"
    );
    assert_eq!(
        ct(&with("all of them")),
        "lower(eventsource) = 's3.amazonaws.com'\n  AND lower(eventname) = 'a'\n  AND lower(eventname) = 'b'"
    );
}

#[test]
fn n_of_counts_matching_selections() {
    let detection = "
  sel_1:
    eventName: A
  sel_2:
    eventSource: B
  sel_3:
    awsRegion: us-east-1
  condition: 2 of sel_*";
    assert_eq!(
        ct(detection),
        "(\n    CASE WHEN lower(eventname) = 'a' THEN 1 ELSE 0 END\n    \
         + CASE WHEN lower(eventsource) = 'b' THEN 1 ELSE 0 END\n    \
         + CASE WHEN lower(awsregion) = 'us-east-1' THEN 1 ELSE 0 END\n  ) >= 2"
    );
    let e = error(&cloudtrail(&with("3 of sel_*")));
    assert_eq!(e.construct, "condition `3 of sel_*`");
    assert!(e.message.contains("only 2 detections"), "{e}");
}

#[test]
fn a_list_of_maps_is_or_and_a_list_of_conditions_is_or() {
    let detection = "
  sel:
    - eventName: A
      eventSource: x.amazonaws.com
    - eventName: B
  condition: sel";
    assert_eq!(
        ct(detection),
        "((lower(eventname) = 'a' AND lower(eventsource) = 'x.amazonaws.com') OR lower(eventname) = 'b')"
    );
    let detection = format!("{SELECTIONS}\n  condition:\n    - sel_a\n    - other");
    assert_eq!(ct(&detection), "(lower(eventname) = 'a' OR lower(eventsource) = 's3.amazonaws.com')");
}

#[test]
fn unknown_identifiers_and_empty_patterns_are_errors() {
    let e = error(&cloudtrail(&with("sel_a and missing")));
    assert_eq!(e.construct, "condition `missing`");
    assert!(e.message.contains("`sel_a`"), "{e}");
    let e = error(&cloudtrail(&with("1 of filter_*")));
    assert_eq!(e.construct, "condition `1 of filter_*`");
}

#[test]
fn a_whole_cloudtrail_query() {
    let text = "title: Root console login
id: 0b6ff4e5-3e4c-4d0a-9d8a-1d8f5a8b6a11
description: Root signs in to the console
references:
  - https://example.com/root
tags:
  - attack.t1078.004
falsepositives:
  - Break-glass access
level: critical
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventName: ConsoleLogin
    userIdentity.type: Root
  filter:
    additionalEventData.MFAUsed: 'Yes'
  condition: selection and not filter
";
    let rule = convert(text);
    assert_eq!(rule.sigma_id.as_deref(), Some("0b6ff4e5-3e4c-4d0a-9d8a-1d8f5a8b6a11"));
    assert_eq!(rule.title, "Root console login");
    assert_eq!(rule.description.as_deref(), Some("Root signs in to the console"));
    assert_eq!(rule.severity, "critical");
    assert_eq!(rule.tags, vec!["attack.t1078.004"]);
    assert_eq!(rule.references, vec!["https://example.com/root"]);
    assert_eq!(rule.false_positives, vec!["Break-glass access"]);
    assert_eq!(rule.table, "cloudtrail_logs");
    assert_eq!(rule.window_secs, 3600);
    assert_eq!(
        rule.query,
        "SELECT
  eventtime,
  eventsource,
  eventname,
  useridentity.arn AS principal,
  sourceipaddress,
  awsregion,
  errorcode,
  useridentity.type AS useridentity_type,
  json_extract_scalar(additionaleventdata, '$.MFAUsed') AS additionaleventdata_mfaused
FROM cloudtrail_logs
WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
  AND eventtime >= {window_start_iso}
  AND eventtime < {window_end_iso}
  AND lower(eventname) = 'consolelogin'
  AND lower(useridentity.type) = 'root'
  AND NOT coalesce(lower(json_extract_scalar(additionaleventdata, '$.MFAUsed')) = 'yes', false)"
    );
}

#[test]
fn vpc_queries_filter_on_flow_start() {
    let rule = convert(&common::vpc("  sel:\n    action: REJECT\n  condition: sel"));
    assert_eq!(
        rule.query,
        "SELECT *
FROM vpc_flow_logs
WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
  AND start >= {window_start_unix}
  AND start < {window_end_unix}
  AND lower(action) = 'reject'"
    );
}

#[test]
fn filter_documents_narrow_the_rules_they_name() {
    let text = format!(
        "{}id: 5d1e7c8a-0000-4000-8000-000000000001\n---\ntitle: Ignore the CI role\nlogsource:\n  product: aws\n  \
         service: cloudtrail\nfilter:\n  rules:\n    - 5d1e7c8a-0000-4000-8000-000000000001\n  selection:\n    \
         userIdentity.arn|endswith: /ci\n  condition: not selection\n",
        cloudtrail("  sel:\n    eventName: DeleteTrail\n  condition: sel")
    );
    let rule = convert(&text);
    assert_eq!(
        common::condition(&rule.query),
        "lower(eventname) = 'deletetrail'\n  AND NOT coalesce(lower(useridentity.arn) LIKE '%/ci', false)"
    );
}

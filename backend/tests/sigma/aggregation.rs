//! Sigma's older pipe aggregation (`condition: sel | count(...) by ... > N`) and `timeframe`.

use crate::common::{cloudtrail, convert, error, vpc};

const FAILED_LOGINS: &str = "
  sel:
    eventName: ConsoleLogin
    errorMessage: Failed authentication";

#[test]
fn count_events_without_grouping() {
    let rule = convert(&cloudtrail(&format!("{FAILED_LOGINS}\n  condition: sel | count() > 5")));
    assert_eq!(rule.window_secs, 3600);
    assert_eq!(
        rule.query,
        "SELECT
  count(*) AS event_count,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
  AND eventtime >= {window_start_iso}
  AND eventtime < {window_end_iso}
  AND lower(eventname) = 'consolelogin'
  AND lower(errormessage) = 'failed authentication'
HAVING count(*) > 5"
    );
}

#[test]
fn count_distinct_field_by_group_with_timeframe() {
    let detection = format!(
        "{FAILED_LOGINS}\n  timeframe: 15m\n  condition: sel | count(userIdentity.userName) by sourceIPAddress >= 3"
    );
    let rule = convert(&cloudtrail(&detection));
    assert_eq!(rule.window_secs, 900);
    assert_eq!(
        rule.query,
        "SELECT
  sourceipaddress,
  count(DISTINCT useridentity.username) AS value_count,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen
FROM cloudtrail_logs
WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
  AND eventtime >= {window_start_iso}
  AND eventtime < {window_end_iso}
  AND lower(eventname) = 'consolelogin'
  AND lower(errormessage) = 'failed authentication'
GROUP BY sourceipaddress
HAVING count(DISTINCT useridentity.username) >= 3"
    );
}

#[test]
fn count_by_several_fields_including_json_and_struct_paths() {
    let detection = format!(
        "{FAILED_LOGINS}\n  timeframe: 2h\n  condition: 'sel | count() by userIdentity.arn, requestParameters.bucketName < 10'"
    );
    let rule = convert(&cloudtrail(&detection));
    let query = rule.query.clone();
    assert!(query.starts_with(
        "SELECT
  useridentity.arn AS useridentity_arn,
  json_extract_scalar(requestparameters, '$.bucketName') AS requestparameters_bucketname,
  count(*) AS event_count,"
    ));
    assert_eq!(rule.window_secs, 7200, "the timeframe is the run's window");
    assert!(query.contains("eventtime < {window_end_iso}"), "{query}");
    assert!(query.ends_with(
        "GROUP BY useridentity.arn, json_extract_scalar(requestparameters, '$.bucketName')\nHAVING count(*) < 10"
    ));
}

#[test]
fn every_comparison_operator() {
    for (written, sql) in
        [(">", ">"), (">=", ">="), ("<", "<"), ("<=", "<="), ("=", "="), ("==", "="), ("!=", "<>")]
    {
        let detection =
            format!("  sel:\n    action: REJECT\n  condition: sel | count() by srcaddr {written} 7");
        let query = convert(&vpc(&detection)).query;
        assert!(query.ends_with(&format!("HAVING count(*) {sql} 7")), "{written}: {query}");
    }
}

#[test]
fn vpc_port_scan_counts_distinct_ports() {
    let detection =
        "  sel:\n    action: REJECT\n  timeframe: 5m\n  condition: sel | count(dst_port) by src_ip > 50";
    let rule = convert(&vpc(detection));
    assert_eq!(rule.window_secs, 300);
    assert_eq!(
        rule.query,
        "SELECT
  srcaddr,
  count(DISTINCT dstport) AS value_count,
  min(start) AS first_seen,
  max(start) AS last_seen
FROM vpc_flow_logs
WHERE dt BETWEEN {window_start_dt} AND {window_end_dt}
  AND start >= {window_start_unix}
  AND start < {window_end_unix}
  AND lower(action) = 'reject'
GROUP BY srcaddr
HAVING count(DISTINCT dstport) > 50"
    );
}

#[test]
fn counting_the_grouped_field_itself_is_an_error_when_the_threshold_exceeds_one() {
    let detection =
        format!("{FAILED_LOGINS}\n  condition: sel | count(sourceIPAddress) by sourceIPAddress >= 10");
    let e = error(&cloudtrail(&detection));
    assert_eq!(e.rule, "Test rule");
    assert_eq!(e.construct, "count(`sourceIPAddress`) grouped by the same field");
    assert!(e.message.contains("count()"), "{e}");
    // A threshold that 1 satisfies is merely redundant, not wrong.
    let detection =
        format!("{FAILED_LOGINS}\n  condition: sel | count(sourceIPAddress) by sourceIPAddress >= 1");
    assert!(convert(&cloudtrail(&detection)).query.ends_with("HAVING count(DISTINCT sourceipaddress) >= 1"));
}

#[test]
fn other_aggregations_are_errors() {
    let e = error(&cloudtrail(&format!(
        "{FAILED_LOGINS}\n  condition: sel | max(eventVersion) by eventName > 5"
    )));
    assert_eq!(e.construct, "aggregation `| max(eventVersion) by eventName > 5`");
    assert!(e.message.contains("only count()"), "{e}");
    let e = error(&cloudtrail(&format!("{FAILED_LOGINS}\n  condition: sel | near other")));
    assert!(e.message.contains("near"), "{e}");
    let e = error(&cloudtrail(&format!("{FAILED_LOGINS}\n  condition: sel | count() by nosuchfield > 5")));
    assert_eq!(e.construct, "field `nosuchfield`");
}

#[test]
fn timeframe_without_aggregation_sets_the_window() {
    for (timeframe, secs, schedule) in
        [("30s", 30, "rate(1 minute)"), ("90s", 90, "rate(2 minutes)"), ("2d", 172_800, "rate(2 days)")]
    {
        let rule =
            convert(&cloudtrail(&format!("{FAILED_LOGINS}\n  timeframe: {timeframe}\n  condition: sel")));
        assert_eq!(rule.window_secs, secs);
        // The rule runs once per timeframe, each run over its own window.
        assert_eq!(mantissa_backend::rules::import::schedule_for(rule.window_secs), schedule, "{timeframe}");
        assert!(rule.query.contains("eventtime >= {window_start_iso}"));
    }
    let e = error(&cloudtrail(&format!("{FAILED_LOGINS}\n  timeframe: soon\n  condition: sel")));
    assert_eq!(e.construct, "timeframe `soon`");
}

#[test]
fn default_window_is_used_otherwise() {
    let results = mantissa_backend::rules::sigma::convert_yaml(
        &cloudtrail(&format!("{FAILED_LOGINS}\n  condition: sel")),
        86_400,
    );
    let rule = results[0].as_ref().unwrap();
    assert_eq!(rule.window_secs, 86_400);
    assert!(rule.query.contains("dt BETWEEN {window_start_dt} AND {window_end_dt}"));
}

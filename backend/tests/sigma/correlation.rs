//! Sigma correlation rules: event_count and value_count over rules in the same text.

use mantissa_backend::rules::sigma::convert_yaml;

use crate::common::{FAILED_LOGIN, ROOT_LOGIN};

fn correlation(body: &str) -> String {
    format!(
        "{FAILED_LOGIN}---\ntitle: Brute force\nid: 0e95725d-7320-415d-80f7-004da920fc11\nlevel: high\ntags:\n  - attack.t1110\n{body}"
    )
}

#[test]
fn event_count_groups_and_thresholds_and_base_rules_still_convert() {
    let text = correlation(
        "correlation:\n  type: event_count\n  rules:\n    - 5638f7c0-ac70-491d-8465-2a65075e0d86\n  group-by:\n    \
         - sourceIPAddress\n  timespan: 1h\n  condition:\n    gte: 10\n",
    );
    let results = convert_yaml(&text, 300);
    assert_eq!(results.len(), 2);
    let base = results[0].as_ref().unwrap();
    assert_eq!(base.title, "Failed console login");
    assert_eq!(base.window_secs, 300);
    let rule = results[1].as_ref().unwrap();
    assert_eq!(rule.title, "Brute force");
    assert_eq!(rule.sigma_id.as_deref(), Some("0e95725d-7320-415d-80f7-004da920fc11"));
    assert_eq!(rule.severity, "high");
    assert_eq!(rule.tags, vec!["attack.t1110"]);
    assert_eq!(rule.table, "cloudtrail_logs");
    assert_eq!(rule.window_secs, 300, "the hour slides: runs every 5 minutes");
    assert_eq!(
        (rule.dedup_secs, rule.dedup_fields.clone()),
        (Some(3600), vec!["sourceipaddress".to_string()])
    );
    assert_eq!(
        rule.query,
        "WITH matched AS (
  SELECT sourceipaddress AS sourceipaddress, '' AS rule_name, from_iso8601_timestamp(eventtime) AS at, eventtime AS seen
  FROM cloudtrail_logs
  WHERE dt BETWEEN date_format(from_iso8601_timestamp({window_start_iso}) - INTERVAL '3600' SECOND, '%Y-%m-%d') AND {window_end_dt}
    AND from_iso8601_timestamp(eventtime) > from_iso8601_timestamp({window_start_iso}) - INTERVAL '3600' SECOND
    AND eventtime < {window_end_iso}
    AND (lower(eventname) = 'consolelogin' AND lower(errormessage) = 'failed authentication')
),
ends AS (
  SELECT DISTINCT matched.sourceipaddress, at, seen FROM matched WHERE at >= from_iso8601_timestamp({window_start_iso})
),
spans AS (
  SELECT e.sourceipaddress, e.at, e.seen, count(*) AS event_count
  FROM ends e JOIN matched m
    ON (e.sourceipaddress IS NOT DISTINCT FROM m.sourceipaddress)
    AND m.at > e.at - INTERVAL '3600' SECOND
    AND m.at <= e.at
  GROUP BY e.sourceipaddress, e.at, e.seen
  HAVING count(*) >= 10
)
SELECT sourceipaddress, max(event_count) AS event_count, min(seen) AS first_seen, max(seen) AS last_seen
FROM spans
GROUP BY sourceipaddress
HAVING count(*) > 0"
    );
}

#[test]
fn value_count_counts_distinct_values_and_refers_by_name() {
    let text = correlation(
        "correlation:\n  type: value_count\n  rules: failed_login\n  group-by:\n    - sourceIPAddress\n  \
         timespan: 30m\n  condition:\n    field: userIdentity.userName\n    gt: 5\n",
    );
    let results = convert_yaml(&text, 300);
    let query = &results[1].as_ref().unwrap().query;
    assert!(query.contains("useridentity.username AS counted"), "{query}");
    assert!(query.contains("count(DISTINCT m.counted) AS value_count"), "{query}");
    assert_eq!(results[1].as_ref().unwrap().dedup_secs, Some(1800), "one incident per timespan");
    assert!(query.contains("HAVING count(DISTINCT m.counted) > 5\n)"), "{query}");
}

#[test]
fn every_threshold_operator_and_ranges() {
    for (op, sql) in [("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<="), ("eq", "="), ("neq", "<>")] {
        let text = correlation(&format!(
            "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [awsRegion]\n  timespan: 1d\n  \
             condition:\n    {op}: 4\n"
        ));
        let rule = convert_yaml(&text, 300)[1].as_ref().unwrap().clone();
        assert!(rule.query.contains(&format!("HAVING count(*) {sql} 4\n)")), "{op}: {}", rule.query);
        assert_eq!((rule.window_secs, rule.dedup_secs), (300, Some(86_400)));
    }
    let text = correlation(
        "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [awsRegion]\n  timespan: 1h\n  \
         condition:\n    gt: 100\n    lte: 200\n",
    );
    let query = convert_yaml(&text, 300)[1].as_ref().unwrap().query.clone();
    assert!(query.contains("HAVING count(*) <= 200 AND count(*) > 100\n)"), "{query}");
}

#[test]
fn several_rules_are_alternatives_and_no_group_by_means_one_group() {
    let text = format!(
        "{FAILED_LOGIN}---\n{ROOT_LOGIN}---\ntitle: Login burst\ncorrelation:\n  type: event_count\n  rules:\n    \
         - failed_login\n    - root_login\n  timespan: 10m\n  condition:\n    gte: 3\n"
    );
    let results = convert_yaml(&text, 300);
    assert_eq!(results.len(), 3);
    let rule = results[2].as_ref().unwrap();
    assert_eq!(rule.severity, "medium");
    assert!(
        rule.query.contains(
            "AND (\n      (lower(eventname) = 'consolelogin' AND lower(errormessage) = 'failed authentication')\n      \
             OR (lower(eventname) = 'consolelogin' AND lower(useridentity.type) = 'root')\n    )"
        ),
        "{}",
        rule.query
    );
    // No group-by: the time alone joins, and an empty result is no row.
    assert!(rule.query.contains("ON m.at > e.at - INTERVAL '600' SECOND"), "{}", rule.query);
    assert!(rule.query.ends_with("SELECT max(event_count) AS event_count, min(seen) AS first_seen, max(seen) AS last_seen\nFROM spans\nHAVING count(*) > 0"), "{}", rule.query);
}

#[test]
fn generate_false_keeps_referenced_rules_out() {
    let text = correlation(
        "generate: false\ncorrelation:\n  type: event_count\n  rules: failed_login\n  group-by: [sourceIPAddress]\n  \
         timespan: 1h\n  condition:\n    gte: 10\n",
    );
    let results = convert_yaml(&text, 300);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().unwrap().title, "Brute force");
    // The older spelling inside the correlation mapping counts too.
    let text = correlation(
        "correlation:\n  type: event_count\n  generate: false\n  rules: failed_login\n  group-by: [sourceIPAddress]\n  \
         timespan: 1h\n  condition:\n    gte: 10\n",
    );
    assert_eq!(convert_yaml(&text, 300).len(), 1);
    // A rule can also opt out by itself.
    let text = format!("{FAILED_LOGIN}generate: false\n---\n{ROOT_LOGIN}");
    let titles: Vec<String> = convert_yaml(&text, 300).into_iter().map(|r| r.unwrap().title).collect();
    assert_eq!(titles, vec!["Root console login"]);
}

#[test]
fn unsupported_correlations_are_errors_naming_the_rule() {
    let sum = correlation(
        "correlation:\n  type: value_sum\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  \
         condition:\n    field: requestParameters.bytes\n    gte: 10\n",
    );
    let e = convert_yaml(&sum, 300).remove(1).unwrap_err();
    assert_eq!(e.rule, "Brute force");
    assert_eq!(e.construct, "correlation type `value_sum`");

    let missing = correlation(
        "correlation:\n  type: event_count\n  rules: [nope]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  \
         condition:\n    gte: 2\n",
    );
    let e = convert_yaml(&missing, 300).remove(1).unwrap_err();
    assert_eq!(e.construct, "correlation reference `nope`");

    let no_field = correlation(
        "correlation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  \
         condition:\n    gte: 2\n",
    );
    let e = convert_yaml(&no_field, 300).remove(1).unwrap_err();
    assert_eq!(e.construct, "value_count correlation");

    let vpc_rule = "title: Rejected flow\nname: rejected\nlogsource:\n  product: aws\n  service: vpcflowlogs\n\
                    detection:\n  sel:\n    action: REJECT\n  condition: sel\n";
    let mixed = format!(
        "{FAILED_LOGIN}---\n{vpc_rule}---\ntitle: Mixed\ncorrelation:\n  type: event_count\n  rules: [failed_login, \
         rejected]\n  timespan: 1h\n  condition:\n    gte: 2\n"
    );
    let e = convert_yaml(&mixed, 300).remove(2).unwrap_err();
    assert_eq!(e.construct, "correlation across tables");
}

#[test]
fn a_broken_referenced_rule_breaks_the_correlation_too() {
    let broken = FAILED_LOGIN.replace("errorMessage: Failed authentication", "errorMessage|base64: x");
    let text = format!(
        "{broken}---\ntitle: Brute force\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  \
         group-by: [sourceIPAddress]\n  timespan: 1h\n  condition:\n    gte: 10\n"
    );
    let results = convert_yaml(&text, 300);
    assert_eq!(results[0].as_ref().unwrap_err().construct, "modifier `base64`");
    let e = results[1].as_ref().unwrap_err();
    assert_eq!(e.rule, "Brute force");
    assert_eq!(e.construct, "referenced rule `Failed console login`");
    assert!(e.message.starts_with("modifier `base64`: "), "{e}");
}

#[test]
fn a_detection_field_named_generate_does_not_opt_out() {
    let text = FAILED_LOGIN.replace("    errorMessage: Failed authentication", "    generate: false");
    let e = convert_yaml(&text, 300).remove(0).unwrap_err();
    assert_eq!(e.construct, "field `generate`");
}

//! Correlations slide: a burst that straddles two runs' windows is counted whole, a burst
//! spread wider than the timespan is not, and temporal_ordered cares about the order. Run on
//! the embedded lake through a retro-hunt over the rules' own schedule windows.

use chrono::{DateTime, Duration, TimeZone, Utc};
use mantissa_backend::local::Lake;
use mantissa_backend::model::Table;
use mantissa_backend::rules::hunt::{Hit, hunt};
use mantissa_backend::rules::import::load_sigma_file;
use mantissa_backend::services::Services;
use std::path::Path;

use crate::common::{FAILED_LOGIN, ROOT_LOGIN};

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 20, h, m, 0).unwrap()
}

fn login(t: DateTime<Utc>, ip: &str, failed: bool, root: bool) -> String {
    serde_json::json!({
        "eventVersion": "1.09", "eventTime": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "sourceIPAddress": ip,
        "userIdentity": {"type": if root { "Root" } else { "IAMUser" }, "arn": "arn:aws:iam::111122223333:user/carol"},
        "errorMessage": if failed { serde_json::Value::from("Failed authentication") } else { serde_json::Value::Null },
        "eventType": "AwsConsoleSignIn"
    })
    .to_string()
}

/// The correlation's hits over 10:00 to 12:00, hunted in its schedule's windows.
async fn hits(correlation: &str, events: &[String]) -> Vec<Hit> {
    let dir = tempfile::TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    let text = events.join("\n");
    mantissa_backend::ingest::ingest_bytes(&lake, Table::CloudTrail, Path::new("ct.json"), text.as_bytes())
        .unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    let sigma =
        format!("{FAILED_LOGIN}---\n{ROOT_LOGIN}---\ntitle: Correlated\ngenerate: false\n{correlation}");
    let loaded = load_sigma_file(Path::new("c.yml"), &sigma).unwrap();
    let rules: Vec<_> = loaded.into_iter().map(|l| l.rule).filter(|r| r.name == "Correlated").collect();
    assert_eq!(rules[0].schedule.as_str(), "rate(5 minutes)", "the timespan slides every 5 minutes");
    let found = hunt(&s, &rules, at(10, 0), at(12, 0)).await.unwrap();
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    found.hits
}

const BURST: &str = "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  \
                     timespan: 10m\n  condition:\n    gte: 10\n";

#[tokio::test]
async fn a_burst_straddling_windows_is_counted_whole() {
    // Ten failures a minute apart from 10:56: no 5-minute window, nor the hour, holds them all.
    let events: Vec<String> =
        (0..10).map(|i| login(at(10, 56) + Duration::minutes(i), "185.220.101.47", true, false)).collect();
    let found = hits(BURST, &events).await;
    assert!(!found.is_empty(), "the burst was missed");
    assert!(found.iter().all(|h| h.key.contains("185.220.101.47")), "{found:?}");
    // The run whose window holds the tenth failure (11:05) raises it.
    assert_eq!(found[0].window.start, at(11, 5), "{found:?}");

    // The same ten failures spread over 20 minutes never reach ten within any 10 minutes.
    let events: Vec<String> = (0..10)
        .map(|i| login(at(10, 50) + Duration::minutes(2 * i), "185.220.101.47", true, false))
        .collect();
    assert_eq!(hits(BURST, &events).await, vec![]);
}

#[tokio::test]
async fn value_count_slides_too() {
    let correlation = "correlation:\n  type: value_count\n  rules: [failed_login]\n  group-by: [sourceIPAddress]\n  \
                       timespan: 10m\n  condition:\n    field: userIdentity.arn\n    gte: 3\n";
    let user = |t, n: u32| login(t, "203.0.113.9", true, false).replace("user/carol", &format!("user/u{n}"));
    let events = vec![user(at(10, 58), 1), user(at(11, 1), 2), user(at(11, 3), 3)];
    let found = hits(correlation, &events).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let events = vec![user(at(10, 40), 1), user(at(11, 1), 2), user(at(11, 3), 3)];
    assert_eq!(hits(correlation, &events).await, vec![], "the first user is outside the 10 minutes");
}

#[tokio::test]
async fn temporal_needs_every_rule_and_temporal_ordered_their_order() {
    let temporal = |kind: &str| {
        format!(
            "correlation:\n  type: {kind}\n  rules: [failed_login, root_login]\n  group-by: [sourceIPAddress]\n  \
             timespan: 10m\n"
        )
    };
    let ip = "185.220.101.47";
    let fail_then_root = vec![login(at(10, 58), ip, true, false), login(at(11, 2), ip, false, true)];
    let root_then_fail = vec![login(at(10, 58), ip, false, true), login(at(11, 2), ip, true, false)];
    let only_failures = vec![login(at(10, 58), ip, true, false), login(at(11, 2), ip, true, false)];
    let found = hits(&temporal("temporal"), &fail_then_root).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(hits(&temporal("temporal"), &root_then_fail).await.len(), 1);
    assert_eq!(hits(&temporal("temporal"), &only_failures).await, vec![]);
    assert_eq!(hits(&temporal("temporal_ordered"), &fail_then_root).await.len(), 1);
    assert_eq!(hits(&temporal("temporal_ordered"), &root_then_fail).await, vec![], "root came first");
    // Too far apart for the timespan.
    let apart = vec![login(at(10, 30), ip, true, false), login(at(11, 2), ip, false, true)];
    assert_eq!(hits(&temporal("temporal_ordered"), &apart).await, vec![]);
}

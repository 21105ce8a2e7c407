//! Retro-hunts: the pack over past hours in its schedules' windows finds exactly the incidents
//! the scheduler raised over the same windows, and stores and sends nothing.

use chrono::{Duration, DurationRound, Utc};
use mantissa_backend::demo::{DemoOptions, workspace, write_demo};
use mantissa_backend::detect::fire;
use mantissa_backend::local::Lake;
use mantissa_backend::model::window::LATENESS_SETTING;
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::rules::hunt::{hunt, parse_past, windows_of};
use mantissa_backend::services::Services;
use serde_json::json;
use std::collections::BTreeSet;
use tempfile::TempDir;

const USER: &str = "soc";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunt_finds_what_the_scheduler_raised_over_the_same_windows_and_stores_nothing() {
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let dir = TempDir::new().unwrap();
    write_demo(&Lake::new(dir.path()), &DemoOptions { days: 2, seed: 42, scale: 0.2, end }).unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    s.settings.put_setting(USER, LATENESS_SETTING, &json!(0)).await.unwrap();
    let from = end - Duration::hours(6);
    let rules = workspace::starter_rules();

    let found = hunt(&s, &rules, from, end).await.unwrap();
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let windows: usize = rules.iter().map(|r| windows_of(r, from, end).unwrap().len()).sum();
    assert_eq!(found.windows, windows);
    assert!(found.queries < windows, "windows of one end share scans: {} queries", found.queries);
    assert!(!found.hits.is_empty(), "the demo's story is in the last hours");
    let q = AlertQuery { limit: Some(10_000), ..AlertQuery::default() };
    assert!(s.alerts.list_alerts(USER, &q).await.unwrap().is_empty(), "a hunt stores no alert");
    assert_eq!(s.queue.depth().await.unwrap().queued, 0, "and sends nothing");

    // The scheduler over the same windows: each rule fired at each of its window ends.
    for rule in &rules {
        let mut rule = rule.clone();
        rule.detected_until = Some(from);
        for w in windows_of(&rule, from, end).unwrap() {
            let fired = fire(&s, USER, &rule, w.end).await;
            assert_eq!(fired.error, None, "{}", rule.id);
            assert_eq!(fired.window_start, Some(w.start), "{}", rule.id);
            rule.detected_until = Some(w.end);
        }
    }
    let raised: BTreeSet<(String, String)> =
        s.alerts.list_alerts(USER, &q).await.unwrap().into_iter().map(|a| (a.rule_id, a.dedup_key)).collect();
    let hunted: BTreeSet<(String, String)> =
        found.hits.iter().map(|h| (h.rule_id.clone(), h.key.clone())).collect();
    assert_eq!(hunted, raised);
    for a in s.alerts.list_alerts(USER, &q).await.unwrap() {
        let hunted: u64 = found
            .hits
            .iter()
            .filter(|h| h.rule_id == a.rule_id && h.key == a.dedup_key)
            .map(|h| h.events)
            .sum();
        assert!(hunted >= a.event_count, "{}: {} hunted, {} in the alert", a.rule_id, hunted, a.event_count);
    }
}

#[test]
fn hunt_times_read_like_the_cli_says() {
    let now = Utc::now();
    assert_eq!(parse_past("now", now).unwrap(), now);
    assert_eq!(parse_past("7d", now).unwrap(), now - Duration::days(7));
    assert_eq!(parse_past("90m", now).unwrap(), now - Duration::minutes(90));
    assert_eq!(parse_past("2026-11-20", now).unwrap().to_rfc3339(), "2026-11-20T00:00:00+00:00");
    let e = parse_past("yesterday", now).unwrap_err().to_string();
    assert!(e.contains("a duration back"), "{e}");
}

/// A backtest against the stored rule: the same rule changes nothing, a rule that can no longer
/// match removes every incident, and a rule with no stored version adds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backtest_tells_the_incidents_an_edit_adds_and_removes() {
    use mantissa_backend::rules::hunt::backtest;
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let dir = TempDir::new().unwrap();
    write_demo(&Lake::new(dir.path()), &DemoOptions { days: 2, seed: 42, scale: 0.2, end }).unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    let from = end - Duration::hours(6);
    // A filter rule (no GROUP BY) with incidents in the last hours, so a condition can be added.
    let rules: Vec<_> =
        workspace::starter_rules().into_iter().filter(|r| !r.query.contains("GROUP BY")).collect();
    let found = hunt(&s, &rules, from, end).await.unwrap();
    let stored =
        rules.iter().find(|r| found.hits.iter().any(|h| h.rule_id == r.id)).expect("a filter rule fired");
    let incidents = found.hits.iter().filter(|h| h.rule_id == stored.id).count();

    let same = backtest(&s, stored, Some(stored), from, end).await.unwrap();
    assert_eq!((same.added.len(), same.removed.len(), same.unchanged), (0, 0, incidents), "{}", stored.id);
    assert!(same.errors.is_empty(), "{:?}", same.errors);

    let mut narrowed = stored.clone();
    narrowed.query = format!("{}\n  AND 1 = 0", narrowed.query.trim_end());
    let narrowed = backtest(&s, &narrowed, Some(stored), from, end).await.unwrap();
    assert_eq!((narrowed.added.len(), narrowed.removed.len(), narrowed.unchanged), (0, incidents, 0));
    assert!(narrowed.removed.iter().all(|h| h.rule_id == stored.id), "removed incidents name the rule");

    let new = backtest(&s, stored, None, from, end).await.unwrap();
    assert_eq!((new.added.len(), new.removed.len()), (incidents, 0));
    assert_eq!(s.alerts.list_alerts(USER, &AlertQuery::default()).await.unwrap().len(), 0, "nothing stored");

    // Asked to, a hunt raises what it found: stored and queued for delivery, once however often.
    use mantissa_backend::rules::hunt::raise;
    let hits: Vec<_> = found.hits.iter().filter(|h| h.rule_id == stored.id).cloned().collect();
    let ids = raise(&s, USER, std::slice::from_ref(stored), &hits).await.unwrap();
    assert!(!ids.is_empty() && ids.len() <= hits.len(), "{} alerts from {} hits", ids.len(), hits.len());
    let stored_alerts = s.alerts.list_alerts(USER, &AlertQuery::default()).await.unwrap();
    assert_eq!(stored_alerts.len(), ids.len());
    assert!(stored_alerts.iter().all(|a| a.rule_id == stored.id));
    let again = raise(&s, USER, std::slice::from_ref(stored), &hits).await.unwrap();
    assert_eq!(again, ids, "raising again updates the same alerts");
    assert_eq!(s.alerts.list_alerts(USER, &AlertQuery::default()).await.unwrap().len(), ids.len());
    let rule = s.rules.get_rule(USER, &stored.id).await.unwrap();
    assert!(rule.is_none_or(|r| r.detected_until.is_none()), "the live window did not move");
}

//! One scan for many rules, checked against the rules run one by one: the whole starter pack
//! over every hourly window of the demo's last day, on two copies of the same demo lake.

use chrono::{Duration, DurationRound, Utc};
use mantissa_backend::demo::{DemoOptions, workspace, write_demo};
use mantissa_backend::detect::due::Plan;
use mantissa_backend::detect::{Due, fire, fire_due};
use mantissa_backend::local::Lake;
use mantissa_backend::model::window::LATENESS_SETTING;
use mantissa_backend::model::{Alert, MAX_SAMPLE_ROWS, RunWindow};
use mantissa_backend::ports::AlertQuery;
use mantissa_backend::services::Services;
use serde_json::json;
use std::collections::BTreeSet;
use tempfile::TempDir;

const USER: &str = "soc";

async fn demo_copy(end: chrono::DateTime<Utc>) -> (TempDir, Services) {
    let dir = TempDir::new().unwrap();
    write_demo(&Lake::new(dir.path()), &DemoOptions { days: 2, seed: 42, scale: 0.2, end }).unwrap();
    let s = Services::local(dir.path()).await.unwrap();
    s.settings.put_setting(USER, LATENESS_SETTING, &json!(0)).await.unwrap();
    (dir, s)
}

/// What makes two alerts the same alert, samples compared as sets (engines may order rows
/// differently) when every event is sampled.
fn essence(a: &Alert) -> String {
    let samples: BTreeSet<String> = if a.event_count as usize <= MAX_SAMPLE_ROWS {
        a.sample_rows.iter().map(|r| r.to_string()).collect()
    } else {
        BTreeSet::new()
    };
    format!(
        "{} {} {} {} {}..{} until {:?} {samples:?}",
        a.id, a.rule_id, a.dedup_key, a.event_count, a.window_start, a.window_end, a.detected_until
    )
}

async fn alerts_of(s: &Services) -> Vec<String> {
    let q = AlertQuery { limit: Some(100_000), ..AlertQuery::default() };
    let mut out: Vec<String> = s.alerts.list_alerts(USER, &q).await.unwrap().iter().map(essence).collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_scan_makes_exactly_the_alerts_of_the_rules_run_one_by_one() {
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let (_a, alone) = demo_copy(end).await;
    let (_b, shared) = demo_copy(end).await;
    let rules = workspace::demo_rules();
    let due: Vec<Due> = rules.iter().map(|r| Due { user: USER.into(), rule: r.clone() }).collect();

    // The plan: filters of one table share a scan, so queries fall by the rules per table.
    let window = RunWindow { start: end - Duration::hours(1), end };
    let plan = Plan::of(rules.iter().map(|r| (window.render(&r.query), window)).collect());
    let shareable = plan.shared.iter().map(Vec::len).sum::<usize>();
    assert!(shareable >= 15, "most of the pack filters one table: {shareable} of {}", rules.len());
    assert!(plan.shared.len() <= 5, "one scan a table: {:?}", plan.shared);
    assert_eq!(plan.query_count(), rules.len() - shareable + plan.shared.len());
    for (i, why) in &plan.alone {
        let why = why.as_deref().unwrap_or("nothing to share with");
        assert!(!why.is_empty(), "{}", plan.queries[*i].0);
    }

    // Every hourly window of the last half day, the first one reaching a day further back.
    let mut fired_alerts = 0;
    for hour in (0..12).rev() {
        let at = end - Duration::hours(hour);
        let mut one_by_one = vec![];
        for rule in &rules {
            one_by_one.push(fire(&alone, USER, rule, at).await);
        }
        let together = fire_due(&shared, &due, at).await.fired;
        assert_eq!(together.len(), rules.len());
        for (a, b) in one_by_one.iter().zip(&together) {
            assert_eq!(a.error, None, "{} alone at {at}", a.rule_id);
            assert_eq!(b.error, None, "{} shared at {at}", b.rule_id);
            assert_eq!(
                (&a.rule_id, &a.alert_ids, a.window_start),
                (&b.rule_id, &b.alert_ids, b.window_start)
            );
            fired_alerts += a.alert_ids.len();
        }
        let shared_runs = together.iter().filter(|f| f.shared_with > 1).count();
        assert_eq!(shared_runs, shareable, "at {at}");
    }
    // The demo's stories are for the starter rules; the rest of the pack is checked on its tests
    // and the benign corpus.
    let starter = workspace::starter_rules().len();
    assert!(fired_alerts >= starter, "the demo's story fires the starter rules: {fired_alerts} alerts");
    let (left, right) = (alerts_of(&alone).await, alerts_of(&shared).await);
    assert_eq!(left.len(), right.len());
    for (l, r) in left.iter().zip(&right) {
        assert_eq!(l, r);
    }
    // Every run was counted (the embedded backend's counters, as `mantissa status` reads them).
    let totals = shared.counters.totals(USER, end - Duration::days(2)).await.unwrap();
    let runs: f64 =
        totals.iter().filter(|t| t.metric == "RuleRuns" && t.value == "RuleRuns").map(|t| t.sum).sum();
    assert_eq!(runs as usize, 12 * rules.len());
    // The runs' statistics moved the same way: every rule's window ends at the last tick.
    for rule in &rules {
        let a = alone.rules.get_rule(USER, &rule.id).await.unwrap().unwrap();
        let b = shared.rules.get_rule(USER, &rule.id).await.unwrap().unwrap();
        assert_eq!((a.detected_until, a.executions), (b.detected_until, b.executions), "{}", rule.id);
    }
}

/// At the rules' own schedules, every 5 minutes for three hours: a 15-minute tick has the
/// 5-minute rules due over another window than the 15-minute ones, and only rules of one
/// window share a scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_their_own_schedules_the_shared_runs_match_the_runs_one_by_one() {
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let (_a, alone) = demo_copy(end).await;
    let (_b, shared) = demo_copy(end).await;
    let rules = workspace::starter_rules();
    let period = |r: &mantissa_backend::model::Rule| r.schedule.approx_period().num_minutes();
    let start = end - Duration::hours(3);
    let mut ticks_with_two_windows = 0;
    for step in 0..=36 {
        let at = start + Duration::minutes(5 * step);
        let minutes = (at - start).num_minutes();
        let due: Vec<Due> = rules
            .iter()
            .filter(|r| minutes % period(r) == 0)
            .map(|r| Due { user: USER.into(), rule: r.clone() })
            .collect();
        let mut one_by_one = vec![];
        for d in &due {
            one_by_one.push(fire(&alone, USER, &d.rule, at).await);
        }
        let together = fire_due(&shared, &due, at).await;
        let windows: BTreeSet<_> = together.fired.iter().filter_map(|f| f.window_start).collect();
        ticks_with_two_windows += usize::from(windows.len() > 1);
        assert!(
            together.queries < due.len() || due.len() < 2,
            "{} queries for {} rules",
            together.queries,
            due.len()
        );
        for (a, b) in one_by_one.iter().zip(&together.fired) {
            assert_eq!((a.error.as_deref(), b.error.as_deref()), (None, None), "{} at {at}", a.rule_id);
            assert_eq!(
                (&a.rule_id, &a.alert_ids, a.window_start),
                (&b.rule_id, &b.alert_ids, b.window_start)
            );
        }
    }
    assert!(ticks_with_two_windows >= 6, "rules of different schedules were due together");
    assert_eq!(alerts_of(&alone).await, alerts_of(&shared).await);
}

#[tokio::test]
async fn a_broken_rule_in_a_shared_scan_keeps_its_error_and_the_others_run() {
    let end = Utc::now().duration_trunc(Duration::hours(1)).unwrap();
    let (_d, s) = demo_copy(end).await;
    let mut rules = workspace::starter_rules();
    rules
        .retain(|r| r.query.contains("FROM cloudtrail_logs") && !r.query.to_lowercase().contains("group by"));
    let mut broken = rules[0].clone();
    broken.id = "broken".into();
    broken.query = broken.query.replacen("eventtime", "no_such_column", 1);
    rules.push(broken);
    let due: Vec<Due> = rules.iter().map(|r| Due { user: USER.into(), rule: r.clone() }).collect();
    let fired = fire_due(&s, &due, end).await.fired;
    let (bad, good): (Vec<_>, Vec<_>) = fired.iter().partition(|f| f.rule_id == "broken");
    assert!(bad[0].error.as_deref().unwrap_or_default().contains("no_such_column"), "{:?}", bad[0].error);
    assert!(good.iter().all(|f| f.error.is_none()), "{good:?}");
    assert!(good.iter().any(|f| !f.alert_ids.is_empty()));
}

//! The rule ledger: per rule, how it runs (executions, last status and error, mean duration),
//! how noisy it is (alerts per day, the share of its closed alerts judged false or benign
//! positive) and what it costs (bytes scanned per day and Athena's bill per day and month at
//! its schedule, each run billed with Athena's 10 MB minimum).

use crate::detect::shared_scan;
use crate::error::Result;
use crate::model::{Alert, AlertStatus, Classification, Rule, RunStatus, RunWindow, athena_cost_usd};
use crate::ports::AlertQuery;
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// The look-back for alert figures.
pub const LEDGER_DAYS: i64 = 30;
/// Alerts read for the figures at most.
const MAX_ALERTS: usize = 50_000;

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub rule_id: String,
    pub name: String,
    pub enabled: bool,
    pub executions: u64,
    pub last_status: Option<RunStatus>,
    pub avg_duration_ms: f64,
    /// Alerts made in the look-back, per day.
    pub alerts_per_day: f64,
    /// Of the alerts resolved in the look-back, the share judged false or benign positive;
    /// none when none were resolved.
    pub noise_share: Option<f64>,
    /// The mean bytes a run scans, times the runs a day its schedule makes.
    pub bytes_per_day: f64,
    pub cost_per_day_usd: f64,
    /// Its schedule's runs a day, and the mean bytes a run read (its share of a shared scan).
    pub runs_per_day: f64,
    pub bytes_per_run: f64,
    pub schedule: String,
    /// Whether it shares its table's scan with the rules due with it, or why not.
    pub scan: ScanShare,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScanShare {
    /// Filters this table: runs in one scan with the other filters of it due at the same tick.
    Shares(String),
    /// Runs alone, and why (it aggregates, joins, sorts ...).
    Alone(String),
}

impl ScanShare {
    pub fn of(query: &str, now: DateTime<Utc>) -> Self {
        let window = RunWindow { start: now - Duration::hours(1), end: now };
        match shared_scan::shape(&window.render(query)) {
            Ok(shape) => ScanShare::Shares(shape.table),
            Err(why) => ScanShare::Alone(why),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ScanShare::Shares(table) => format!("shared ({table})"),
            ScanShare::Alone(why) => format!("alone: {why}"),
        }
    }
}

/// The enabled rules' Athena queries and bill a day, each rule run alone (the seed's design)
/// and with the filters of one table and schedule in one scan (at most
/// [`shared_scan::MAX_RULES_PER_SCAN`] a query), each query billed at least 10 MB.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PackCost {
    pub rules: usize,
    pub queries_per_day_alone: f64,
    pub queries_per_day_shared: f64,
    pub cost_per_day_alone_usd: f64,
    pub cost_per_day_shared_usd: f64,
}

pub fn pack_cost(rows: &[LedgerRow]) -> PackCost {
    let enabled: Vec<&LedgerRow> = rows.iter().filter(|r| r.enabled).collect();
    let mut cost = PackCost { rules: enabled.len(), ..PackCost::default() };
    let mut groups: BTreeMap<(&str, &str), Vec<&LedgerRow>> = BTreeMap::new();
    for r in &enabled {
        cost.queries_per_day_alone += r.runs_per_day;
        cost.cost_per_day_alone_usd += r.cost_per_day_usd;
        match &r.scan {
            ScanShare::Shares(table) => {
                groups.entry((r.schedule.as_str(), table.as_str())).or_default().push(r)
            }
            ScanShare::Alone(_) => {
                cost.queries_per_day_shared += r.runs_per_day;
                cost.cost_per_day_shared_usd += r.cost_per_day_usd;
            }
        }
    }
    for members in groups.values() {
        for chunk in members.chunks(shared_scan::MAX_RULES_PER_SCAN) {
            // The scan reads at most what its rules read alone together.
            let bytes: f64 = chunk.iter().map(|r| r.bytes_per_run).sum();
            let runs = chunk[0].runs_per_day;
            cost.queries_per_day_shared += runs;
            cost.cost_per_day_shared_usd += athena_cost_usd(bytes as u64) * runs;
        }
    }
    cost
}

impl LedgerRow {
    pub fn cost_per_month_usd(&self) -> f64 {
        self.cost_per_day_usd * 30.0
    }

    pub fn last_error(&self) -> Option<&str> {
        match &self.last_status {
            Some(RunStatus::Failed(e)) => Some(e),
            _ => None,
        }
    }
}

/// The ledger of `rules` from `alerts` (any of the user's; those before `now - days` are
/// left out).
pub fn ledger(rules: &[Rule], alerts: &[Alert], now: DateTime<Utc>, days: i64) -> Vec<LedgerRow> {
    let since = now - Duration::days(days);
    rules
        .iter()
        .map(|r| {
            let mine: Vec<&Alert> =
                alerts.iter().filter(|a| a.rule_id == r.id && a.created_at >= since).collect();
            let resolved: Vec<&&Alert> = mine.iter().filter(|a| a.status == AlertStatus::Resolved).collect();
            let noisy = resolved
                .iter()
                .filter(|a| {
                    matches!(
                        a.classification,
                        Some(Classification::FalsePositive | Classification::BenignPositive)
                    )
                })
                .count();
            let runs_per_day = 86_400.0 / r.schedule.approx_period().num_seconds().max(60) as f64;
            let bytes_per_run = if r.executions == 0 {
                0.0
            } else {
                r.data_scanned_mb * 1024.0 * 1024.0 / r.executions as f64
            };
            LedgerRow {
                rule_id: r.id.clone(),
                name: r.name.clone(),
                enabled: r.enabled,
                executions: r.executions,
                last_status: r.last_status.clone(),
                avg_duration_ms: r.avg_duration_ms,
                alerts_per_day: mine.len() as f64 / days.max(1) as f64,
                noise_share: (!resolved.is_empty()).then(|| noisy as f64 / resolved.len() as f64),
                bytes_per_day: bytes_per_run * runs_per_day,
                // Only enabled rules run; each run is one query with Athena's minimum.
                cost_per_day_usd: if r.enabled {
                    athena_cost_usd(bytes_per_run as u64) * runs_per_day
                } else {
                    0.0
                },
                runs_per_day,
                bytes_per_run,
                schedule: r.schedule.as_str().to_string(),
                scan: ScanShare::of(&r.query, now),
            }
        })
        .collect()
}

/// The user's ledger from the stores: the rules and their last [`LEDGER_DAYS`] of alerts.
pub async fn read(s: &Services, user_id: &str) -> Result<Vec<LedgerRow>> {
    let now = s.clock.now();
    let rules = s.rules.list_rules(user_id).await?;
    let q = AlertQuery {
        since: Some(now - Duration::days(LEDGER_DAYS)),
        limit: Some(MAX_ALERTS),
        ..Default::default()
    };
    let alerts = s.alerts.list_alerts(user_id, &q).await?;
    Ok(ledger(&rules, &alerts, now, LEDGER_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Schedule, Severity};

    #[test]
    fn figures_follow_a_known_run_history() {
        let now = Utc::now();
        let mut rule = Rule::new(
            "r1",
            "Rule one",
            "SELECT 1",
            Severity::High,
            Schedule::parse("rate(15 minutes)").unwrap(),
        );
        // 4 runs: 100, 200, 300, 400 ms; 5 MiB each; two of them alerted; the last failed.
        for (i, ms) in [100.0, 200.0, 300.0, 400.0].into_iter().enumerate() {
            let status =
                if i == 3 { RunStatus::Failed("Athena: table not found".into()) } else { RunStatus::Success };
            rule.record_run(now, ms, 5 << 20, status, i % 2 == 0);
        }
        let quiet =
            Rule::new("r2", "Rule two", "SELECT 1", Severity::Low, Schedule::parse("rate(1 hour)").unwrap());
        let alert = |id: &str, days_ago: i64, class: Option<Classification>| {
            let mut a = Alert::by_hand(id, "u", now - Duration::days(days_ago));
            a.rule_id = "r1".into();
            if let Some(c) = class {
                a.status = AlertStatus::Resolved;
                a.classification = Some(c);
            }
            a
        };
        let alerts = vec![
            alert("a1", 1, Some(Classification::FalsePositive)),
            alert("a2", 2, Some(Classification::TruePositive)),
            alert("a3", 3, Some(Classification::BenignPositive)),
            alert("a4", 4, None),
            alert("a5", 5, Some(Classification::TruePositive)),
            alert("old", 40, Some(Classification::FalsePositive)),
        ];
        let rows = ledger(&[rule, quiet], &alerts, now, 30);
        let r1 = &rows[0];
        assert_eq!(r1.executions, 4);
        assert_eq!(r1.avg_duration_ms, 250.0);
        assert_eq!(r1.last_error(), Some("Athena: table not found"));
        assert!((r1.alerts_per_day - 5.0 / 30.0).abs() < 1e-9, "the alert of 40 days ago is left out");
        assert_eq!(r1.noise_share, Some(0.5), "2 of 4 resolved judged false or benign");
        // 96 runs a day of 5 MiB: 480 MiB a day, each run billed at the 10 MB minimum.
        assert_eq!(r1.bytes_per_day, 96.0 * 5.0 * 1024.0 * 1024.0);
        assert!((r1.cost_per_day_usd - 96.0 * athena_cost_usd(0)).abs() < 1e-12);
        assert!((r1.cost_per_month_usd() - 30.0 * 96.0 * athena_cost_usd(0)).abs() < 1e-9);
        let r2 = &rows[1];
        assert_eq!((r2.executions, r2.alerts_per_day, r2.noise_share), (0, 0.0, None));
        assert_eq!(r2.bytes_per_day, 0.0);
        assert!(
            (r2.cost_per_day_usd - 24.0 * athena_cost_usd(0)).abs() < 1e-12,
            "a rule that has not run yet still costs the minimum"
        );
    }

    #[test]
    fn the_pack_costs_less_when_filters_of_a_table_share_a_scan() {
        let filter = |id: &str, event: &str| {
            let sql = format!(
                "SELECT eventtime, eventname FROM cloudtrail_logs WHERE dt >= {{window_start_dt}} AND eventname = '{event}'"
            );
            Rule::new(id, id, &sql, Severity::High, Schedule::parse("rate(5 minutes)").unwrap())
        };
        let counting = Rule::new(
            "burst",
            "burst",
            "SELECT useridentity.arn AS who, count(*) AS n FROM cloudtrail_logs GROUP BY 1",
            Severity::Low,
            Schedule::parse("rate(5 minutes)").unwrap(),
        );
        let rules: Vec<Rule> =
            (0..10).map(|i| filter(&format!("f{i}"), &format!("E{i}"))).chain([counting]).collect();
        let rows = ledger(&rules, &[], Utc::now(), 30);
        assert_eq!(rows[0].scan, ScanShare::Shares("cloudtrail_logs".into()));
        assert!(
            matches!(&rows[10].scan, ScanShare::Alone(why) if why.contains("aggregates")),
            "{:?}",
            rows[10].scan
        );
        let cost = pack_cost(&rows);
        assert_eq!(cost.rules, 11);
        assert_eq!(cost.queries_per_day_alone, 11.0 * 288.0);
        assert_eq!(cost.queries_per_day_shared, 2.0 * 288.0, "one scan for the ten filters, the count alone");
        let minimum = athena_cost_usd(0) * 288.0;
        assert!((cost.cost_per_day_alone_usd - 11.0 * minimum).abs() < 1e-12);
        assert!((cost.cost_per_day_shared_usd - 2.0 * minimum).abs() < 1e-12);
    }
}

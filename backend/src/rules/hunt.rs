//! Retro-hunts: rules run over past data in the windows their schedules would have used, and
//! what would have fired listed; nothing is stored, folded or delivered. Each window's queries
//! are planned like a live tick (one scan for the filters of one table and window).

use crate::detect::due::{Plan, scan_plan};
use crate::detect::evidence;
use crate::error::{Error, Result};
use crate::model::{Rule, RunWindow};
use crate::services::Services;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A hunt covers at most this many windows of one rule (a year of 5-minute runs).
pub const MAX_WINDOWS_PER_RULE: usize = 105_120;

/// An incident a rule would have raised in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rule_id: String,
    pub window: RunWindow,
    pub key: String,
    pub events: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Hunt {
    pub hits: Vec<Hit>,
    /// Rule windows run, and the queries they took.
    pub windows: usize,
    pub queries: usize,
    /// A rule's query that failed in a window, with the error.
    pub errors: Vec<(String, RunWindow, String)>,
}

/// `now`, `7d`/`12h`/`30m`/`2w` ago, an RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC).
pub fn parse_past(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let text = text.trim();
    let hint = "`now`, a duration back (30m, 12h, 7d, 2w) or a time (2026-11-20, 2026-11-20T18:00:00Z)";
    if text == "now" {
        return Ok(now);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    if let (n, unit @ ("m" | "h" | "d" | "w")) = text.split_at(split)
        && let Ok(n) = n.parse::<i64>()
    {
        let back = match unit {
            "m" => chrono::Duration::try_minutes(n),
            "h" => chrono::Duration::try_hours(n),
            "d" => chrono::Duration::try_days(n),
            _ => chrono::Duration::try_weeks(n),
        };
        return back
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| Error::invalid("hunt", format!("`{text}` is too far back")));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| Error::invalid("hunt", format!("`{text}` is not {hint}")))
}

/// The windows `rule`'s schedule makes between `from` and `to`: from each fire to the next,
/// the first starting at `from` and the last ending at `to`.
pub fn windows_of(rule: &Rule, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RunWindow>> {
    let mut out = vec![];
    let mut start = from;
    while start < to {
        let end = rule.schedule.next_after(start).map_or(to, |e| e.min(to));
        out.push(RunWindow { start, end });
        if out.len() > MAX_WINDOWS_PER_RULE {
            return Err(Error::invalid(
                "hunt",
                format!(
                    "rule {} would run more than {MAX_WINDOWS_PER_RULE} times from {from} to {to}; hunt a shorter span",
                    rule.id
                ),
            ));
        }
        start = end;
    }
    Ok(out)
}

/// The stored rules `ids` names (each must exist), or every enabled one when `ids` is empty.
pub async fn stored_rules(s: &Services, user: &str, ids: &[String]) -> Result<Vec<Rule>> {
    let stored = s.rules.list_rules(user).await?;
    if let Some(missing) = ids.iter().find(|id| !stored.iter().any(|r| &r.id == *id)) {
        return Err(Error::invalid(
            "rules",
            format!("no rule `{missing}` for user `{user}`; `mantissa rules list` shows them"),
        ));
    }
    Ok(stored.into_iter().filter(|r| if ids.is_empty() { r.enabled } else { ids.contains(&r.id) }).collect())
}

/// Runs `rules` over `from`..`to` as their schedules would have, and lists the incidents.
pub async fn hunt(s: &Services, rules: &[Rule], from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Hunt> {
    if from >= to {
        return Err(Error::invalid("hunt", format!("--from {from} is not before --to {to}")));
    }
    // Windows that end together run together, as one tick's rules do.
    let mut by_end: BTreeMap<DateTime<Utc>, Vec<(&Rule, RunWindow)>> = BTreeMap::new();
    for rule in rules {
        for w in windows_of(rule, from, to)? {
            by_end.entry(w.end).or_default().push((rule, w));
        }
    }
    let mut hunt = Hunt::default();
    for due in by_end.values() {
        let mut queries: Vec<(String, RunWindow)> = vec![];
        let mut query_of = vec![];
        for (rule, window) in due {
            let sql = window.render(&rule.query);
            let at = queries.iter().position(|(q, w)| *q == sql && w == window).unwrap_or_else(|| {
                queries.push((sql, *window));
                queries.len() - 1
            });
            query_of.push(at);
        }
        let plan = Plan::of(queries);
        hunt.windows += due.len();
        hunt.queries += plan.query_count();
        let scanned = scan_plan(s, &plan).await;
        for ((rule, window), q) in due.iter().zip(query_of) {
            let batches = match &scanned[q].rows {
                Ok(b) => b,
                Err(e) => {
                    hunt.errors.push((rule.id.clone(), *window, e.clone()));
                    continue;
                }
            };
            let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
            if !rule.threshold.is_exceeded_by(rows) {
                continue;
            }
            for incident in evidence::incidents(rule, batches, rows) {
                let (first, last) = incident.bounds(*window);
                hunt.hits.push(Hit {
                    rule_id: rule.id.clone(),
                    window: *window,
                    events: incident.count(),
                    key: incident.key,
                    first,
                    last,
                });
            }
        }
    }
    hunt.hits.sort_by(|a, b| (a.first, &a.rule_id).cmp(&(b.first, &b.rule_id)));
    Ok(hunt)
}

/// An edited rule against the stored one over the same windows: the incidents the edit adds,
/// the ones it removes, and how many both raise.
#[derive(Debug, Clone, Default)]
pub struct Backtest {
    pub added: Vec<Hit>,
    pub removed: Vec<Hit>,
    pub unchanged: usize,
    pub windows: usize,
    pub queries: usize,
    pub errors: Vec<(String, RunWindow, String)>,
}

/// The id the stored rule runs under while both are hunted together (their scans are shared).
const STORED: &str = "stored version of ";

/// Runs `edited` and `stored` (`None` for a new rule) over `from`..`to` in the edited rule's
/// windows. An incident is the same when both raise it in the same window with the same key.
pub async fn backtest(
    s: &Services,
    edited: &Rule,
    stored: Option<&Rule>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Backtest> {
    let mut rules = vec![edited.clone()];
    if let Some(stored) = stored {
        let mut before = stored.clone();
        before.id = format!("{STORED}{}", stored.id);
        before.schedule = edited.schedule.clone();
        rules.push(before);
    }
    let found = hunt(s, &rules, from, to).await?;
    let (before, after): (Vec<Hit>, Vec<Hit>) =
        found.hits.into_iter().partition(|h| h.rule_id.starts_with(STORED));
    let same = |a: &Hit, b: &Hit| a.window == b.window && a.key == b.key;
    // Both rules run in the same windows: count them once.
    let mut out =
        Backtest { windows: found.windows / rules.len(), queries: found.queries, ..Default::default() };
    for hit in &after {
        if before.iter().any(|b| same(b, hit)) {
            out.unchanged += 1;
        } else {
            out.added.push(hit.clone());
        }
    }
    out.removed = before
        .into_iter()
        .filter(|b| !after.iter().any(|a| same(a, b)))
        .map(|mut b| {
            b.rule_id = edited.id.clone();
            b
        })
        .collect();
    out.errors = found
        .errors
        .into_iter()
        .map(|(id, w, e)| match id.strip_prefix(STORED) {
            Some(original) => (format!("{original} (stored)"), w, e),
            None => (id, w, e),
        })
        .collect();
    Ok(out)
}

/// Raises what a hunt found, when asked (`rules hunt --raise`): each window with hits runs
/// again as a scheduled run of it would, and its alerts are stored and routed. The rules' live
/// windows do not move; an alert already raised for an incident is updated, not doubled.
/// Returns the alert ids.
pub async fn raise(s: &Services, user: &str, rules: &[Rule], hits: &[Hit]) -> Result<Vec<String>> {
    let mut windows: Vec<(&str, RunWindow)> = hits.iter().map(|h| (h.rule_id.as_str(), h.window)).collect();
    windows.sort_by_key(|(id, w)| (w.start, *id));
    windows.dedup();
    let mut ids = vec![];
    for (rule_id, window) in windows {
        let Some(rule) = rules.iter().find(|r| r.id == rule_id) else { continue };
        let outcome = crate::detect::executor::run_window(s, user, rule, window).await?;
        if let Some(e) = outcome.error {
            return Err(Error::invalid("hunt", format!("rule {rule_id} over {window}: {e}")));
        }
        for mut alert in outcome.alerts {
            crate::detect::route_alert(s, rule, &mut alert).await?;
            ids.push(alert.id);
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

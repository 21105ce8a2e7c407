//! The rules due at one tick, run together: a query that several users' rules have in common
//! runs once, filters of one table and window share one scan ([`super::shared_scan`]), and the
//! rest run alone; each rule then gets exactly the rows its own query would have returned.

use super::executor::{RunOutcome, Scan, Scanned, lateness_secs, outcome_of, scan_alone, window_after_last};
use super::shared_scan::{self, MAX_RULES_PER_SCAN, MAX_SHARED_SQL_BYTES, Shape};
use crate::error::{Error, Result};
use crate::model::{Rule, RunWindow};
use crate::ports::HELD_ROWS;
use crate::query::run_to_end;
use crate::services::Services;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Queries in flight at once (Athena's concurrency quota is shared by every caller).
const PARALLEL_QUERIES: usize = 4;
/// Rule reads in flight at once when a tick finds each rule's window.
const WINDOW_READS_AT_ONCE: usize = 16;

/// Queries share a scan when they read one table over one window.
type ScanKey = (String, DateTime<Utc>, DateTime<Utc>);

/// A rule due for a run, and whose it is.
#[derive(Debug, Clone)]
pub struct Due {
    pub user: String,
    pub rule: Rule,
}

/// What one tick's queries will be: distinct rendered queries, and which run together.
#[derive(Debug, Default)]
pub struct Plan {
    /// Each distinct query's text and the window it was rendered for.
    pub queries: Vec<(String, RunWindow)>,
    /// Groups of query indexes that share one scan (two or more each).
    pub shared: Vec<Vec<usize>>,
    /// Queries run alone, with the reason they could not share (none when no other query of
    /// their table and window was due).
    pub alone: Vec<(usize, Option<String>)>,
}

impl Plan {
    /// How many queries the engine runs for this plan.
    pub fn query_count(&self) -> usize {
        self.shared.len() + self.alone.len()
    }

    /// Plans `queries`: shareable ones grouped by table and window, in chunks Athena accepts.
    pub fn of(queries: Vec<(String, RunWindow)>) -> Plan {
        let mut groups: BTreeMap<ScanKey, Vec<(usize, Shape)>> = BTreeMap::new();
        let mut alone = vec![];
        for (i, (sql, window)) in queries.iter().enumerate() {
            match shared_scan::shape(sql) {
                Ok(shape) => groups
                    .entry((shape.table.clone(), window.start, window.end))
                    .or_default()
                    .push((i, shape)),
                Err(why) => alone.push((i, Some(why))),
            }
        }
        let mut shared = vec![];
        for members in groups.into_values() {
            let mut chunk: Vec<&(usize, Shape)> = vec![];
            for member in &members {
                chunk.push(member);
                let shapes: Vec<&Shape> = chunk.iter().map(|(_, s)| s).collect();
                if chunk.len() > MAX_RULES_PER_SCAN
                    || shared_scan::combine(&shapes).len() > MAX_SHARED_SQL_BYTES
                {
                    chunk.pop();
                    if !chunk.is_empty() {
                        shared.push(chunk.iter().map(|(i, _)| *i).collect::<Vec<_>>());
                    }
                    chunk = vec![member];
                }
            }
            shared.push(chunk.iter().map(|(i, _)| *i).collect());
        }
        // A group of one is a query alone: nothing of its table and window to share with.
        for group in std::mem::take(&mut shared) {
            match group.as_slice() {
                [] => {}
                [only] => alone.push((*only, None)),
                _ => shared.push(group),
            }
        }
        alone.sort();
        Plan { queries, shared, alone }
    }
}

/// Each due rule's outcome, in the order given, and how many queries the plan ran. A shared
/// scan that fails is retried as its rules' own queries, so one rule's error is its own.
pub async fn run_due(s: &Services, due: &[Due], fired_at: DateTime<Utc>) -> (Vec<Result<RunOutcome>>, usize) {
    // Each user's lateness once, then every rule's last window, a few reads at a time (a
    // tick of thousands of rules must not read them one after another).
    let mut lateness: HashMap<&str, std::result::Result<u64, String>> = HashMap::new();
    for d in due {
        if !lateness.contains_key(d.user.as_str()) {
            let read = lateness_secs(s, &d.user).await.map_err(|e| e.to_string());
            lateness.insert(&d.user, read);
        }
    }
    let reads: Vec<_> = due
        .iter()
        .map(|d| {
            let lateness = lateness[d.user.as_str()].clone();
            async move {
                match lateness {
                    Ok(l) => window_after_last(s, &d.user, &d.rule, fired_at, l).await,
                    Err(e) => Err(Error::backend("lateness setting", e)),
                }
            }
        })
        .collect();
    let windows: Vec<Result<Option<RunWindow>>> =
        futures::stream::iter(reads).buffered(WINDOW_READS_AT_ONCE).collect().await;
    let mut queries: Vec<(String, RunWindow)> = vec![];
    let mut query_of = vec![None; due.len()];
    for (i, d) in due.iter().enumerate() {
        if let Ok(Some(window)) = &windows[i] {
            let sql = window.render(&d.rule.query);
            let at = match queries.iter().position(|(q, w)| *q == sql && w == window) {
                Some(at) => at,
                None => {
                    queries.push((sql, *window));
                    queries.len() - 1
                }
            };
            query_of[i] = Some(at);
        }
    }
    let plan = Plan::of(queries);
    let scanned = scan_plan(s, &plan).await;
    // A query several rules have in common: each is billed its share.
    let mut users_of = vec![0u64; plan.queries.len()];
    for q in query_of.iter().flatten() {
        users_of[*q] += 1;
    }
    let mut out = vec![];
    for ((d, window), q) in due.iter().zip(windows).zip(query_of) {
        let outcome = match (window, q) {
            (Err(e), _) => Err(e),
            (Ok(None), _) | (Ok(Some(_)), None) => Ok(RunOutcome::nothing_due()),
            (Ok(Some(window)), Some(q)) => {
                let mut mine = scanned[q].clone();
                mine.bytes_scanned /= users_of[q].max(1);
                outcome_of(s, &d.user, &d.rule, window, mine).await
            }
        };
        out.push(outcome);
    }
    (out, plan.query_count())
}

/// Runs the plan's queries, at most [`PARALLEL_QUERIES`] at a time; the result of each
/// distinct query by index.
pub async fn scan_plan(s: &Services, plan: &Plan) -> Vec<Scanned> {
    let jobs: Vec<_> = plan
        .alone
        .iter()
        .map(|(i, why)| Job::Alone(*i, why.clone()))
        .chain(plan.shared.iter().map(|g| Job::Shared(g)))
        .map(|job| run_job(s, plan, job))
        .collect();
    let results: Vec<Vec<(usize, Scanned)>> =
        futures::stream::iter(jobs).buffer_unordered(PARALLEL_QUERIES).collect().await;
    let mut by_index: Vec<Option<Scanned>> = (0..plan.queries.len()).map(|_| None).collect();
    for (i, scanned) in results.into_iter().flatten() {
        by_index[i] = Some(scanned);
    }
    by_index
        .into_iter()
        .map(|s| {
            s.unwrap_or(Scanned {
                rows: Err("the query was not run (a bug; please report it)".into()),
                counted: 0,
                bytes_scanned: 0,
                duration_ms: 0.0,
                scan: Scan::Alone(None),
            })
        })
        .collect()
}

enum Job<'a> {
    Alone(usize, Option<String>),
    Shared(&'a [usize]),
}

async fn run_job(s: &Services, plan: &Plan, job: Job<'_>) -> Vec<(usize, Scanned)> {
    match job {
        Job::Alone(i, why) => vec![(i, scan_alone(s, &plan.queries[i].0, why).await)],
        Job::Shared(group) => scan_shared(s, plan, group).await,
    }
}

async fn scan_shared(s: &Services, plan: &Plan, group: &[usize]) -> Vec<(usize, Scanned)> {
    let shapes: Vec<Shape> =
        group.iter().filter_map(|i| shared_scan::shape(&plan.queries[*i].0).ok()).collect();
    let mut why = "the shared scan failed, so it ran alone".to_string();
    if shapes.len() == group.len() {
        let refs: Vec<&Shape> = shapes.iter().collect();
        let started = Instant::now();
        let result = run_to_end(s.engine.as_ref(), &shared_scan::combine(&refs)).await;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        // A scan past the rows read cannot say which rule matched the rest: each runs alone.
        if let Ok(out) = &result
            && out.unread
        {
            why = format!("the shared scan returned more than {HELD_ROWS} rows, so it ran alone");
        }
        if let Ok(out) = &result
            && !out.unread
        {
            let bytes = out.status.stats.bytes_scanned / group.len() as u64;
            return group
                .iter()
                .zip(&shapes)
                .enumerate()
                .map(|(k, (i, shape))| {
                    let rows = shared_scan::split(&out.batches, k, shape);
                    let scan = Scan::Shared(group.len());
                    (*i, Scanned { rows, counted: 0, bytes_scanned: bytes, duration_ms, scan })
                })
                .collect();
        }
    }
    let mut out = vec![];
    for i in group {
        out.push((*i, scan_alone(s, &plan.queries[*i].0, Some(why.clone())).await));
    }
    out
}

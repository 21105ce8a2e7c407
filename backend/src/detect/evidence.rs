//! A run's result rows as evidence: grouped by the rule's dedup fields into incidents, each
//! with its event count, first and last event time, and sample rows.

use crate::model::{MAX_SAMPLE_ROWS, Rule, RunWindow};
use chrono::{DateTime, NaiveDateTime, Utc};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value;
use std::collections::BTreeMap;

/// Rows read as JSON to split a run into incidents; rows past it are counted, not split.
pub const MAX_SPLIT_ROWS: usize = 10_000;

/// The columns that carry an event's time, in the order they are looked for (CloudTrail,
/// VPC Flow, S3 access, Lambda, aggregates).
const TIME_COLUMNS: [&str; 10] = [
    "eventtime",
    "event_time",
    "first_seen",
    "start",
    "requestdatetime",
    "timestamp",
    "time",
    "hour",
    "window_start",
    "last_seen",
];

/// One result row and its event time, if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub at: Option<DateTime<Utc>>,
    pub value: Value,
}

/// A run's rows for one dedup key.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub key: String,
    pub rows: Vec<Row>,
    /// Rows counted past [`MAX_SPLIT_ROWS`], not read.
    pub extra: u64,
}

impl Incident {
    pub fn count(&self) -> u64 {
        self.rows.len() as u64 + self.extra
    }

    /// The first and last event time, or the window's bounds when no row has a time.
    pub fn bounds(&self, window: RunWindow) -> (DateTime<Utc>, DateTime<Utc>) {
        let times = self.rows.iter().filter_map(|r| r.at);
        match (times.clone().min(), times.max()) {
            (Some(a), Some(b)) => (a, b),
            _ => (window.start, window.end),
        }
    }

    pub fn samples(&self) -> Vec<Value> {
        self.rows.iter().take(MAX_SAMPLE_ROWS).map(|r| r.value.clone()).collect()
    }

    /// Only what an alert that has seen events up to `seen_until` has not: the rows at or
    /// after it. Rows without a time (and uncounted extras) are new only when the whole window
    /// is. This is what makes a run retried over a longer window count nothing twice.
    pub fn unseen(mut self, seen_until: Option<DateTime<Utc>>, window: RunWindow) -> Incident {
        let Some(seen) = seen_until.filter(|s| *s > window.start) else { return self };
        self.rows.retain(|r| r.at.is_some_and(|t| t >= seen));
        self.extra = 0;
        self
    }
}

/// The first `n` rows as JSON objects.
pub fn rows_as_json(batches: &[RecordBatch], n: usize) -> Vec<Value> {
    let mut w = arrow_json::ArrayWriter::new(Vec::new());
    let mut left = n;
    for b in batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        if w.write(&b.slice(0, take)).is_err() {
            break;
        }
        left -= take;
    }
    if w.finish().is_err() {
        return vec![];
    }
    serde_json::from_slice(&w.into_inner()).unwrap_or_default()
}

/// The rule's dedup field values in `row` (`principal=bob,sourceipaddress=...`), sorted.
pub fn dedup_key(rule: &Rule, row: &Value) -> String {
    let Some(object) = row.as_object() else { return String::new() };
    let mut parts: Vec<String> = rule
        .dedup
        .fields
        .iter()
        .filter_map(|field| {
            let wanted = field.to_ascii_lowercase();
            let (_, v) = object.iter().find(|(k, _)| k.to_ascii_lowercase() == wanted)?;
            let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            Some(format!("{wanted}={text}"))
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts.join(",")
}

/// The row's event time, from the first time column it has; `None` when it has none or the
/// value is not a time in range.
pub fn event_time(row: &Value) -> Option<DateTime<Utc>> {
    let object = row.as_object()?;
    TIME_COLUMNS.iter().find_map(|name| {
        let (_, v) = object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        parse_time(v)
    })
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => {
            DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
                ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                    .map(|n| n.and_utc())
            })
        }
        // Epoch seconds (VPC Flow's start) or milliseconds (Lambda's timestamp).
        Value::Number(n) => {
            let n = n.as_i64()?;
            if n.unsigned_abs() < 100_000_000_000 {
                DateTime::from_timestamp(n, 0)
            } else {
                DateTime::from_timestamp_millis(n)
            }
        }
        _ => None,
    }
}

/// The run's rows grouped by dedup key, in key order; rows past [`MAX_SPLIT_ROWS`] are
/// counted in the first incident.
pub fn incidents(rule: &Rule, batches: &[RecordBatch], rows: u64) -> Vec<Incident> {
    let json = rows_as_json(batches, MAX_SPLIT_ROWS);
    let mut by_key: BTreeMap<String, Incident> = BTreeMap::new();
    for value in json {
        let key = dedup_key(rule, &value);
        let incident = by_key.entry(key.clone()).or_insert_with(|| Incident { key, rows: vec![], extra: 0 });
        incident.rows.push(Row { at: event_time(&value), value });
    }
    let mut out: Vec<Incident> = by_key.into_values().collect();
    let split = out.iter().map(Incident::count).sum::<u64>();
    match out.first_mut() {
        Some(first) => first.extra = rows.saturating_sub(split),
        // Rows that did not read as JSON: one incident, counted.
        None if rows > 0 => out.push(Incident { key: String::new(), rows: vec![], extra: rows }),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use serde_json::json;

    #[test]
    fn keys_and_times_come_from_the_rows() {
        let mut rule = Rule::new("r", "R", "SELECT 1", Severity::High, "rate(5 minutes)".parse().unwrap());
        rule.dedup.fields = vec!["Principal".into(), "sourceIPAddress".into()];
        let row = json!({"principal": "bob", "sourceipaddress": "203.0.113.7", "eventtime": "2024-11-20T10:00:00Z"});
        assert_eq!(dedup_key(&rule, &row), "principal=bob,sourceipaddress=203.0.113.7");
        assert_eq!(event_time(&row).unwrap().to_rfc3339(), "2024-11-20T10:00:00+00:00");
        assert_eq!(
            event_time(&json!({"start": 1732096800})).unwrap().to_rfc3339(),
            "2024-11-20T10:00:00+00:00"
        );
        assert_eq!(
            event_time(&json!({"hour": "2024-11-20T10:00:00"})).unwrap().to_rfc3339(),
            "2024-11-20T10:00:00+00:00"
        );
        assert_eq!(
            event_time(&json!({"timestamp": 1732096800123i64})).unwrap().timestamp_millis(),
            1732096800123
        );
        // Out of range or not a time: none, never a panic.
        assert_eq!(event_time(&json!({"start": i64::MAX})), None);
        assert_eq!(event_time(&json!({"eventtime": "yesterday"})), None);
    }

    #[test]
    fn a_longer_retry_counts_only_what_is_new() {
        let t = |m: i64| {
            chrono::DateTime::parse_from_rfc3339("2024-11-20T10:00:00Z").unwrap().to_utc()
                + chrono::Duration::minutes(m)
        };
        let row = |m: i64| Row { at: Some(t(m)), value: json!({"eventtime": t(m).to_rfc3339()}) };
        let incident = Incident { key: "k".into(), rows: vec![row(1), row(6), row(9)], extra: 0 };
        let window = RunWindow { start: t(0), end: t(10) };
        // Seen up to minute 5 by an earlier try of this window: two rows are new.
        assert_eq!(incident.clone().unseen(Some(t(5)), window).count(), 2);
        // Seen only up to the window's start: all new.
        assert_eq!(incident.clone().unseen(Some(t(0)), window).count(), 3);
        assert_eq!(incident.clone().unseen(None, window).bounds(window), (t(1), t(9)));
        let timeless = Incident { key: "k".into(), rows: vec![Row { at: None, value: json!({}) }], extra: 4 };
        assert_eq!(timeless.clone().unseen(Some(t(5)), window).count(), 0);
        assert_eq!(timeless.bounds(window), (t(0), t(10)));
    }
}

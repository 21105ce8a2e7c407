//! Sigma correlations over sliding windows: every matching event in the run's window is the end
//! of a timespan reaching back before the window, so a burst that straddles two runs is still
//! counted whole. Serves event_count, value_count, temporal and temporal_ordered.

use super::Failure;
use super::aggregation::CmpOp;
use super::fields::{EventTime, Field, Table};
use super::sql::{Pred, operand, quote};

/// What a timespan ending at an event must hold.
pub(crate) enum Measure {
    /// Matching events (`event_count`).
    Events,
    /// Distinct values of a field (`value_count`).
    Values(Field),
    /// Distinct referenced rules, or with `ordered` the rules matching one after another
    /// (`temporal`, `temporal_ordered`).
    Rules { ordered: bool },
}

pub(crate) struct Sliding<'a> {
    pub table: &'a Table,
    /// `(rule name, condition)` per referenced rule; one entry for the counting types.
    pub branches: Vec<(String, Pred)>,
    pub group_by: Vec<Field>,
    pub measure: Measure,
    pub thresholds: Vec<(CmpOp, u64)>,
    pub span_secs: u64,
}

/// The query: one row per group with a timespan that ended inside the run's window and met the
/// thresholds, with the largest count and the first and last such ends.
pub(crate) fn sliding_query(q: Sliding) -> Result<String, Failure> {
    let span = q.span_secs;
    let (at, seen, lookback) = match q.table.event_time {
        EventTime::Iso8601(column) => (
            format!("from_iso8601_timestamp({column})"),
            column,
            vec![
                format!(
                    "dt BETWEEN date_format(from_iso8601_timestamp({{window_start_iso}}) - INTERVAL '{span}' SECOND, \
                     '%Y-%m-%d') AND {{window_end_dt}}"
                ),
                format!(
                    "from_iso8601_timestamp({column}) > from_iso8601_timestamp({{window_start_iso}}) - INTERVAL '{span}' SECOND"
                ),
                format!("{column} < {{window_end_iso}}"),
            ],
        ),
        EventTime::UnixSeconds(column) => (
            format!("from_unixtime({column})"),
            column,
            vec![
                format!(
                    "dt BETWEEN date_format(from_unixtime({{window_start_unix}} - {span}), '%Y-%m-%d') AND {{window_end_dt}}"
                ),
                format!("{column} > {{window_start_unix}} - {span}"),
                format!("{column} < {{window_end_unix}}"),
            ],
        ),
        EventTime::PartitionOnly => {
            return Err(Failure::new(
                format!("correlation over {}", q.table.name),
                "its rows carry no event time the engines can compare, so a timespan cannot slide; \
                 correlate rules over a table with event times",
            ));
        }
    };
    let window_start = match q.table.event_time {
        EventTime::UnixSeconds(_) => "from_unixtime({window_start_unix})",
        _ => "from_iso8601_timestamp({window_start_iso})",
    };
    let keys: Vec<&str> = q.group_by.iter().map(|g| g.label.as_str()).collect();
    let mut key_items: Vec<String> =
        q.group_by.iter().map(|g| format!("{} AS {}", g.value_sql(), g.label)).collect();
    if let Measure::Values(field) = &q.measure {
        key_items.push(format!("{} AS counted", field.value_sql()));
    }
    let branches: Vec<String> = q
        .branches
        .iter()
        .map(|(name, condition)| {
            let mut items = key_items.clone();
            items.push(format!("{} AS rule_name", quote(name)));
            items.push(format!("{at} AS at"));
            items.push(format!("{seen} AS seen"));
            let mut filters = lookback.clone();
            filters.push(operand(condition, 4));
            format!(
                "  SELECT {}\n  FROM {}\n  WHERE {}",
                items.join(", "),
                q.table.name,
                filters.join("\n    AND ")
            )
        })
        .collect();
    let same_group = |a: &str, b: &str| -> Vec<String> {
        // Parenthesized: some parsers bind `IS NOT DISTINCT FROM` looser than AND.
        keys.iter().map(|k| format!("({a}.{k} IS NOT DISTINCT FROM {b}.{k})")).collect()
    };
    let prefixed = |p: &str| keys.iter().map(|k| format!("{p}.{k}")).collect::<Vec<_>>();
    let with_keys = |p: &str, rest: &[&str]| {
        let mut cols = prefixed(p);
        cols.extend(rest.iter().map(|r| r.to_string()));
        cols.join(", ")
    };
    let mut sql = format!("WITH matched AS (\n{}\n),\n", branches.join("\n  UNION ALL\n"));
    let (measure_sql, alias, span_ctes) = match &q.measure {
        Measure::Events | Measure::Values(_) | Measure::Rules { ordered: false } => {
            let (count, alias) = match &q.measure {
                Measure::Events => ("count(*)", "event_count"),
                Measure::Values(_) => ("count(DISTINCT m.counted)", "value_count"),
                _ => ("count(DISTINCT m.rule_name)", "rule_count"),
            };
            let mut on = same_group("e", "m");
            on.push(format!("m.at > e.at - INTERVAL '{span}' SECOND"));
            on.push("m.at <= e.at".to_string());
            let having: Vec<String> =
                q.thresholds.iter().map(|(op, value)| format!("{count} {} {value}", op.sql())).collect();
            let ends = format!(
                "ends AS (\n  SELECT DISTINCT {} FROM matched WHERE at >= {window_start}\n),\n",
                with_keys("matched", &["at", "seen"])
            );
            let spans = format!(
                "spans AS (\n  SELECT {}, {count} AS {alias}\n  FROM ends e JOIN matched m\n    ON {}\n  GROUP BY {}{}\n)\n",
                with_keys("e", &["e.at", "e.seen"]),
                on.join("\n    AND "),
                with_keys("e", &["e.at", "e.seen"]),
                if having.is_empty() {
                    String::new()
                } else {
                    format!("\n  HAVING {}", having.join(" AND "))
                }
            );
            (alias, alias, ends + &spans)
        }
        Measure::Rules { ordered: true } => {
            let names: Vec<&str> = q.branches.iter().map(|(n, _)| n.as_str()).collect();
            let Some((last, before)) = names.split_last() else {
                return Err(Failure::new("temporal_ordered correlation", "list the rules in their order"));
            };
            // Each step keeps the earliest match of the next rule after the previous step's,
            // within the timespan ending at an event of the last rule: the greedy chain exists
            // exactly when the rules matched in order.
            let mut ctes = format!(
                "ends AS (\n  SELECT DISTINCT {} FROM matched WHERE rule_name = {} AND at >= {window_start}\n),\n",
                with_keys("matched", &["at", "seen", "at AS reached"]),
                quote(last)
            );
            let mut previous = "ends".to_string();
            for (i, name) in before.iter().enumerate() {
                let step = format!("step{}", i + 1);
                let mut on = same_group("p", "m");
                on.push(format!("m.rule_name = {}", quote(name)));
                on.push(format!("m.at > p.at - INTERVAL '{span}' SECOND"));
                if i > 0 {
                    on.push("m.at >= p.reached".to_string());
                }
                on.push("m.at <= p.at".to_string());
                ctes.push_str(&format!(
                    "{step} AS (\n  SELECT {}, min(m.at) AS reached\n  FROM {previous} p JOIN matched m\n    ON {}\n  GROUP BY {}\n),\n",
                    with_keys("p", &["p.at", "p.seen"]),
                    on.join("\n    AND "),
                    with_keys("p", &["p.at", "p.seen"]),
                ));
                previous = step;
            }
            ctes.push_str(&format!(
                "spans AS (\n  SELECT {}, {} AS rule_count FROM {previous} p WHERE p.reached <= p.at\n)\n",
                with_keys("p", &["p.at", "p.seen"]),
                names.len()
            ));
            ("rule_count", "rule_count", ctes)
        }
    };
    sql.push_str(&span_ctes);
    let mut items: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    items.push(format!("max({measure_sql}) AS {alias}"));
    items.push("min(seen) AS first_seen".to_string());
    items.push("max(seen) AS last_seen".to_string());
    sql.push_str(&format!("SELECT {}\nFROM spans", items.join(", ")));
    if !keys.is_empty() {
        sql.push_str(&format!("\nGROUP BY {}", keys.join(", ")));
    }
    // Without groups an aggregate over no spans is still one row: keep only real ones.
    sql.push_str("\nHAVING count(*) > 0");
    Ok(sql)
}

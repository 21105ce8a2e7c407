//! Assembles whole SELECT statements: projection, the look-back window, grouping and thresholds.

use super::Failure;
use super::aggregation::CmpOp;
use super::fields::{EventTime, Field, Table};
use super::sql::{Pred, operand};

/// The run window's filter (its placeholders filled in at each run): the `dt` partition
/// prunes whole days, the event time does the rest. The rule runs once per timeframe, so each
/// run's window is the Sigma rule's timeframe.
fn window(table: &Table) -> Vec<Pred> {
    let mut preds = vec![Pred::leaf("dt BETWEEN {window_start_dt} AND {window_end_dt}".to_string())];
    match table.event_time {
        EventTime::Iso8601(column) => {
            preds.push(Pred::leaf(format!("{column} >= {{window_start_iso}}")));
            preds.push(Pred::leaf(format!("{column} < {{window_end_iso}}")));
        }
        EventTime::UnixSeconds(column) => {
            preds.push(Pred::leaf(format!("{column} >= {{window_start_unix}}")));
            preds.push(Pred::leaf(format!("{column} < {{window_end_unix}}")));
        }
        EventTime::PartitionOnly => {}
    }
    preds
}

fn where_clause(table: &Table, condition: Pred) -> String {
    let mut items = window(table);
    match condition {
        Pred::And(parts) => items.extend(parts),
        other => items.push(other),
    }
    let rendered: Vec<String> = items.iter().map(|p| operand(p, 2)).collect();
    format!("WHERE {}", rendered.join("\n  AND "))
}

fn select_list(items: &[String]) -> String {
    if items == ["*"] { "SELECT *".to_string() } else { format!("SELECT\n  {}", items.join(",\n  ")) }
}

/// One row per matching event.
pub(crate) fn detection_query(table: &Table, condition: Pred, used: &[Field]) -> String {
    let mut items = Vec::new();
    let mut seen = Vec::new();
    for (sql, alias) in table.projection {
        items.push(match alias {
            Some(alias) => format!("{sql} AS {alias}"),
            None => sql.to_string(),
        });
        seen.push(sql.to_string());
    }
    if items.is_empty() {
        items.push("*".to_string());
    } else {
        for field in used {
            let sql = field.value_sql();
            if !seen.contains(&sql) {
                items.push(field.select_item());
                seen.push(sql);
            }
        }
    }
    format!("{}\nFROM {}\n{}", select_list(&items), table.name, where_clause(table, condition))
}

pub(crate) struct CountQuery<'a> {
    pub table: &'a Table,
    pub condition: Pred,
    pub group_by: Vec<Field>,
    /// Count distinct values of this field instead of events.
    pub distinct: Option<Field>,
    pub thresholds: Vec<(CmpOp, u64)>,
}

/// One row per group whose count passes every threshold.
pub(crate) fn count_query(q: CountQuery) -> Result<String, Failure> {
    let mut group_by: Vec<Field> = Vec::new();
    for field in q.group_by {
        if !group_by.iter().any(|g| g.value_sql() == field.value_sql()) {
            group_by.push(field);
        }
    }
    if let Some(distinct) = &q.distinct
        && group_by.iter().any(|g| g.value_sql() == distinct.value_sql())
        && !q.thresholds.iter().all(|(op, value)| op.holds(1, *value))
    {
        return Err(Failure::new(
            format!("count(`{}`) grouped by the same field", distinct.sigma),
            "the number of distinct values of a field within groups of that same field is always 1, so the \
             threshold can never be reached; count events with count() or count a different field",
        ));
    }
    let (count, alias) = match &q.distinct {
        Some(field) => (format!("count(DISTINCT {})", field.value_sql()), "value_count"),
        None => ("count(*)".to_string(), "event_count"),
    };
    let mut items: Vec<String> = group_by.iter().map(Field::select_item).collect();
    items.push(format!("{count} AS {alias}"));
    if let EventTime::Iso8601(column) | EventTime::UnixSeconds(column) = q.table.event_time {
        items.push(format!("min({column}) AS first_seen"));
        items.push(format!("max({column}) AS last_seen"));
    }
    let mut sql =
        format!("{}\nFROM {}\n{}", select_list(&items), q.table.name, where_clause(q.table, q.condition));
    if !group_by.is_empty() {
        let keys: Vec<String> = group_by.iter().map(Field::value_sql).collect();
        sql.push_str(&format!("\nGROUP BY {}", keys.join(", ")));
    }
    let having: Vec<String> =
        q.thresholds.iter().map(|(op, value)| format!("{count} {} {value}", op.sql())).collect();
    if !having.is_empty() {
        sql.push_str(&format!("\nHAVING {}", having.join(" AND ")));
    }
    Ok(sql)
}

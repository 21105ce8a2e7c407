//! VPC Flow Logs: the default version 2 format, or a custom format named by a header line
//! (`version account-id ... flow-direction`), with `-` for missing values.

use super::{Parsed, lines};
use crate::model::Table;
use serde_json::{Map, Value};

const DEFAULT_V2: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

fn column_of(field: &str) -> String {
    field.replace('-', "_")
}

fn looks_like_header(line: &str) -> bool {
    line.split_whitespace().next().is_some_and(|t| t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
}

/// Ports and protocol numbers past their range (conforming checks only the column's type).
fn out_of_range(column: &str, value: &str) -> Option<String> {
    let max: u64 = match column {
        "srcport" | "dstport" => 65_535,
        "protocol" => 255,
        _ => return None,
    };
    let n: u64 = value.parse().ok()?;
    (n > max).then(|| format!("`{column}`: {n} is out of range (0 to {max})"))
}

pub(super) fn parse(name: &str, text: &str, out: &mut Parsed) {
    let known: Vec<String> = Table::VpcFlow.file_schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut columns: Vec<Option<String>> = DEFAULT_V2.iter().map(|f| Some(column_of(f))).collect();
    let mut header_text = DEFAULT_V2.join(" ");
    for (n, line) in lines(text) {
        if looks_like_header(line) {
            columns = line
                .split_whitespace()
                .map(|f| {
                    let c = column_of(f);
                    if known.contains(&c) {
                        Some(c)
                    } else {
                        out.issue(
                            format!("{name}:{n}"),
                            format!(
                                "unknown flow log field `{f}`; its values are left out (known: {})",
                                known.join(", ").replace('_', "-")
                            ),
                        );
                        None
                    }
                })
                .collect();
            header_text = line.split_whitespace().collect::<Vec<_>>().join(" ");
            continue;
        }
        let values: Vec<&str> = line.split_whitespace().collect();
        if values.len() != columns.len() {
            out.bad(
                format!("{name}:{n}"),
                format!(
                    "expected {} fields ({header_text}), found {}; a custom format needs its header line first",
                    columns.len(),
                    values.len()
                ),
            );
            continue;
        }
        if let Some(reason) = columns.iter().zip(&values).find_map(|(c, v)| out_of_range(c.as_deref()?, v)) {
            out.bad(format!("{name}:{n}"), reason);
            continue;
        }
        let mut row = Map::new();
        for (col, v) in columns.iter().zip(values) {
            if let Some(col) = col
                && v != "-"
            {
                row.insert(col.clone(), Value::String(v.to_string()));
            }
        }
        out.record(format!("{name}:{n}"), Value::Object(row));
    }
}

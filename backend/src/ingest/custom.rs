//! Custom sources: JSON lines with a `timestamp` (ISO 8601 or epoch). Well-known fields get
//! columns; the whole record is kept as JSON text in `data`.

use super::{Parsed, lines};
use serde_json::{Map, Value};
use std::path::Path;

pub(super) fn parse(name: &str, file: &Path, text: &str, out: &mut Parsed) {
    let stem = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let source = stem.split('.').next().unwrap_or("custom").to_string();
    for (n, line) in lines(text) {
        let place = format!("{name}:{n}");
        let obj = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(obj)) => obj,
            Ok(_) => {
                out.bad(place, "expected a JSON object per line");
                continue;
            }
            Err(e) => {
                out.bad(place, format!("invalid JSON at column {}: {e}", e.column()));
                continue;
            }
        };
        match to_row(&obj, line.trim(), &source) {
            Ok(row) => out.record(place, row),
            Err(reason) => out.bad(place, reason),
        }
    }
}

/// One custom record as a `custom_logs` row; `line` is kept whole in `data`.
pub(crate) fn to_row(obj: &Map<String, Value>, line: &str, default_source: &str) -> Result<Value, String> {
    let Some(ts) = obj.get("timestamp").or_else(|| obj.get("@timestamp")).cloned() else {
        return Err("no `timestamp` field: custom logs need one (ISO 8601 or epoch seconds)".into());
    };
    let mut row = Map::new();
    row.insert("timestamp".into(), ts);
    let fields: [(&str, &[&str]); 4] = [
        ("source", &["source"]),
        ("event_type", &["event_type", "eventType", "type"]),
        ("severity", &["severity", "level"]),
        ("message", &["message", "msg"]),
    ];
    for (column, keys) in fields {
        if let Some(v) = keys.iter().find_map(|k| obj.get(*k)) {
            row.insert(column.into(), v.clone());
        }
    }
    row.entry("source").or_insert_with(|| Value::String(default_source.to_string()));
    row.insert("data".into(), Value::String(line.to_string()));
    Ok(Value::Object(row))
}

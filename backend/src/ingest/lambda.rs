//! Lambda logs as CloudWatch exports them: platform lines (START/END/REPORT), runtime lines
//! (`time<TAB>request id<TAB>LEVEL<TAB>message`), and JSON lines (Lambda's JSON log format).
//! A line may start with its CloudWatch timestamp; lines without one take the last seen.

use super::{Parsed, lines};
use crate::local::udf::parse_iso8601_millis;
use regex::Regex;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::LazyLock;

static REPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"Duration: (?P<d>[\d.]+) ms\s+Billed Duration: (?P<b>\d+) ms\s+Memory Size: (?P<m>\d+) MB\s+Max Memory Used: (?P<u>\d+) MB(?:\s+Init Duration: (?P<i>[\d.]+) ms)?",
    )
    .expect("valid regex")
});

/// `/aws/lambda/<name>/...` in the path names the function; else the file's stem.
fn function_from_path(file: &Path) -> String {
    let text = file.to_string_lossy();
    if let Some(i) = text.find("aws/lambda/") {
        let rest = &text[i + "aws/lambda/".len()..];
        if let Some(name) = rest.split(['/', '\\']).next().filter(|s| !s.is_empty()) {
            return name.to_string();
        }
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.split('.').next().unwrap_or("unknown").to_string()
}

fn pick<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| obj.get(*k)).filter(|v| !v.is_null())
}

pub(super) fn parse(name: &str, file: &Path, text: &str, out: &mut Parsed) {
    let default_function = function_from_path(file);
    let mut last_ts: Option<i64> = None;
    for (n, line) in lines(text) {
        let place = format!("{name}:{n}");
        // A leading CloudWatch export timestamp.
        let (mut ts, body) = match line.split_once(' ') {
            Some((first, rest)) => match parse_iso8601_millis(first) {
                Some(t) => (Some(t), rest.trim_start()),
                None => (None, line),
            },
            None => (None, line),
        };
        let mut row = Map::new();
        if body.starts_with('{') {
            let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(body) else {
                out.bad(place, "line starts with `{` but is not a JSON object");
                continue;
            };
            json_line(&obj, &mut row, &mut ts);
        } else {
            text_line(body, &mut row, &mut ts);
        }
        let Some(t) = ts.or(last_ts) else {
            out.bad(place, "no timestamp on this line and none before it; export with timestamps or use JSON lines with `timestamp`");
            continue;
        };
        last_ts = Some(t);
        row.insert("timestamp".into(), json!(t));
        row.entry("function_name").or_insert_with(|| Value::String(default_function.clone()));
        let log_group = format!("/aws/lambda/{}", row["function_name"].as_str().unwrap_or_default());
        row.entry("log_group").or_insert(Value::String(log_group));
        out.record(place, Value::Object(row));
    }
}

fn text_line(body: &str, row: &mut Map<String, Value>, ts: &mut Option<i64>) {
    let mut set = |k: &str, v: &str| {
        row.insert(k.into(), Value::String(v.trim().to_string()));
    };
    for kind in ["START", "END", "REPORT"] {
        if let Some(rest) = body.strip_prefix(kind).and_then(|r| r.trim_start().strip_prefix("RequestId:")) {
            let id = rest.split_whitespace().next().unwrap_or_default();
            set("type", kind);
            set("request_id", id);
            set("message", body);
            if let Some(c) = REPORT.captures(body) {
                // As text: conforming to the table parses and range-checks each number, and
                // refuses the line with its place when one does not fit (never a silent 0).
                for (column, group) in [
                    ("duration_ms", "d"),
                    ("billed_duration_ms", "b"),
                    ("memory_size_mb", "m"),
                    ("max_memory_used_mb", "u"),
                    ("init_duration_ms", "i"),
                ] {
                    if let Some(m) = c.name(group) {
                        row.insert(column.into(), Value::String(m.as_str().to_string()));
                    }
                }
            }
            return;
        }
    }
    let parts: Vec<&str> = body.splitn(4, '\t').collect();
    match parts.as_slice() {
        // Node.js: time, request id, level, message.
        [t, id, level, msg] if parse_iso8601_millis(t).is_some() => {
            *ts = ts.or(parse_iso8601_millis(t));
            set("request_id", id);
            set("level", level);
            set("message", msg);
        }
        // Python: [LEVEL], time, request id, message.
        [level, t, id, msg] if level.starts_with('[') && parse_iso8601_millis(t).is_some() => {
            *ts = ts.or(parse_iso8601_millis(t));
            set("level", level.trim_matches(['[', ']']));
            set("request_id", id);
            set("message", msg);
        }
        _ => {
            set("message", body);
            if body.contains("Task timed out") {
                set("level", "ERROR");
            }
        }
    }
    row.entry("type").or_insert(Value::String("log".into()));
}

fn json_line(obj: &Map<String, Value>, row: &mut Map<String, Value>, ts: &mut Option<i64>) {
    if let Some(t) =
        pick(obj, &["timestamp", "time", "@timestamp"]).and_then(super::conform::timestamp_millis)
    {
        *ts = Some(t);
    }
    // Lambda's JSON format for platform events: {"type": "platform.report", "record": {...}}.
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("log");
    let record = obj.get("record").and_then(Value::as_object);
    row.insert(
        "type".into(),
        Value::String(match kind {
            "platform.start" => "START".into(),
            "platform.runtimeDone" | "platform.end" => "END".into(),
            "platform.report" => "REPORT".into(),
            other => other.to_string(),
        }),
    );
    let source = record.unwrap_or(obj);
    let copy = |row: &mut Map<String, Value>, column: &str, keys: &[&str]| {
        if let Some(v) = pick(source, keys).or_else(|| pick(obj, keys)) {
            row.insert(column.into(), v.clone());
        }
    };
    copy(row, "request_id", &["requestId", "request_id", "requestid", "AWSRequestId"]);
    copy(row, "level", &["level", "levelname", "severity"]);
    copy(row, "message", &["message", "msg"]);
    copy(row, "function_name", &["function_name", "functionName"]);
    copy(row, "log_group", &["log_group", "logGroup"]);
    copy(row, "log_stream", &["log_stream", "logStream"]);
    if let Some(m) = record.and_then(|r| r.get("metrics")).and_then(Value::as_object) {
        for (column, key) in [
            ("duration_ms", "durationMs"),
            ("billed_duration_ms", "billedDurationMs"),
            ("memory_size_mb", "memorySizeMB"),
            ("max_memory_used_mb", "maxMemoryUsedMB"),
            ("init_duration_ms", "initDurationMs"),
        ] {
            if let Some(v) = m.get(key) {
                row.insert(column.into(), v.clone());
            }
        }
    }
    if !row.contains_key("message") {
        row.insert("message".into(), Value::String(Value::Object(obj.clone()).to_string()));
    }
}

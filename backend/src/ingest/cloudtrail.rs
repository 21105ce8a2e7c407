//! CloudTrail in the shapes people have it in: AWS's delivery documents (`{"Records": [...]}`,
//! usually gzip), bare JSON arrays of events (pretty-printed or on one line, as attack tools and
//! CloudTrail Lake exports write), JSON lines, `aws cloudtrail lookup-events` output, EventBridge
//! events, and log shippers' records (Logstash, Beats, Firehose: the time in `@timestamp`, the
//! event in `message` or one nested object).

use super::{Parsed, lines};
use serde_json::{Map, Value};

/// What the error says when a file is none of these.
pub const ACCEPTED: &str = "CloudTrail files may be: a delivery document {\"Records\": [...]}; a JSON \
    array of events (pretty-printed or on one line); JSON lines of events or of Records documents; \
    `aws cloudtrail lookup-events` output ({\"Events\": [...]}); EventBridge events (the event in \
    `detail`); shipper records (Logstash, Beats, Firehose) with `@timestamp` and the event in \
    `message` or in one nested object";

/// How deep documents may nest (an array of Records documents of ...), so a hostile file cannot
/// recurse without end.
const MAX_DEPTH: usize = 4;

pub(super) fn parse(name: &str, text: &str, out: &mut Parsed) {
    let mut values = vec![];
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut start = 0;
    let failed = loop {
        let at = start + text[start..].len() - text[start..].trim_start().len();
        match stream.next() {
            None => break None,
            Some(Ok(v)) => values.push((line_of(text, at), v)),
            Some(Err(e)) => break Some(e),
        }
        start = stream.byte_offset();
    };
    match failed {
        None => {
            let many = values.len() > 1;
            for (line, v) in values {
                let place = if many { format!("{name}:{line}") } else { name.to_string() };
                unwrap(&place, v, out, 0);
            }
        }
        // JSON lines with a broken line: each line on its own, the good ones kept.
        Some(_) if is_json_lines(text) => {
            for (n, line) in lines(text) {
                let place = format!("{name}:{n}");
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => unwrap(&place, v, out, 0),
                    Err(e) => out.bad(place, format!("invalid JSON at column {}: {e}", e.column())),
                }
            }
        }
        Some(e) => out.issue(
            format!("{name}:{}:{}", e.line(), e.column()),
            format!("invalid CloudTrail JSON ({e}); no record of this file was ingested. {ACCEPTED}"),
        ),
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// More than one line, and the first is a JSON value of its own.
fn is_json_lines(text: &str) -> bool {
    let mut it = lines(text);
    match (it.next(), it.next()) {
        (Some((_, first)), Some(_)) => serde_json::from_str::<Value>(first).is_ok(),
        _ => false,
    }
}

fn unwrap(place: &str, v: Value, out: &mut Parsed, depth: usize) {
    if depth > MAX_DEPTH {
        return out.bad(place, format!("documents nested more than {MAX_DEPTH} deep"));
    }
    match v {
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                unwrap(&format!("{place}: [{i}]"), item, out, depth + 1);
            }
        }
        Value::Object(mut obj) => {
            if let Some(Value::Array(records)) = obj.remove("Records") {
                for (i, r) in records.into_iter().enumerate() {
                    unwrap(&format!("{place}: Records[{i}]"), r, out, depth + 1);
                }
                return;
            }
            if let Some(Value::Array(events)) = obj.get("Events").cloned()
                && events.iter().all(|e| e.get("CloudTrailEvent").is_some())
            {
                return lookup_events(place, events, out);
            }
            match event_of(obj) {
                Ok(event) => out.record(place.to_string(), Value::Object(event)),
                Err(why) => out.bad(place, why),
            }
        }
        other => {
            out.bad(place, format!("expected a CloudTrail event (a JSON object), got {other}. {ACCEPTED}"))
        }
    }
}

/// `aws cloudtrail lookup-events`: each event's record is a JSON string in `CloudTrailEvent`.
fn lookup_events(place: &str, events: Vec<Value>, out: &mut Parsed) {
    for (i, e) in events.into_iter().enumerate() {
        let here = format!("{place}: Events[{i}]");
        match e.get("CloudTrailEvent").and_then(Value::as_str).map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(event))) => out.record(here, Value::Object(event)),
            _ => out.bad(here, "`CloudTrailEvent` is not the JSON text of an event"),
        }
    }
}

fn is_event(obj: &Map<String, Value>) -> bool {
    obj.keys().any(|k| k.eq_ignore_ascii_case("eventName") || k.eq_ignore_ascii_case("eventTime"))
}

/// The event a record carries: itself, EventBridge's `detail`, a shipper's `message` (JSON
/// text) or its one nested object that is an event; a shipper's `@timestamp` stands in for a
/// missing `eventTime`.
fn event_of(mut obj: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let shipped_at = obj.get("@timestamp").cloned();
    let mut event = if is_event(&obj) {
        obj
    } else if let Some(Value::Object(detail)) = obj.get("detail").filter(|d| d.is_object()) {
        detail.clone()
    } else if let Some(Ok(Value::Object(inner))) =
        obj.get("message").and_then(Value::as_str).map(serde_json::from_str::<Value>)
    {
        inner
    } else {
        let nested: Vec<String> =
            obj.iter().filter(|(_, v)| v.as_object().is_some_and(is_event)).map(|(k, _)| k.clone()).collect();
        match nested.as_slice() {
            [one] => match obj.remove(one) {
                Some(Value::Object(inner)) => inner,
                _ => obj,
            },
            _ => obj,
        }
    };
    if !event.keys().any(|k| k.eq_ignore_ascii_case("eventTime")) {
        match shipped_at {
            Some(t) => {
                event.insert("eventTime".into(), t);
            }
            None if !is_event(&event) => {
                return Err(format!("not a CloudTrail event: no eventName or eventTime. {ACCEPTED}"));
            }
            None => {}
        }
    }
    Ok(event)
}

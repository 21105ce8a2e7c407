//! CloudTrail as AWS delivers it (`{"Records": [...]}`, usually gzip) or as JSON lines.

use super::{Parsed, lines};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Delivery {
    #[serde(rename = "Records")]
    records: Vec<Value>,
}

fn is_delivery_document(text: &str) -> bool {
    let t = text.trim_start();
    t.strip_prefix('{').is_some_and(|rest| rest.trim_start().starts_with("\"Records\""))
}

pub(super) fn parse(name: &str, text: &str, out: &mut Parsed) {
    if is_delivery_document(text) {
        match serde_json::from_str::<Delivery>(text) {
            Ok(doc) => {
                for (i, r) in doc.records.into_iter().enumerate() {
                    out.record(format!("{name}: Records[{i}]"), r);
                }
            }
            Err(e) => out.issue(
                format!("{name}:{}:{}", e.line(), e.column()),
                format!("invalid CloudTrail JSON ({e}); no record of this file was ingested"),
            ),
        }
        return;
    }
    for (n, line) in lines(text) {
        let place = format!("{name}:{n}");
        match serde_json::from_str::<Value>(line) {
            // A line may hold a whole delivery document (some exports write one per line).
            Ok(Value::Object(mut obj)) if matches!(obj.get("Records"), Some(Value::Array(_))) => {
                let Some(Value::Array(records)) = obj.remove("Records") else { unreachable!() };
                for (i, r) in records.into_iter().enumerate() {
                    out.record(format!("{place}: Records[{i}]"), r);
                }
            }
            Ok(v) => out.record(place, v),
            Err(e) => out.bad(place, format!("invalid JSON at column {}: {e}", e.column())),
        }
    }
}

//! Log text as lines for the text views (cell, record, alert detail): neutralised, and JSON
//! kept as a string inside JSON decoded so it reads as JSON.

use mantissa_backend::text::neutralize;
use ratatui::text::Line;

/// Text as neutralised lines, one per line of the text (the view wraps them to its width).
pub fn text_lines(text: &str) -> Vec<Line<'static>> {
    text.lines().map(|l| Line::from(neutralize(l).into_owned())).collect()
}

/// JSON kept as a string inside JSON (a policy document in CloudTrail's request parameters)
/// decoded in place, so the cell view shows it as JSON rather than one escaped line.
pub fn decode_nested(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => match serde_json::from_str::<Value>(&s)
        {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => decode_nested(inner),
            _ => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(decode_nested).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, decode_nested(v))).collect()),
        other => other,
    }
}

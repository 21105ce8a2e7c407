//! Amazon S3 server access logs: space-separated, with "quoted" and [bracketed] fields and
//! `-` for none. Fields past the 26 the Athena table knows (AWS appends new ones) are ignored.

use super::{Parsed, lines};
use crate::model::Table;
use serde_json::{Map, Value};

/// The oldest log format has 18 fields (through `versionid`).
const MIN_FIELDS: usize = 18;

fn tokens(line: &str) -> Result<Vec<Option<&str>>, String> {
    let mut out = vec![];
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (token, after) = match rest.as_bytes()[0] {
            b'"' => {
                let end = rest[1..]
                    .find('"')
                    .ok_or_else(|| format!("unterminated quote at column {}", line.len() - rest.len() + 1))?;
                (&rest[1..end + 1], &rest[end + 2..])
            }
            b'[' => {
                let end = rest
                    .find(']')
                    .ok_or_else(|| format!("unterminated `[` at column {}", line.len() - rest.len() + 1))?;
                (&rest[1..end], &rest[end + 1..])
            }
            _ => {
                let end = rest.find(' ').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        out.push((token != "-").then_some(token));
        rest = after.trim_start();
    }
    Ok(out)
}

pub(super) fn parse(name: &str, text: &str, out: &mut Parsed) {
    let schema = Table::S3Access.file_schema();
    for (n, line) in lines(text) {
        let place = format!("{name}:{n}");
        match tokens(line) {
            Err(reason) => out.bad(place, reason),
            Ok(values) if values.len() < MIN_FIELDS => out.bad(
                place,
                format!(
                    "expected at least {MIN_FIELDS} fields of an S3 server access log, found {}",
                    values.len()
                ),
            ),
            Ok(values) => {
                let mut row = Map::new();
                for (field, v) in schema.fields().iter().zip(values) {
                    if let Some(v) = v {
                        row.insert(field.name().clone(), Value::String(v.to_string()));
                    }
                }
                out.record(place, Value::Object(row));
            }
        }
    }
}

//! Shapes a parsed record to a table's Arrow schema: keys matched case-insensitively (as
//! Athena's JSON SerDe does), nested objects kept as JSON text where the column is a string,
//! numbers and times coerced and range-checked (a value past its column's range is refused,
//! never wrapped or saturated). A record that cannot fit is refused with the field's path.

use crate::local::udf::parse_iso8601_millis;
use datafusion::arrow::datatypes::{DataType, Fields, TimeUnit};
use serde_json::{Map, Value};

/// A record shaped for a table, and what was left out of it on the way: a field whose value
/// has the wrong type is dropped (the rest of the record is kept), keys differing only in case
/// are named.
#[derive(Debug, Clone, PartialEq)]
pub struct Conformed {
    pub row: Value,
    pub notes: Vec<String>,
}

/// How a note on a dropped field ends.
pub const KEPT_THE_REST: &str = "; the record's other fields were kept";

/// Returns the record as the JSON the Arrow decoder expects for `fields`.
pub fn conform_record(record: &Value, fields: &Fields) -> Result<Conformed, String> {
    match record {
        Value::Object(obj) => {
            let mut notes = vec![];
            let row = conform_object(obj, fields, "", &mut notes);
            Ok(Conformed { row, notes })
        }
        other => Err(format!("expected a JSON object, got {}", kind(other))),
    }
}

fn conform_object(obj: &Map<String, Value>, fields: &Fields, path: &str, notes: &mut Vec<String>) -> Value {
    let mut out = Map::with_capacity(fields.len());
    for field in fields.iter() {
        let name = field.name();
        let child = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
        let spellings: Vec<(&String, &Value)> =
            obj.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).collect();
        // The exact spelling wins; else the first, in key order.
        let Some(&(key, v)) =
            spellings.iter().find(|(k, _)| k.as_str() == name.as_str()).or(spellings.first())
        else {
            continue;
        };
        for (other, _) in spellings.iter().filter(|(k, _)| *k != key) {
            notes.push(format!(
                "keys `{key}` and `{other}` differ only in case: `{key}` was kept for `{child}`"
            ));
        }
        match conform(v, field.data_type(), &child, notes) {
            Ok(value) if value.is_null() => {}
            Ok(value) => {
                out.insert(name.clone(), value);
            }
            Err(why) => notes.push(format!("dropped {why}{KEPT_THE_REST}")),
        }
    }
    Value::Object(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn conform(v: &Value, dt: &DataType, path: &str, notes: &mut Vec<String>) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = |want: &str| format!("`{path}`: expected {want}, got {}", kind(v));
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(match v {
            Value::String(_) => v.clone(),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            // Athena's CloudTrail table keeps requestParameters & co. as JSON text.
            other => Value::String(other.to_string()),
        }),
        DataType::Int32 | DataType::Int64 => {
            let out_of_range = || format!("`{path}`: {} is out of range for a 64-bit integer", plain(v));
            let n = match v {
                Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => Some(i),
                    // Exactly representable whole floats only (2^53); larger ones lost digits.
                    (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
                    (None, Some(f)) if f.fract() == 0.0 => return Err(out_of_range()),
                    _ => None,
                },
                Value::String(s) if s.trim() == "-" || s.trim().is_empty() => return Ok(Value::Null),
                Value::String(s) => match s.trim().parse::<i64>() {
                    Ok(i) => Some(i),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                        ) =>
                    {
                        return Err(out_of_range());
                    }
                    Err(_) => None,
                },
                _ => None,
            }
            .ok_or_else(|| format!("`{path}`: `{}` is not a whole number", plain(v)))?;
            if matches!(dt, DataType::Int32) && i32::try_from(n).is_err() {
                return Err(format!("`{path}`: {n} does not fit a 32-bit integer"));
            }
            Ok(Value::from(n))
        }
        DataType::Float64 => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) if s.trim() == "-" => Ok(Value::Null),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Value::from(f)),
                Ok(f) if f.is_nan() => Err(format!("`{path}`: `{s}` is not a number")),
                Ok(_) => Err(format!("`{path}`: {s} is out of range for a 64-bit float")),
                Err(_) => Err(format!("`{path}`: `{s}` is not a number")),
            },
            _ => Err(mismatch("a number")),
        },
        DataType::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(mismatch("true or false")),
            },
            _ => Err(mismatch("true or false")),
        },
        DataType::Timestamp(TimeUnit::Millisecond, _) => match timestamp_millis(v) {
            Some(ms) => Ok(Value::from(ms)),
            None if epoch_number(v).is_some() => {
                Err(format!("`{path}`: {} is out of range for a timestamp (years 0001 to 9999)", plain(v)))
            }
            None => Err(format!("`{path}`: `{}` is not a timestamp (ISO 8601 or epoch)", plain(v))),
        },
        DataType::Struct(fields) => match v {
            Value::Object(obj) => Ok(conform_object(obj, fields, path, notes)),
            _ => Err(mismatch("an object")),
        },
        DataType::List(item) => match v {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| conform(x, item.data_type(), &format!("{path}[{i}]"), notes))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err(mismatch("an array")),
        },
        DataType::Map(_, _) => match v {
            Value::Object(obj) => Ok(Value::Object(
                obj.iter()
                    .map(|(k, x)| {
                        (k.clone(), conform(x, &DataType::Utf8, path, notes).unwrap_or(Value::Null))
                    })
                    .collect(),
            )),
            _ => Err(mismatch("an object")),
        },
        other => Err(format!("`{path}`: unsupported column type {other}")),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// ISO 8601 text, or epoch seconds / milliseconds (numbers above 10^11 are milliseconds),
/// within years 0001 to 9999; anything else (NaN, infinities, 1e300) is `None`.
pub fn timestamp_millis(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => parse_iso8601_millis(s).or_else(|| epoch_number(v).and_then(epoch_millis)),
        Value::Number(_) => epoch_number(v).and_then(epoch_millis),
        _ => None,
    }
}

/// A number given for an epoch time (a JSON number or numeric text).
fn epoch_number(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| !f.is_nan()),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in epoch milliseconds.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_300_799_999;

fn epoch_millis(x: f64) -> Option<i64> {
    let ms = if x.abs() > 1e11 { x } else { x * 1000.0 }.round();
    // NaN fails both comparisons; the bounds are exact in f64.
    (ms >= MIN_MS as f64 && ms <= MAX_MS as f64).then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;
    use serde_json::json;

    fn ct(v: Value) -> Result<Value, String> {
        conform_record(&v, Table::CloudTrail.file_schema().fields()).map(|c| c.row)
    }

    fn notes(v: Value, table: Table) -> (Value, Vec<String>) {
        let c = conform_record(&v, table.file_schema().fields()).unwrap();
        (c.row, c.notes)
    }

    #[test]
    fn keys_match_case_insensitively_and_objects_become_text() {
        let out = ct(json!({
            "eventName": "PutBucketPolicy",
            "userIdentity": {"type": "IAMUser", "userName": "alice",
                "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
            "requestParameters": {"bucketName": "b", "Policy": {"x": 1}},
            "resources": [{"ARN": "arn:aws:s3:::b", "type": "AWS::S3::Bucket"}],
            "readOnly": false,
        }))
        .unwrap();
        assert_eq!(out["eventname"], "PutBucketPolicy");
        assert_eq!(out["useridentity"]["username"], "alice");
        assert_eq!(out["useridentity"]["sessioncontext"]["attributes"]["mfaauthenticated"], "false");
        // Original key case survives inside JSON text, as json_extract_scalar expects.
        assert_eq!(out["requestparameters"], r#"{"Policy":{"x":1},"bucketName":"b"}"#);
        assert_eq!(out["resources"][0]["arn"], "arn:aws:s3:::b");
        assert_eq!(out["readonly"], "false");
    }

    #[test]
    fn a_mismatched_field_is_dropped_by_name_and_the_rest_kept() {
        let (row, n) = notes(json!({"userIdentity": "alice", "eventName": "GetObject"}), Table::CloudTrail);
        assert_eq!(row["eventname"], "GetObject");
        assert!(row.get("useridentity").is_none());
        assert!(n[0].contains("dropped `useridentity`: expected an object, got a string"), "{n:?}");
        let (row, n) = notes(json!({"resources": [{"arn": "a"}, 7], "eventName": "X"}), Table::CloudTrail);
        assert!(row.get("resources").is_none() && row["eventname"] == "X");
        assert!(n[0].contains("`resources[1]`"), "{n:?}");
        let e = ct(json!(["not", "a", "record"])).unwrap_err();
        assert!(e.contains("expected a JSON object"), "{e}");
        let (row, n) = notes(json!({"srcport": "http", "dstport": 443}), Table::VpcFlow);
        assert_eq!(row["dstport"], 443);
        assert!(n[0].contains("`srcport`: `http` is not a whole number"), "{n:?}");
        let (_, n) = notes(json!({"srcport": 99999999999i64}), Table::VpcFlow);
        assert!(n[0].contains("32-bit"), "{n:?}");
        // Nested: only the bad member of the object goes.
        let (row, n) = notes(
            json!({"userIdentity": {"type": "IAMUser", "sessionContext": "oops"}, "eventName": "X"}),
            Table::CloudTrail,
        );
        assert_eq!(row["useridentity"]["type"], "IAMUser");
        assert!(n[0].contains("`useridentity.sessioncontext`"), "{n:?}");
    }

    #[test]
    fn keys_differing_only_in_case_are_named() {
        let (row, n) =
            notes(json!({"eventName": "A", "EventName": "B", "eventname": "C"}), Table::CloudTrail);
        assert_eq!(row["eventname"], "C", "the spelling of the column wins");
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n.iter().all(|x| x.contains("differ only in case")), "{n:?}");
    }

    #[test]
    fn times_accept_iso_and_epoch() {
        assert_eq!(timestamp_millis(&json!("2024-11-20T10:00:00Z")), Some(1732096800000));
        assert_eq!(timestamp_millis(&json!(1732096800)), Some(1732096800000));
        assert_eq!(timestamp_millis(&json!(1732096800123i64)), Some(1732096800123));
        assert_eq!(timestamp_millis(&json!("1732096800")), Some(1732096800000));
        assert_eq!(timestamp_millis(&json!("soon")), None);
    }
}

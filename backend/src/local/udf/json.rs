//! `json_extract` and `json_extract_scalar` over JSON text columns such as CloudTrail's
//! `requestparameters`. Paths are JSONPath (serde_json_path, RFC 9535), a superset of the
//! `$.a.b[0]` forms Trino accepts. Malformed JSON gives NULL, as in Trino.

use super::strings;
use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::common::{DataFusionError, Result};
use serde_json::Value;
use serde_json_path::JsonPath;
use std::sync::Arc;

pub(super) fn extract(json: &ArrayRef, path: &ArrayRef, scalar: bool) -> Result<ArrayRef> {
    let name = if scalar { "json_extract_scalar" } else { "json_extract" };
    let (json, paths) = (strings(json, name)?, strings(path, name)?);
    let mut out = StringBuilder::with_capacity(json.len(), json.len() * 8);
    // The path is nearly always a literal: parse it once, not per row.
    let mut cached: Option<(String, JsonPath)> = None;
    for (doc, path) in json.iter().zip(paths.iter()) {
        let (Some(doc), Some(path)) = (doc, path) else {
            out.append_null();
            continue;
        };
        if cached.as_ref().is_none_or(|(p, _)| p != path) {
            let parsed = JsonPath::parse(path).map_err(|e| {
                DataFusionError::Execution(format!("{name}: invalid JSON path `{path}`: {e}"))
            })?;
            cached = Some((path.to_string(), parsed));
        }
        let compiled = &cached.as_ref().expect("cached above").1;
        let Ok(value) = serde_json::from_str::<Value>(doc) else {
            out.append_null();
            continue;
        };
        match (compiled.query(&value).first(), scalar) {
            (None, _) | (Some(Value::Null), true) => out.append_null(),
            (Some(Value::String(s)), true) => out.append_value(s),
            (Some(Value::Number(n)), true) => out.append_value(n.to_string()),
            (Some(Value::Bool(b)), true) => out.append_value(b.to_string()),
            (Some(_), true) => out.append_null(), // objects and arrays are not scalars
            (Some(v), false) => out.append_value(v.to_string()),
        }
    }
    Ok(Arc::new(out.finish()))
}

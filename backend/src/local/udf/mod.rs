//! Trino functions that Athena detections use and DataFusion lacks (or spells differently),
//! registered on the embedded lake so a rule written for Athena runs unchanged.

mod collections;
mod json;
mod time;

pub(crate) use time::parse_iso8601_millis;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// The functions, one variant each; `TrinoFunction` gives them names, types and bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    FromIso8601Timestamp,
    ToUnixtime,
    FromUnixtime,
    DateAdd,
    DateDiff,
    DateFormat,
    /// Trino's `date_parse(text, format)`: text in a MySQL-style format as a timestamp.
    DateParse,
    JsonExtractScalar,
    JsonExtract,
    /// JSON as text; our `json_extract` already returns text, so Trino's `json_format` is identity.
    JsonFormat,
    ElementAt,
    Contains,
    SplitPart,
}

impl Kind {
    const ALL: [Kind; 13] = [
        Kind::FromIso8601Timestamp,
        Kind::ToUnixtime,
        Kind::FromUnixtime,
        Kind::DateAdd,
        Kind::DateDiff,
        Kind::DateFormat,
        Kind::DateParse,
        Kind::JsonExtractScalar,
        Kind::JsonExtract,
        Kind::JsonFormat,
        Kind::ElementAt,
        Kind::Contains,
        Kind::SplitPart,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::FromIso8601Timestamp => "from_iso8601_timestamp",
            Kind::ToUnixtime => "to_unixtime",
            Kind::FromUnixtime => "from_unixtime",
            Kind::DateAdd => "date_add",
            Kind::DateDiff => "date_diff",
            Kind::DateFormat => "date_format",
            Kind::DateParse => "date_parse",
            Kind::JsonExtractScalar => "json_extract_scalar",
            Kind::JsonExtract => "json_extract",
            Kind::JsonFormat => "json_format",
            Kind::ElementAt => "element_at",
            Kind::Contains => "contains",
            Kind::SplitPart => "split_part",
        }
    }

    fn arity(self) -> usize {
        match self {
            Kind::FromIso8601Timestamp | Kind::ToUnixtime | Kind::FromUnixtime | Kind::JsonFormat => 1,
            Kind::JsonExtractScalar
            | Kind::JsonExtract
            | Kind::ElementAt
            | Kind::Contains
            | Kind::DateFormat
            | Kind::DateParse => 2,
            Kind::DateAdd | Kind::DateDiff | Kind::SplitPart => 3,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TrinoFunction {
    kind: Kind,
    signature: Signature,
}

impl ScalarUDFImpl for TrinoFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match self.kind {
            Kind::FromIso8601Timestamp | Kind::FromUnixtime | Kind::DateParse => Ok(time::utc_millis()),
            Kind::ToUnixtime => Ok(DataType::Float64),
            Kind::DateAdd => Ok(time::date_add_type(&args[2])),
            Kind::DateDiff => Ok(DataType::Int64),
            Kind::JsonExtractScalar
            | Kind::JsonExtract
            | Kind::JsonFormat
            | Kind::SplitPart
            | Kind::DateFormat => Ok(DataType::Utf8),
            Kind::ElementAt => collections::element_type(&args[0]),
            Kind::Contains => Ok(DataType::Boolean),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out: ArrayRef = match self.kind {
            Kind::FromIso8601Timestamp => time::from_iso8601_timestamp(&arrays[0])?,
            Kind::ToUnixtime => time::to_unixtime(&arrays[0])?,
            Kind::FromUnixtime => time::from_unixtime(&arrays[0])?,
            Kind::DateAdd => time::date_add(&arrays[0], &arrays[1], &arrays[2])?,
            Kind::DateDiff => time::date_diff(&arrays[0], &arrays[1], &arrays[2])?,
            Kind::DateFormat => time::date_format(&arrays[0], &arrays[1])?,
            Kind::DateParse => time::date_parse(&arrays[0], &arrays[1])?,
            Kind::JsonExtractScalar => json::extract(&arrays[0], &arrays[1], true)?,
            Kind::JsonExtract => json::extract(&arrays[0], &arrays[1], false)?,
            Kind::JsonFormat => Arc::new(strings(&arrays[0], "json_format")?),
            Kind::ElementAt => collections::element_at(&arrays[0], &arrays[1])?,
            Kind::Contains => collections::contains(&arrays[0], &arrays[1])?,
            Kind::SplitPart => collections::split_part(&arrays[0], &arrays[1], &arrays[2])?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// Registers every function on `ctx`, replacing DataFusion's functions of the same name where
/// Trino's meaning differs (`contains` on arrays, `split_part` past the end, `to_unixtime`
/// returning seconds as a double).
pub fn register_trino_functions(ctx: &SessionContext) {
    for kind in Kind::ALL {
        let signature = Signature::any(kind.arity(), Volatility::Immutable);
        ctx.register_udf(ScalarUDF::new_from_impl(TrinoFunction { kind, signature }));
    }
}

/// Any string-like array (Utf8, LargeUtf8, Utf8View, dictionary) as a plain `StringArray`.
fn strings(array: &ArrayRef, function: &str) -> Result<StringArray> {
    match array.data_type() {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Dictionary(_, _)
        | DataType::Null => {}
        other => return exec_err!("{function}: expected a string argument, got {other}"),
    }
    let cast = cast(array, &DataType::Utf8)?;
    Ok(cast.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").clone())
}

#[cfg(test)]
mod tests;

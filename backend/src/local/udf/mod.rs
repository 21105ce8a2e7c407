//! Trino functions that Athena queries use and DataFusion lacks (or spells differently):
//! times, JSON, arrays, regex, URLs. Registered on the embedded lake so a query written for
//! Athena runs unchanged.

mod collections;
mod json;
mod text;
mod time;

pub(crate) use time::parse_iso8601_millis;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use std::sync::Arc;

/// The functions, one variant each; `TrinoFunction` gives them names, types and bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    FromIso8601Timestamp,
    ToUnixtime,
    /// `from_unixtime(seconds[, zone])`: the zone changes how Trino shows the instant, not the
    /// instant, so the embedded engine keeps it in UTC.
    FromUnixtime,
    DateAdd,
    DateDiff,
    DateFormat,
    /// `format_datetime(ts, pattern)`: `date_format` with a Java (Joda) pattern.
    FormatDatetime,
    /// `from_iso8601_date(text)`.
    FromIso8601Date,
    /// Trino's `try(x)`: NULL where `x` fails. The embedded functions already give NULL for
    /// text they cannot read (dates, JSON, URLs), so here it passes its argument through.
    Try,
    /// Trino's `date_parse(text, format)`: text in a MySQL-style format as a timestamp.
    DateParse,
    /// `parse_datetime(text, pattern)`: the same with a Java (Joda) pattern.
    ParseDatetime,
    Date,
    ToIso8601,
    /// `year(x)`, `day_of_week(x)` (`dow`) and the other field functions, by name.
    Part(time::Part, &'static str),
    JsonExtractScalar,
    JsonExtract,
    /// JSON as text; our `json_extract` already returns text, so Trino's `json_format` is identity.
    JsonFormat,
    ElementAt,
    Contains,
    /// Trino's `CAST(x AS IPADDRESS)` (written so by the dialect step): a sortable key.
    IpAddress,
    SplitPart,
    Split,
    Replace,
    RegexpExtract,
    RegexpExtractAll,
    UrlExtract(text::UrlPart, &'static str),
}

impl Kind {
    fn all() -> Vec<Kind> {
        use text::UrlPart;
        let mut all = vec![
            Kind::FromIso8601Timestamp,
            Kind::ToUnixtime,
            Kind::FromUnixtime,
            Kind::DateAdd,
            Kind::DateDiff,
            Kind::DateFormat,
            Kind::FormatDatetime,
            Kind::FromIso8601Date,
            Kind::Try,
            Kind::DateParse,
            Kind::ParseDatetime,
            Kind::Date,
            Kind::ToIso8601,
            Kind::JsonExtractScalar,
            Kind::JsonExtract,
            Kind::JsonFormat,
            Kind::ElementAt,
            Kind::Contains,
            Kind::IpAddress,
            Kind::SplitPart,
            Kind::Split,
            Kind::Replace,
            Kind::RegexpExtract,
            Kind::RegexpExtractAll,
        ];
        all.extend(time::PARTS.iter().map(|&(name, part)| Kind::Part(part, name)));
        all.extend(
            [
                (UrlPart::Host, "url_extract_host"),
                (UrlPart::Path, "url_extract_path"),
                (UrlPart::Port, "url_extract_port"),
                (UrlPart::Protocol, "url_extract_protocol"),
                (UrlPart::Query, "url_extract_query"),
                (UrlPart::Fragment, "url_extract_fragment"),
                (UrlPart::Parameter, "url_extract_parameter"),
            ]
            .map(|(part, name)| Kind::UrlExtract(part, name)),
        );
        all
    }

    fn name(self) -> &'static str {
        match self {
            Kind::FromIso8601Timestamp => "from_iso8601_timestamp",
            Kind::ToUnixtime => "to_unixtime",
            Kind::FromUnixtime => "from_unixtime",
            Kind::DateAdd => "date_add",
            Kind::DateDiff => "date_diff",
            Kind::DateFormat => "date_format",
            Kind::FormatDatetime => "format_datetime",
            Kind::FromIso8601Date => "from_iso8601_date",
            Kind::Try => "try",
            Kind::DateParse => "date_parse",
            Kind::ParseDatetime => "parse_datetime",
            Kind::Date => "date",
            Kind::ToIso8601 => "to_iso8601",
            Kind::Part(_, name) | Kind::UrlExtract(_, name) => name,
            Kind::JsonExtractScalar => "json_extract_scalar",
            Kind::JsonExtract => "json_extract",
            Kind::JsonFormat => "json_format",
            Kind::ElementAt => "element_at",
            Kind::Contains => "contains",
            Kind::IpAddress => "ipaddress",
            Kind::SplitPart => "split_part",
            Kind::Split => "split",
            Kind::Replace => "replace",
            Kind::RegexpExtract => "regexp_extract",
            Kind::RegexpExtractAll => "regexp_extract_all",
        }
    }

    /// The numbers of arguments it takes.
    fn arities(self) -> &'static [usize] {
        match self {
            Kind::FromIso8601Timestamp
            | Kind::ToUnixtime
            | Kind::JsonFormat
            | Kind::Date
            | Kind::ToIso8601
            | Kind::FromIso8601Date
            | Kind::IpAddress
            | Kind::Try
            | Kind::Part(..) => &[1],
            Kind::FromUnixtime => &[1, 2, 3],
            Kind::UrlExtract(text::UrlPart::Parameter, _) => &[2],
            Kind::UrlExtract(..) => &[1],
            Kind::JsonExtractScalar
            | Kind::JsonExtract
            | Kind::ElementAt
            | Kind::Contains
            | Kind::DateFormat
            | Kind::FormatDatetime
            | Kind::DateParse
            | Kind::ParseDatetime
            | Kind::Split => &[2],
            Kind::Replace | Kind::RegexpExtract | Kind::RegexpExtractAll => &[2, 3],
            Kind::DateAdd | Kind::DateDiff | Kind::SplitPart => &[3],
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
        let list_of_text = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        match self.kind {
            Kind::FromIso8601Timestamp | Kind::FromUnixtime | Kind::DateParse | Kind::ParseDatetime => {
                Ok(time::utc_millis())
            }
            Kind::ToUnixtime => Ok(DataType::Float64),
            Kind::DateAdd => Ok(time::date_add_type(&args[2])),
            Kind::DateDiff | Kind::Part(..) | Kind::UrlExtract(text::UrlPart::Port, _) => Ok(DataType::Int64),
            Kind::Date | Kind::FromIso8601Date => Ok(DataType::Date32),
            Kind::Try => Ok(args[0].clone()),
            Kind::JsonExtractScalar
            | Kind::JsonExtract
            | Kind::JsonFormat
            | Kind::SplitPart
            | Kind::DateFormat
            | Kind::FormatDatetime
            | Kind::ToIso8601
            | Kind::Replace
            | Kind::RegexpExtract
            | Kind::IpAddress
            | Kind::UrlExtract(..) => Ok(DataType::Utf8),
            Kind::Split | Kind::RegexpExtractAll => Ok(list_of_text()),
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
            Kind::FormatDatetime => time::format_datetime(&arrays[0], &arrays[1])?,
            Kind::FromIso8601Date => time::date(&arrays[0])?,
            Kind::Try => arrays[0].clone(),
            Kind::DateParse => time::date_parse(&arrays[0], &arrays[1])?,
            Kind::ParseDatetime => time::parse_datetime(&arrays[0], &arrays[1])?,
            Kind::Date => time::date(&arrays[0])?,
            Kind::ToIso8601 => time::to_iso8601(&arrays[0])?,
            Kind::Part(part, _) => time::part(part, &arrays[0])?,
            Kind::JsonExtractScalar => json::extract(&arrays[0], &arrays[1], true)?,
            Kind::JsonExtract => json::extract(&arrays[0], &arrays[1], false)?,
            Kind::JsonFormat => Arc::new(strings(&arrays[0], "json_format")?),
            Kind::ElementAt => collections::element_at(&arrays[0], &arrays[1])?,
            Kind::Contains => collections::contains(&arrays[0], &arrays[1])?,
            Kind::IpAddress => collections::ipaddress(&arrays[0])?,
            Kind::SplitPart => collections::split_part(&arrays[0], &arrays[1], &arrays[2])?,
            Kind::Split => text::split(&arrays)?,
            Kind::Replace => text::replace(&arrays)?,
            Kind::RegexpExtract => text::regexp_extract(&arrays)?,
            Kind::RegexpExtractAll => text::regexp_extract_all(&arrays)?,
            Kind::UrlExtract(part, _) => text::url_extract(part, &arrays)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// The names of the Trino functions the embedded engine adds (the assistant tells the model
/// it may use them).
pub fn trino_function_names() -> Vec<&'static str> {
    Kind::all().into_iter().map(Kind::name).collect()
}

/// Registers every function on `ctx`, replacing DataFusion's functions of the same name where
/// Trino's meaning differs (`contains` on arrays, `split_part` past the end, `to_unixtime`
/// returning seconds as a double).
pub fn register_trino_functions(ctx: &SessionContext) {
    for kind in Kind::all() {
        let forms = kind.arities().iter().map(|&n| TypeSignature::Any(n)).collect();
        let signature = Signature::one_of(forms, Volatility::Immutable);
        ctx.register_udf(ScalarUDF::new_from_impl(TrinoFunction { kind, signature }));
    }
    // Trino's `approx_percentile(x, p)` is DataFusion's `approx_percentile_cont`.
    let percentile = datafusion::functions_aggregate::approx_percentile_cont::approx_percentile_cont_udaf();
    ctx.register_udaf(percentile.as_ref().clone().with_aliases(["approx_percentile"]));
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

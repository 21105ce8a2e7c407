//! Trino's date/time functions over millisecond UTC timestamps.

use super::strings;
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Float64Array, Int64Array, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{DataFusionError, Result, exec_err};
use std::sync::Arc;

const UTC: &str = "+00:00";

/// Trino's `timestamp(3) with time zone`, in UTC.
pub(super) fn utc_millis() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some(UTC.into()))
}

/// `date_add` keeps dates as dates and timestamps as (millisecond) timestamps.
pub(super) fn date_add_type(input: &DataType) -> DataType {
    match input {
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, tz) => {
            DataType::Timestamp(TimeUnit::Millisecond, tz.clone().or(Some(UTC.into())))
        }
        _ => utc_millis(),
    }
}

/// Parses the ISO 8601 forms Trino accepts: with offset or `Z`, without (taken as UTC), and
/// date only.
pub(crate) fn parse_iso8601_millis(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis())
}

pub(super) fn from_iso8601_timestamp(input: &ArrayRef) -> Result<ArrayRef> {
    let s = strings(input, "from_iso8601_timestamp")?;
    let mut out = Vec::with_capacity(s.len());
    for v in s.iter() {
        out.push(match v {
            None => None,
            Some(text) => Some(parse_iso8601_millis(text).ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "from_iso8601_timestamp: `{text}` is not an ISO 8601 timestamp \
                     (e.g. 2024-11-20T10:15:00Z)"
                ))
            })?),
        });
    }
    Ok(Arc::new(TimestampMillisecondArray::from(out).with_timezone(UTC)))
}

/// Any timestamp, date or ISO string as UTC milliseconds.
fn millis(input: &ArrayRef, function: &str) -> Result<TimestampMillisecondArray> {
    let ms = match input.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Null => {
            cast(input, &DataType::Timestamp(TimeUnit::Millisecond, None))?
        }
        _ => {
            let parsed = from_iso8601_timestamp(input)
                .map_err(|e| DataFusionError::Execution(format!("{function}: {e}")))?;
            cast(&parsed, &DataType::Timestamp(TimeUnit::Millisecond, None))?
        }
    };
    Ok(ms.as_any().downcast_ref::<TimestampMillisecondArray>().expect("cast").clone())
}

pub(super) fn to_unixtime(input: &ArrayRef) -> Result<ArrayRef> {
    let ms = millis(input, "to_unixtime")?;
    let out: Float64Array = ms.iter().map(|v| v.map(|ms| ms as f64 / 1000.0)).collect();
    Ok(Arc::new(out))
}

pub(super) fn from_unixtime(input: &ArrayRef) -> Result<ArrayRef> {
    if !input.data_type().is_numeric() && input.data_type() != &DataType::Null {
        return exec_err!("from_unixtime: expected seconds as a number, got {}", input.data_type());
    }
    let secs = cast(input, &DataType::Float64)?;
    let secs = secs.as_any().downcast_ref::<Float64Array>().expect("cast");
    let out: TimestampMillisecondArray =
        secs.iter().map(|v| v.map(|s| (s * 1000.0).round() as i64)).collect();
    Ok(Arc::new(out.with_timezone(UTC)))
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Fixed(i64), // milliseconds per unit
    Months(i64),
}

fn unit(text: &str, function: &str) -> Result<Unit> {
    Ok(match text.trim().to_ascii_lowercase().as_str() {
        "millisecond" => Unit::Fixed(1),
        "second" => Unit::Fixed(1_000),
        "minute" => Unit::Fixed(60_000),
        "hour" => Unit::Fixed(3_600_000),
        "day" => Unit::Fixed(86_400_000),
        "week" => Unit::Fixed(7 * 86_400_000),
        "month" => Unit::Months(1),
        "quarter" => Unit::Months(3),
        "year" => Unit::Months(12),
        other => {
            return exec_err!(
                "{function}: unknown unit `{other}`; use millisecond, second, minute, hour, day, \
                 week, month, quarter or year"
            );
        }
    })
}

fn add_months(ms: i64, months: i64) -> Option<i64> {
    let dt = DateTime::from_timestamp_millis(ms)?;
    let shifted = if months >= 0 {
        dt.checked_add_months(Months::new(months as u32))
    } else {
        dt.checked_sub_months(Months::new(months.unsigned_abs() as u32))
    };
    shifted.map(|d| d.timestamp_millis())
}

pub(super) fn date_add(units: &ArrayRef, values: &ArrayRef, ts: &ArrayRef) -> Result<ArrayRef> {
    let units = strings(units, "date_add")?;
    let values = cast(values, &DataType::Int64)?;
    let values = values.as_any().downcast_ref::<Int64Array>().expect("cast");
    let base = millis(ts, "date_add")?;
    let mut out = Vec::with_capacity(base.len());
    for i in 0..base.len() {
        if units.is_null(i) || values.is_null(i) || base.is_null(i) {
            out.push(None);
            continue;
        }
        let (n, t) = (values.value(i), base.value(i));
        let shifted = match unit(units.value(i), "date_add")? {
            Unit::Fixed(ms) => n.checked_mul(ms).and_then(|d| t.checked_add(d)),
            Unit::Months(m) => n.checked_mul(m).and_then(|months| add_months(t, months)),
        };
        out.push(Some(
            shifted.ok_or_else(|| DataFusionError::Execution("date_add: result is out of range".into()))?,
        ));
    }
    let result = TimestampMillisecondArray::from(out);
    Ok(match date_add_type(ts.data_type()) {
        DataType::Date32 => {
            let days: Date32Array =
                result.iter().map(|v| v.map(|ms| ms.div_euclid(86_400_000) as i32)).collect();
            Arc::new(days)
        }
        DataType::Timestamp(_, tz) => Arc::new(result.with_timezone_opt(tz)),
        _ => unreachable!("date_add_type returns dates or timestamps"),
    })
}

/// Whole months from `a` to `b`, counting only completed months, as Trino does.
fn months_between(a: i64, b: i64) -> Option<i64> {
    let (da, db) = (DateTime::from_timestamp_millis(a)?, DateTime::from_timestamp_millis(b)?);
    use chrono::Datelike;
    let mut m = (db.year() as i64 - da.year() as i64) * 12 + db.month() as i64 - da.month() as i64;
    let reached = |m: i64| add_months(a, m).map(|t| if m >= 0 { t <= b } else { t >= b });
    if m > 0 && !reached(m)? {
        m -= 1;
    } else if m < 0 && !reached(m)? {
        m += 1;
    }
    Some(m)
}

pub(super) fn date_diff(units: &ArrayRef, a: &ArrayRef, b: &ArrayRef) -> Result<ArrayRef> {
    let units = strings(units, "date_diff")?;
    let (a, b) = (millis(a, "date_diff")?, millis(b, "date_diff")?);
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if units.is_null(i) || a.is_null(i) || b.is_null(i) {
            out.push(None);
            continue;
        }
        let (x, y) = (a.value(i), b.value(i));
        out.push(match unit(units.value(i), "date_diff")? {
            Unit::Fixed(ms) => Some((y - x) / ms),
            Unit::Months(m) => months_between(x, y).map(|months| months / m),
        });
    }
    Ok(Arc::new(Int64Array::from(out)))
}

/// MySQL-style format specifiers (Trino's `date_format`) as chrono's.
fn chrono_format(mysql: &str) -> String {
    let mut out = String::with_capacity(mysql.len() + 4);
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = match chars.next() {
            Some('Y') => "%Y",
            Some('y') => "%y",
            Some('m') => "%m",
            Some('c') => "%-m",
            Some('d') => "%d",
            Some('e') => "%-d",
            Some('H') => "%H",
            Some('k') => "%-H",
            Some('h') | Some('I') => "%I",
            Some('l') => "%-I",
            Some('i') => "%M",
            Some('s') | Some('S') => "%S",
            Some('f') => "%6f",
            Some('p') => "%p",
            Some('j') => "%j",
            Some('a') => "%a",
            Some('b') => "%b",
            Some('M') => "%B",
            Some('W') => "%A",
            Some('T') => "%H:%M:%S",
            Some('r') => "%I:%M:%S %p",
            Some('%') => "%%",
            Some(other) => {
                out.push(other);
                continue;
            }
            None => "%%",
        };
        out.push_str(spec);
    }
    out
}

pub(super) fn date_format(ts: &ArrayRef, format: &ArrayRef) -> Result<ArrayRef> {
    format_with(ts, format, "date_format", chrono_format)
}

/// A column's format as chrono's, converted once per distinct format (they are nearly always
/// one literal).
struct Converted {
    convert: fn(&str) -> String,
    last: Option<(String, String)>,
}

impl Converted {
    fn new(convert: fn(&str) -> String) -> Self {
        Converted { convert, last: None }
    }

    fn get(&mut self, format: &str) -> &str {
        if self.last.as_ref().is_none_or(|(f, _)| f != format) {
            self.last = Some((format.to_string(), (self.convert)(format)));
        }
        &self.last.as_ref().expect("just set").1
    }
}

/// Trino's `format_datetime`: `date_format` with a Java (Joda) pattern.
pub(super) fn format_datetime(ts: &ArrayRef, format: &ArrayRef) -> Result<ArrayRef> {
    format_with(ts, format, "format_datetime", joda_format)
}

fn format_with(
    ts: &ArrayRef,
    format: &ArrayRef,
    function: &str,
    convert: fn(&str) -> String,
) -> Result<ArrayRef> {
    let ms = millis(ts, function)?;
    let formats = strings(format, function)?;
    let mut out = datafusion::arrow::array::StringBuilder::with_capacity(ms.len(), ms.len() * 10);
    let mut formats_seen = Converted::new(convert);
    for i in 0..ms.len() {
        if ms.is_null(i) || formats.is_null(i) {
            out.append_null();
            continue;
        }
        let f = formats.value(i);
        let chrono = formats_seen.get(f);
        let Some(t) = DateTime::from_timestamp_millis(ms.value(i)) else {
            out.append_null();
            continue;
        };
        out.append_value(t.format(chrono).to_string());
    }
    Ok(Arc::new(out.finish()))
}

/// Trino's `date_parse`: each text read with its MySQL-style format (`%d/%b/%Y:%H:%i:%s +0000`
/// for S3 access logs' `requestdatetime`); text that does not match is NULL, as in Athena's
/// `try(date_parse(...))`, so one odd line never fails a rule's run.
pub(super) fn date_parse(text: &ArrayRef, format: &ArrayRef) -> Result<ArrayRef> {
    parse_with(text, format, "date_parse", chrono_format)
}

/// Trino's `parse_datetime`: the same with a Java (Joda) pattern, as every S3 access log guide
/// writes it (`parse_datetime(requestdatetime, 'dd/MMM/yyyy:HH:mm:ss Z')`).
pub(super) fn parse_datetime(text: &ArrayRef, format: &ArrayRef) -> Result<ArrayRef> {
    parse_with(text, format, "parse_datetime", joda_format)
}

fn parse_with(
    text: &ArrayRef,
    format: &ArrayRef,
    function: &str,
    convert: fn(&str) -> String,
) -> Result<ArrayRef> {
    let texts = strings(text, function)?;
    let formats = strings(format, function)?;
    let mut formats_seen = Converted::new(convert);
    let mut out = Vec::with_capacity(texts.len());
    for i in 0..texts.len() {
        if texts.is_null(i) || formats.is_null(i) {
            out.push(None);
            continue;
        }
        let f = formats.value(i);
        let chrono = formats_seen.get(f);
        let text = texts.value(i).trim();
        let parsed = DateTime::parse_from_str(text, chrono)
            .map(|t| t.timestamp_millis())
            .or_else(|_| NaiveDateTime::parse_from_str(text, chrono).map(|t| t.and_utc().timestamp_millis()))
            .or_else(|_| {
                NaiveDate::parse_from_str(text, chrono)
                    .map(|d| d.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp_millis()))
            })
            .ok();
        out.push(parsed);
    }
    Ok(Arc::new(TimestampMillisecondArray::from(out).with_timezone(UTC)))
}

/// A Java (Joda) date pattern as chrono's: letters repeat for width (`yyyy`, `MMM`, `dd`),
/// text in single quotes is literal.
fn joda_format(joda: &str) -> String {
    let mut out = String::with_capacity(joda.len() + 8);
    let chars: Vec<char> = joda.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..].iter().position(|&q| q == '\'').map_or(chars.len(), |p| i + 1 + p);
            chars[i + 1..end].iter().for_each(|&l| if l == '%' { out.push_str("%%") } else { out.push(l) });
            i = end + 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        let spec = match (c, run) {
            ('y' | 'Y' | 'u', 2) => "%y",
            ('y' | 'Y' | 'u', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', 1) => "%-I",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', _) => "%.f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) => "%Z",
            ('%', _) => "%%",
            _ => {
                chars[i..i + run].iter().for_each(|&l| out.push(l));
                i += run;
                continue;
            }
        };
        out.push_str(spec);
        i += run;
    }
    out
}

/// Trino's `date(x)`: the day of a timestamp, or of an ISO text (`date('2024-11-20')`).
pub(super) fn date(input: &ArrayRef) -> Result<ArrayRef> {
    let ms = millis(input, "date")?;
    let days: Date32Array = ms.iter().map(|v| v.map(|ms| ms.div_euclid(86_400_000) as i32)).collect();
    Ok(Arc::new(days))
}

/// Trino's `to_iso8601(x)`: `2024-11-20T10:15:30.000Z` for a timestamp, `2024-11-20` for a date.
pub(super) fn to_iso8601(input: &ArrayRef) -> Result<ArrayRef> {
    let date_only = matches!(input.data_type(), DataType::Date32 | DataType::Date64);
    let ms = millis(input, "to_iso8601")?;
    let out: datafusion::arrow::array::StringArray = ms
        .iter()
        .map(|v| {
            let t = DateTime::from_timestamp_millis(v?)?;
            Some(if date_only {
                t.format("%Y-%m-%d").to_string()
            } else {
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// The fields `year(x)`, `day_of_week(x)` and the rest read, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
}

/// `(name, field)` for every name Trino gives a field function.
pub(super) const PARTS: &[(&str, Part)] = &[
    ("year", Part::Year),
    ("quarter", Part::Quarter),
    ("month", Part::Month),
    ("week", Part::Week),
    ("week_of_year", Part::Week),
    ("day", Part::Day),
    ("day_of_month", Part::Day),
    ("day_of_week", Part::DayOfWeek),
    ("dow", Part::DayOfWeek),
    ("day_of_year", Part::DayOfYear),
    ("doy", Part::DayOfYear),
    ("hour", Part::Hour),
    ("minute", Part::Minute),
    ("second", Part::Second),
    ("millisecond", Part::Millisecond),
];

/// One field of each time, as Trino numbers it (ISO weeks, Monday = 1).
pub(super) fn part(field: Part, input: &ArrayRef) -> Result<ArrayRef> {
    use chrono::{Datelike, Timelike};
    let ms = millis(input, "the date field functions")?;
    let out: Int64Array = ms
        .iter()
        .map(|v| {
            let t = DateTime::from_timestamp_millis(v?)?;
            Some(match field {
                Part::Year => t.year() as i64,
                Part::Quarter => (t.month0() / 3 + 1) as i64,
                Part::Month => t.month() as i64,
                Part::Week => t.iso_week().week() as i64,
                Part::Day => t.day() as i64,
                Part::DayOfWeek => t.weekday().number_from_monday() as i64,
                Part::DayOfYear => t.ordinal() as i64,
                Part::Hour => t.hour() as i64,
                Part::Minute => t.minute() as i64,
                Part::Second => t.second() as i64,
                Part::Millisecond => (t.timestamp_subsec_millis()) as i64,
            })
        })
        .collect();
    Ok(Arc::new(out))
}

//! Trino's string, regex and URL functions that published Athena queries use: `regexp_extract`
//! (with a group), `regexp_extract_all`, two-argument `replace`, `split` and `url_extract_*`.

use super::strings;
use datafusion::arrow::array::{Array, ArrayRef, Int64Array, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use regex::Regex;
use std::sync::Arc;

/// The parts `url_extract_*` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum UrlPart {
    Host,
    Path,
    Port,
    Protocol,
    Query,
    Fragment,
    Parameter,
}

/// One compiled regex per distinct pattern in the column (patterns are nearly always literals).
struct Patterns {
    last: Option<(String, Regex)>,
}

impl Patterns {
    fn get(&mut self, pattern: &str, function: &str) -> Result<&Regex> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            let re =
                Regex::new(pattern).or_else(|e| exec_err!("{function}: `{pattern}` is not a regex: {e}"))?;
            self.last = Some((pattern.to_string(), re));
        }
        Ok(&self.last.as_ref().expect("just set").1)
    }
}

fn groups(args: &[ArrayRef], len: usize) -> Result<Option<Int64Array>> {
    match args.get(2) {
        None => Ok(None),
        Some(g) => {
            let g = cast(g, &DataType::Int64)?;
            Ok(Some(g.as_any().downcast_ref::<Int64Array>().expect("cast").clone())
                .filter(|g| g.len() == len))
        }
    }
}

/// Calls `visit` for each row with its text, compiled pattern and group, or `None` where any
/// of them is NULL; a group the pattern lacks is an error naming it.
fn each_match(
    args: &[ArrayRef],
    function: &str,
    mut visit: impl FnMut(Option<(&str, &Regex, usize)>),
) -> Result<()> {
    let (s, p) = (strings(&args[0], function)?, strings(&args[1], function)?);
    let group = groups(args, s.len())?;
    let mut patterns = Patterns { last: None };
    for row in 0..s.len() {
        if s.is_null(row) || p.is_null(row) || group.as_ref().is_some_and(|g| g.is_null(row)) {
            visit(None);
            continue;
        }
        let re = patterns.get(p.value(row), function)?;
        let g = group.as_ref().map_or(0, |g| g.value(row));
        if g < 0 || g as usize >= re.captures_len() {
            return exec_err!("{function}: the pattern has no group {g} (it has {})", re.captures_len() - 1);
        }
        visit(Some((s.value(row), re, g as usize)));
    }
    Ok(())
}

/// `regexp_extract(s, pattern[, group])`: the first match (or its group), NULL when none.
pub(super) fn regexp_extract(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(args[0].len(), args[0].len() * 8);
    each_match(args, "regexp_extract", |m| {
        out.append_option(m.and_then(|(text, re, g)| re.captures(text)?.get(g).map(|c| c.as_str())))
    })?;
    Ok(Arc::new(out.finish()))
}

/// `regexp_extract_all(s, pattern[, group])`: every match (or its group) as an array.
pub(super) fn regexp_extract_all(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = ListBuilder::new(StringBuilder::new());
    each_match(args, "regexp_extract_all", |m| match m {
        None => out.append_null(),
        Some((text, re, g)) => {
            for c in re.captures_iter(text) {
                out.values().append_option(c.get(g).map(|m| m.as_str()));
            }
            out.append(true);
        }
    })?;
    Ok(Arc::new(out.finish()))
}

/// `replace(s, search[, replacement])`: without a replacement, the search is removed.
pub(super) fn replace(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (s, from) = (strings(&args[0], "replace")?, strings(&args[1], "replace")?);
    let to = match args.get(2) {
        Some(t) => Some(strings(t, "replace")?),
        None => None,
    };
    let mut out = StringBuilder::with_capacity(s.len(), s.len() * 8);
    for row in 0..s.len() {
        let with = match &to {
            Some(t) if t.is_null(row) => None,
            Some(t) => Some(t.value(row)),
            None => Some(""),
        };
        if s.is_null(row) || from.is_null(row) || with.is_none() {
            out.append_null();
            continue;
        }
        let (text, search) = (s.value(row), from.value(row));
        // Trino puts the replacement between every character for an empty search.
        let replaced =
            if search.is_empty() { text.to_string() } else { text.replace(search, with.unwrap_or("")) };
        out.append_value(replaced);
    }
    Ok(Arc::new(out.finish()))
}

/// `split(s, delimiter)`: the parts as an array (index it 1-based, as Trino does: `split(x,
/// '/')[2]`).
pub(super) fn split(args: &[ArrayRef]) -> Result<ArrayRef> {
    let (s, d) = (strings(&args[0], "split")?, strings(&args[1], "split")?);
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in 0..s.len() {
        if s.is_null(row) || d.is_null(row) {
            out.append_null();
            continue;
        }
        let (text, delim) = (s.value(row), d.value(row));
        if delim.is_empty() {
            out.values().append_value(text);
        } else {
            text.split(delim).for_each(|part| out.values().append_value(part));
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// `url_extract_host(url)` and the rest; `url_extract_parameter(url, name)` the first value of
/// a query parameter. A text that is not a URL gives NULL, as in Trino.
pub(super) fn url_extract(part: UrlPart, args: &[ArrayRef]) -> Result<ArrayRef> {
    let urls = strings(&args[0], "url_extract")?;
    let names = match (part, args.get(1)) {
        (UrlPart::Parameter, Some(n)) => Some(strings(n, "url_extract_parameter")?),
        (UrlPart::Parameter, None) => return exec_err!("url_extract_parameter: give the parameter's name"),
        _ => None,
    };
    if part == UrlPart::Port {
        let ports: Int64Array = (0..urls.len())
            .map(|row| {
                let url = urls.is_valid(row).then(|| url::Url::parse(urls.value(row)).ok()).flatten()?;
                url.port().map(i64::from)
            })
            .collect();
        return Ok(Arc::new(ports));
    }
    let mut out = StringBuilder::with_capacity(urls.len(), urls.len() * 16);
    for row in 0..urls.len() {
        let url = urls.is_valid(row).then(|| url::Url::parse(urls.value(row)).ok()).flatten();
        let value = url.as_ref().and_then(|u| match part {
            UrlPart::Host => u.host_str().map(String::from),
            UrlPart::Path => Some(u.path().to_string()),
            UrlPart::Protocol => Some(u.scheme().to_string()),
            UrlPart::Query => u.query().map(String::from),
            UrlPart::Fragment => u.fragment().map(String::from),
            UrlPart::Parameter => {
                let name = names.as_ref().filter(|n| n.is_valid(row)).map(|n| n.value(row))?;
                u.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
            }
            UrlPart::Port => None,
        });
        out.append_option(value);
    }
    Ok(Arc::new(out.finish()))
}

//! Converts one Sigma detection rule, together with the filter documents that target it and its
//! legacy pipe aggregation, into a `ConvertedRule`.

use rsigma_parser::{FilterRule, FilterRuleTarget, LogSource, SigmaRule, Timespan};

use super::condition::Compiler;
use super::documents::{Doc, Parsed};
use super::fields::{Field, Table, table_for};
use super::query::{CountQuery, count_query, detection_query};
use super::sql::Pred;
use super::{ConvertError, ConvertedRule, Failure, aggregation, severity};

pub(crate) fn convert(
    rule: &SigmaRule,
    doc: &Doc,
    docs: &[Doc],
    default_window_secs: u64,
) -> Result<ConvertedRule, ConvertError> {
    convert_inner(rule, doc, docs, default_window_secs).map_err(|f| f.for_rule(&rule.title))
}

fn convert_inner(
    rule: &SigmaRule,
    doc: &Doc,
    docs: &[Doc],
    default_window_secs: u64,
) -> Result<ConvertedRule, Failure> {
    let table = table_for(&rule.logsource)?;
    let window_secs = match &rule.detection.timeframe {
        Some(timeframe) => parse_timespan(timeframe)?,
        None => default_window_secs,
    };
    let (condition, used) = predicate(rule, table, docs)?;
    let query = match &doc.aggregation {
        None => detection_query(table, condition, &used),
        Some(tail) => {
            let agg = aggregation::parse(tail)?;
            count_query(CountQuery {
                table,
                condition,
                group_by: agg.group_by.iter().map(|g| table.resolve(g)).collect::<Result<_, _>>()?,
                distinct: agg.field.as_deref().map(|f| table.resolve(f)).transpose()?,
                thresholds: vec![(agg.op, agg.value)],
            })?
        }
    };
    Ok(ConvertedRule {
        sigma_id: rule.id.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        severity: severity(rule.level),
        tags: rule.tags.clone(),
        references: rule.references.clone(),
        false_positives: rule.falsepositives.clone(),
        table: table.name.to_string(),
        query,
        window_secs,
        dedup_secs: None,
        dedup_fields: vec![],
    })
}

fn parse_timespan(text: &str) -> Result<u64, Failure> {
    Timespan::parse(text).map(|t| t.seconds).map_err(|_| {
        Failure::new(format!("timeframe `{text}`"), "write a number followed by s, m, h or d, e.g. 15m")
    })
}

/// The rule's condition AND-ed with the conditions of every filter document that targets it.
pub(crate) fn predicate(
    rule: &SigmaRule,
    table: &Table,
    docs: &[Doc],
) -> Result<(Pred, Vec<Field>), Failure> {
    let mut compiler = Compiler::new(table);
    let mut parts = vec![compiler.detections(&rule.detection)?];
    for filter in filters_for(rule, docs) {
        let part = compiler
            .detections(&filter.detection)
            .map_err(|f| Failure::new(format!("{} in filter `{}`", f.construct, filter.title), f.message))?;
        parts.push(part);
    }
    Ok((Pred::and(parts), compiler.used))
}

fn filters_for<'a>(rule: &SigmaRule, docs: &'a [Doc]) -> Vec<&'a FilterRule> {
    docs.iter()
        .filter_map(|d| match &d.parsed {
            Parsed::Filter(f) if targets(f, rule) => Some(f.as_ref()),
            _ => None,
        })
        .collect()
}

fn targets(filter: &FilterRule, rule: &SigmaRule) -> bool {
    let named = match &filter.rules {
        FilterRuleTarget::Any => true,
        FilterRuleTarget::Specific(refs) => refs.iter().any(|r| {
            rule.id.as_deref() == Some(r.as_str())
                || rule.name.as_deref() == Some(r.as_str())
                || *r == rule.title
        }),
    };
    named && filter.logsource.as_ref().is_none_or(|ls| logsource_covers(ls, &rule.logsource))
}

/// A filter's logsource applies when every attribute it sets equals the rule's.
fn logsource_covers(filter: &LogSource, rule: &LogSource) -> bool {
    let same = |want: &Option<String>, have: &Option<String>| match (want, have) {
        (None, _) => true,
        (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
        (Some(_), None) => false,
    };
    same(&filter.product, &rule.product)
        && same(&filter.service, &rule.service)
        && same(&filter.category, &rule.category)
}

/// A filter that targets no rule in the text would silently do nothing, so it is reported.
pub(crate) fn orphan_filter(filter: &FilterRule, docs: &[Doc]) -> Option<ConvertError> {
    let used = docs.iter().any(|d| matches!(&d.parsed, Parsed::Rule(r) if targets(filter, r)));
    (!used).then(|| {
        Failure::new(
            "filter",
            "it applies to no rule in this text; convert it together with the rules it names (by id or name) \
             and check that its logsource matches theirs",
        )
        .for_rule(&filter.title)
    })
}

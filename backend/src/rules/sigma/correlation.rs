//! Converts Sigma correlation rules (event_count, value_count) into grouped, thresholded queries,
//! and decides which referenced rules are not converted on their own.

use std::collections::HashSet;

use rsigma_parser::{CorrelationCondition, CorrelationRule, CorrelationType, SigmaRule};

use super::aggregation::CmpOp;
use super::documents::{Doc, Parsed};
use super::fields::{Table, table_for};
use super::rule::predicate;
use super::sliding::{Measure, Sliding, sliding_query};
use super::sql::Pred;
use super::{ConvertError, ConvertedRule, Failure, severity};

/// How often a correlation runs at most (its timespan, if shorter).
const SLIDE_EVERY_SECS: u64 = 300;
/// The longest timespan: each run reads this much back.
const MAX_SPAN_SECS: u64 = 7 * 86_400;

fn find_rule<'a>(docs: &'a [Doc], reference: &str) -> Option<(usize, &'a SigmaRule)> {
    docs.iter().enumerate().find_map(|(i, d)| match &d.parsed {
        Parsed::Rule(r) if r.id.as_deref() == Some(reference) || r.name.as_deref() == Some(reference) => {
            Some((i, r.as_ref()))
        }
        _ => None,
    })
}

fn is_correlation(docs: &[Doc], reference: &str) -> bool {
    docs.iter().any(|d| {
        matches!(&d.parsed, Parsed::Correlation(c)
            if c.id.as_deref() == Some(reference) || c.name.as_deref() == Some(reference))
    })
}

/// Indexes of rule documents not converted on their own: those that say `generate: false`, and
/// those referenced by a correlation that says it.
pub(crate) fn suppressed(docs: &[Doc]) -> HashSet<usize> {
    let mut out = HashSet::new();
    for (i, doc) in docs.iter().enumerate() {
        match &doc.parsed {
            Parsed::Rule(_) if doc.generate_false => {
                out.insert(i);
            }
            Parsed::Correlation(c) if doc.generate_false => {
                out.extend(c.rules.iter().filter_map(|r| find_rule(docs, r)).map(|(i, _)| i));
            }
            _ => {}
        }
    }
    out
}

pub(crate) fn convert(correlation: &CorrelationRule, docs: &[Doc]) -> Result<ConvertedRule, ConvertError> {
    convert_inner(correlation, docs).map_err(|f| f.for_rule(&correlation.title))
}

fn convert_inner(c: &CorrelationRule, docs: &[Doc]) -> Result<ConvertedRule, Failure> {
    if !matches!(
        c.correlation_type,
        CorrelationType::EventCount
            | CorrelationType::ValueCount
            | CorrelationType::Temporal
            | CorrelationType::TemporalOrdered
    ) {
        return Err(Failure::new(
            format!("correlation type `{}`", c.correlation_type.as_str()),
            "only event_count, value_count, temporal and temporal_ordered correlations can be expressed as \
             one query; sums, averages and percentiles of field values are not supported",
        ));
    }
    let (predicates, fields) = match &c.condition {
        CorrelationCondition::Threshold { predicates, field, .. } => {
            (predicates.clone(), field.clone().unwrap_or_default())
        }
        // Temporal correlations need no threshold: every rule must match.
        CorrelationCondition::Extended(_)
            if matches!(c.correlation_type, CorrelationType::Temporal | CorrelationType::TemporalOrdered) =>
        {
            (vec![], vec![])
        }
        CorrelationCondition::Extended(_) => {
            return Err(Failure::new(
                "correlation condition expression",
                "use a threshold mapping such as `condition: {gte: 10}`",
            ));
        }
    };
    if !c.aliases.is_empty() {
        return Err(Failure::new(
            "correlation aliases",
            "field aliases are not supported; use the same field name in every referenced rule",
        ));
    }
    if c.rules.is_empty() {
        return Err(Failure::new("correlation rules", "list the ids or names of the rules to correlate"));
    }

    let mut table: Option<&Table> = None;
    let mut conditions = Vec::new();
    for reference in &c.rules {
        let Some((index, rule)) = find_rule(docs, reference) else {
            let message = if is_correlation(docs, reference) {
                "chained correlations are not supported; refer to detection rules only".to_string()
            } else {
                format!(
                    "no rule in this text has id or name `{reference}`; convert the rules together with the correlation"
                )
            };
            return Err(Failure::new(format!("correlation reference `{reference}`"), message));
        };
        let base = |f: Failure| {
            Failure::new(
                format!("referenced rule `{}`", rule.title),
                format!("{}: {}", f.construct, f.message),
            )
        };
        let rule_table = table_for(&rule.logsource).map_err(base)?;
        if docs[index].aggregation.is_some() {
            return Err(base(Failure::new(
                "aggregation",
                "a rule with its own `| count()` aggregation cannot be correlated; drop the aggregation",
            )));
        }
        match table {
            Some(t) if t.name != rule_table.name => {
                return Err(Failure::new(
                    "correlation across tables",
                    format!(
                        "the referenced rules read different tables ({} and {}); correlate rules on one table",
                        table.map_or("", |t| t.name),
                        rule_table.name
                    ),
                ));
            }
            _ => table = Some(rule_table),
        }
        let name = rule.name.clone().or_else(|| rule.id.clone()).unwrap_or_else(|| rule.title.clone());
        conditions.push((name, predicate(rule, rule_table, docs).map_err(base)?.0));
    }
    let table = table.expect("at least one rule");

    let distinct = match (c.correlation_type, fields.as_slice()) {
        (CorrelationType::ValueCount, [field]) => Some(table.resolve(field)?),
        (CorrelationType::ValueCount, []) => {
            return Err(Failure::new(
                "value_count correlation",
                "name the field to count with `condition: {field: ...}`",
            ));
        }
        (CorrelationType::ValueCount, _) => {
            return Err(Failure::new(
                "value_count over several fields",
                "counting distinct combinations of several fields is not supported; count one field",
            ));
        }
        _ => None,
    };
    let group_by: Vec<_> = c.group_by.iter().map(|g| table.resolve(g)).collect::<Result<_, _>>()?;
    let thresholds: Vec<_> =
        predicates.iter().map(|(op, value)| (CmpOp::from_correlation(*op), *value)).collect();
    let measure = match (c.correlation_type, distinct) {
        (CorrelationType::Temporal, _) => Measure::Rules { ordered: false },
        (CorrelationType::TemporalOrdered, _) => Measure::Rules { ordered: true },
        (_, Some(field)) => Measure::Values(field),
        (_, None) => Measure::Events,
    };
    let temporal = matches!(measure, Measure::Rules { .. });
    // Temporal correlations take no condition in Sigma: every referenced rule must match.
    let thresholds = if temporal { vec![(CmpOp::Gte, conditions.len() as u64)] } else { thresholds };
    let span_secs = c.timespan.seconds;
    if !(1..=MAX_SPAN_SECS).contains(&span_secs) {
        return Err(Failure::new(
            format!("timespan {span_secs}s"),
            format!("use a timespan from 1s to {} days", MAX_SPAN_SECS / 86_400),
        ));
    }
    let branches = if temporal {
        conditions
    } else {
        vec![(String::new(), Pred::or(conditions.into_iter().map(|(_, p)| p).collect()))]
    };
    let dedup_fields = group_by.iter().map(|g| g.label.clone()).collect();
    let query = sliding_query(Sliding { table, branches, group_by, measure, thresholds, span_secs })?;
    Ok(ConvertedRule {
        sigma_id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        severity: severity(c.level),
        tags: c.tags.clone(),
        references: c.references.clone(),
        false_positives: c.falsepositives.clone(),
        table: table.name.to_string(),
        query,
        // The timespan slides: each run looks back a whole timespan before its window, so it
        // may run as often as a plain rule does, and no burst is split between two runs.
        window_secs: span_secs.min(SLIDE_EVERY_SECS),
        dedup_secs: Some(span_secs),
        dedup_fields,
    })
}

//! Converts Sigma detection rules (YAML) into Athena/Trino SQL over Mantissa Log's tables.
//! `convert_yaml` is the entry point; the submodules own parsing, field mapping and SQL shape.

mod aggregation;
mod cidr;
mod condition;
mod correlation;
mod documents;
mod fields;
mod matchers;
mod query;
mod rule;
mod sliding;
mod sql;

use std::fmt;

use rsigma_parser::Level;

use self::documents::Parsed;

/// A Sigma rule translated into one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertedRule {
    pub sigma_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    /// "critical", "high", "medium", "low" or "info".
    pub severity: String,
    /// As Sigma writes them, e.g. `attack.t1078`.
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub false_positives: Vec<String>,
    pub table: String,
    pub query: String,
    /// How often the rule runs, each run over its own window (a plain rule's Sigma timeframe).
    pub window_secs: u64,
    /// A correlation's timespan and group-by columns: one incident per group per timespan,
    /// as the sliding timespans of consecutive runs overlap.
    pub dedup_secs: Option<u64>,
    pub dedup_fields: Vec<String>,
}

/// Why one document could not be translated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    /// The rule's title, or `<document N>` when it has none.
    pub rule: String,
    /// The part of the rule that could not be translated.
    pub construct: String,
    /// What to change.
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule `{}`: cannot translate {}: {}", self.rule, self.construct, self.message)
    }
}

impl std::error::Error for ConvertError {}

/// A translation failure before it is attributed to a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub construct: String,
    pub message: String,
}

impl Failure {
    pub fn new(construct: impl Into<String>, message: impl Into<String>) -> Self {
        Failure { construct: construct.into(), message: message.into() }
    }

    pub fn for_rule(self, rule: &str) -> ConvertError {
        ConvertError { rule: rule.to_string(), construct: self.construct, message: self.message }
    }
}

pub(crate) fn severity(level: Option<Level>) -> String {
    match level {
        Some(Level::Informational) => "info",
        Some(Level::Low) => "low",
        Some(Level::Medium) | None => "medium",
        Some(Level::High) => "high",
        Some(Level::Critical) => "critical",
    }
    .to_string()
}

/// Converts every document in `text`, in order: detection rules, correlation rules (which refer
/// to rules in the same text by id or name) and filters (which narrow the rules they name). Rules
/// and correlations give one result each; filters and `action:` documents give a result only when
/// they fail. Queries look back `default_window_secs` unless the rule sets a timeframe/timespan.
///
/// Referenced rules are also converted on their own unless they, or a correlation referring to
/// them, say `generate: false`.
pub fn convert_yaml(text: &str, default_window_secs: u64) -> Vec<Result<ConvertedRule, ConvertError>> {
    let docs = documents::load(text);
    let suppressed = correlation::suppressed(&docs);
    let mut results = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        match &doc.parsed {
            Parsed::Rule(r) if !suppressed.contains(&i) => {
                results.push(rule::convert(r, doc, &docs, default_window_secs));
            }
            Parsed::Rule(_) | Parsed::Action => {}
            Parsed::Correlation(c) => results.push(correlation::convert(c, &docs)),
            Parsed::Filter(f) => results.extend(rule::orphan_filter(f, &docs).map(Err)),
            Parsed::Failed(failure) => results.push(Err(failure.clone().for_rule(&doc.name()))),
        }
    }
    results
}

//! Translates a detection section (named selections combined by the condition expression) into
//! one predicate, remembering which fields it touched.

use std::collections::HashMap;

use rsigma_parser::{ConditionExpr, Detection, Detections, Quantifier, SelectorPattern};

use super::Failure;
use super::fields::{Field, Table};
use super::matchers::{item_pred, keyword_failure};
use super::sql::Pred;

pub(crate) struct Compiler<'a> {
    table: &'a Table,
    /// Fields in first-use order, for the projection.
    pub used: Vec<Field>,
}

impl<'a> Compiler<'a> {
    pub fn new(table: &'a Table) -> Self {
        Compiler { table, used: Vec::new() }
    }

    /// Several condition strings in one rule are alternatives.
    pub fn detections(&mut self, detections: &Detections) -> Result<Pred, Failure> {
        let parts = detections
            .conditions
            .iter()
            .map(|c| self.expr(c, &detections.named))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pred::or(parts))
    }

    fn expr(&mut self, expr: &ConditionExpr, named: &HashMap<String, Detection>) -> Result<Pred, Failure> {
        match expr {
            ConditionExpr::And(parts) => {
                Ok(Pred::and(parts.iter().map(|p| self.expr(p, named)).collect::<Result<_, _>>()?))
            }
            ConditionExpr::Or(parts) => {
                Ok(Pred::or(parts.iter().map(|p| self.expr(p, named)).collect::<Result<_, _>>()?))
            }
            ConditionExpr::Not(inner) => Ok(Pred::not(self.expr(inner, named)?)),
            ConditionExpr::Identifier(name) => {
                let detection = named.get(name).ok_or_else(|| {
                    let mut known: Vec<&String> = named.keys().collect();
                    known.sort();
                    let known: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                    Failure::new(
                        format!("condition `{name}`"),
                        format!("the rule has no detection named `{name}`; it has {}", known.join(", ")),
                    )
                })?;
                self.detection(detection)
            }
            ConditionExpr::Selector { quantifier, pattern } => self.selector(quantifier, pattern, named),
        }
    }

    fn selector(
        &mut self,
        quantifier: &Quantifier,
        pattern: &SelectorPattern,
        named: &HashMap<String, Detection>,
    ) -> Result<Pred, Failure> {
        let construct = || format!("condition `{} of {pattern}`", quantifier_text(quantifier));
        // Sorted, as the parser keeps detections in a hash map and the SQL must be stable.
        let mut names: Vec<&String> = named.keys().filter(|n| pattern.matches_detection_name(n)).collect();
        names.sort();
        if names.is_empty() {
            return Err(Failure::new(construct(), "no detection name matches the pattern"));
        }
        let parts = names.iter().map(|n| self.detection(&named[*n])).collect::<Result<Vec<_>, _>>()?;
        match quantifier {
            Quantifier::Any | Quantifier::Count(1) => Ok(Pred::or(parts)),
            Quantifier::All => Ok(Pred::and(parts)),
            Quantifier::Count(0) => Err(Failure::new(construct(), "`0 of` always matches; remove it")),
            Quantifier::Count(n) if *n as usize > parts.len() => Err(Failure::new(
                construct(),
                format!("only {} detections match the pattern, so {n} of them can never match", parts.len()),
            )),
            Quantifier::Count(n) if *n as usize == parts.len() => Ok(Pred::and(parts)),
            Quantifier::Count(n) => Ok(Pred::AtLeast(*n, parts)),
        }
    }

    fn detection(&mut self, detection: &Detection) -> Result<Pred, Failure> {
        match detection {
            Detection::AllOf(items) if items.is_empty() => {
                Err(Failure::new("empty selection", "a selection needs at least one field to match"))
            }
            Detection::AllOf(items) => Ok(Pred::and(
                items.iter().map(|i| item_pred(i, self.table, &mut self.used)).collect::<Result<_, _>>()?,
            )),
            Detection::AnyOf(alternatives) => {
                Ok(Pred::or(alternatives.iter().map(|d| self.detection(d)).collect::<Result<_, _>>()?))
            }
            Detection::And(parts) => {
                Ok(Pred::and(parts.iter().map(|d| self.detection(d)).collect::<Result<_, _>>()?))
            }
            Detection::Keywords(_) => Err(keyword_failure()),
            Detection::ArrayMatch { field, .. } => Err(Failure::new(
                format!("array matching on `{field}`"),
                "`[any]`/`[all]` array blocks are not supported; match the array's JSON text with `contains` instead",
            )),
            Detection::Conditional { .. } => Err(Failure::new(
                "array block condition",
                "conditions inside array blocks are not supported; match the array's JSON text with `contains` instead",
            )),
        }
    }
}

fn quantifier_text(quantifier: &Quantifier) -> String {
    match quantifier {
        Quantifier::Any => "1".into(),
        Quantifier::All => "all".into(),
        Quantifier::Count(n) => n.to_string(),
    }
}

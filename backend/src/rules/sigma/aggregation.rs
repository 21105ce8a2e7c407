//! Sigma's older pipe aggregation (`selection | count(field) by group >= N`), which the parser
//! rejects and `documents` cuts off the condition, and the threshold operators it shares with
//! correlation rules.

use std::sync::LazyLock;

use regex::Regex;
use rsigma_parser::ConditionOperator;

use super::Failure;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Eq => "=",
            CmpOp::Neq => "<>",
        }
    }

    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            CmpOp::Gt => left > right,
            CmpOp::Gte => left >= right,
            CmpOp::Lt => left < right,
            CmpOp::Lte => left <= right,
            CmpOp::Eq => left == right,
            CmpOp::Neq => left != right,
        }
    }

    pub fn from_correlation(op: ConditionOperator) -> Self {
        match op {
            ConditionOperator::Gt => CmpOp::Gt,
            ConditionOperator::Gte => CmpOp::Gte,
            ConditionOperator::Lt => CmpOp::Lt,
            ConditionOperator::Lte => CmpOp::Lte,
            ConditionOperator::Eq => CmpOp::Eq,
            ConditionOperator::Neq => CmpOp::Neq,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Aggregation {
    /// `count(field)`: distinct values of the field; `count()`: events.
    pub field: Option<String>,
    pub group_by: Vec<String>,
    pub op: CmpOp,
    pub value: u64,
}

static TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(\w+)\s*\(\s*([\w.\-]*)\s*\)\s*(?:by\s+([\w.\-]+(?:\s*,\s*[\w.\-]+)*))?\s*(>=|<=|==|!=|<>|>|<|=)\s*(\d+)\s*$",
    )
    .expect("valid regex")
});

/// Parses the text after the condition's `|`.
pub(crate) fn parse(tail: &str) -> Result<Aggregation, Failure> {
    let construct = || format!("aggregation `| {}`", tail.trim());
    let Some(caps) = TAIL.captures(tail) else {
        let message = if tail.trim_start().to_ascii_lowercase().starts_with("near") {
            "`near` is not supported; express the sequence as separate rules".to_string()
        } else {
            "write it as `count([field]) [by field[, field]] <op> <number>` with op one of > >= < <= = !="
                .to_string()
        };
        return Err(Failure::new(construct(), message));
    };
    let function = caps[1].to_ascii_lowercase();
    if function != "count" {
        return Err(Failure::new(
            construct(),
            format!(
                "only count() aggregations are supported, not {function}(); use count() or a correlation rule"
            ),
        ));
    }
    let field = Some(caps[2].to_string()).filter(|f| !f.is_empty());
    let group_by = caps
        .get(3)
        .map(|g| g.as_str().split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let op = match &caps[4] {
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Gte,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Lte,
        "=" | "==" => CmpOp::Eq,
        _ => CmpOp::Neq,
    };
    let value = caps[5].parse().map_err(|_| Failure::new(construct(), "the threshold is too large"))?;
    Ok(Aggregation { field, group_by, op, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_count_forms() {
        assert_eq!(
            parse(" count() > 5").unwrap(),
            Aggregation { field: None, group_by: vec![], op: CmpOp::Gt, value: 5 }
        );
        assert_eq!(
            parse("count(dstport) by srcaddr, dstaddr >= 10").unwrap(),
            Aggregation {
                field: Some("dstport".into()),
                group_by: vec!["srcaddr".into(), "dstaddr".into()],
                op: CmpOp::Gte,
                value: 10
            }
        );
        assert_eq!(parse("COUNT(userIdentity.arn) BY sourceIPAddress==3").unwrap().op, CmpOp::Eq);
    }

    #[test]
    fn rejects_other_aggregations() {
        assert!(parse("sum(bytes) by srcaddr > 5").unwrap_err().message.contains("only count()"));
        assert!(parse("near other").unwrap_err().message.contains("near"));
        assert!(parse("count() by").is_err());
    }
}

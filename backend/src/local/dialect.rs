//! Where Athena's SQL means something DataFusion reads differently, the text is adjusted
//! before planning: Trino's identifiers are case-insensitive even when quoted (`"DataTransferred"`
//! finds the column `datatransferred`), `CAST(x AS IPADDRESS)` keeps the address as the text the
//! lake has as a sortable value (`IPADDRESS '10.0.0.0'` literals too), `if(c, a, b)` is a `CASE`,
//! `typeof` is `arrow_typeof`, and `CROSS JOIN UNNEST(t.arr) AS u(x)` (a lateral join DataFusion
//! cannot plan) becomes `unnest` in a subquery over `t`.

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    CaseWhen, DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinConstraint,
    JoinOperator, ObjectName, Select, SetExpr, Statement, TableFactor, VisitMut, VisitorMut,
    visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use std::borrow::Cow;
use std::ops::ControlFlow;

/// `sql` as DataFusion should read it to mean what Athena does; the text as it is when nothing
/// needs a change (so an error's line and column point into what was typed).
pub fn athena_to_datafusion(sql: &str) -> Cow<'_, str> {
    let literals = ip_literals(sql);
    let text = literals.as_deref().unwrap_or(sql);
    match rewrite_statement(text) {
        Some(text) => Cow::Owned(trino_identifiers(&text).into_owned()),
        None if literals.is_some() => Cow::Owned(trino_identifiers(text).into_owned()),
        None => trino_identifiers(sql),
    }
}

/// The Trino forms DataFusion lacks, rewritten in the parsed statement; `None` when there are
/// none (or the text does not parse: the planner reports that).
fn rewrite_statement(sql: &str) -> Option<String> {
    // Rules run every few minutes: most SQL has none of these words and is parsed only once,
    // by DataFusion.
    let lower = sql.to_ascii_lowercase();
    if !["ipaddress", "ipprefix", "unnest", "typeof", "if", "regexp_replace"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return None;
    }
    let mut statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    let mut unnests = Unnests::default();
    let _ = statements.visit(&mut unnests);
    let mut changed = unnests.changed;
    let _ = visit_expressions_mut(&mut statements, |expr| {
        if let Some(new) = rewrite(expr, &unnests.renamed) {
            *expr = new;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    changed.then(|| statements.iter().map(Statement::to_string).collect::<Vec<_>>().join(";\n"))
}

/// `FROM t CROSS JOIN UNNEST(t.arr) AS u(x)` as `FROM (SELECT t.*, unnest(t.arr) AS x FROM t) AS
/// t`; `renamed` maps `u` to `t`, for the references to `u.x` elsewhere in the statement.
#[derive(Default)]
struct Unnests {
    renamed: Vec<(String, String)>,
    changed: bool,
}

impl VisitorMut for Unnests {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        for from in &mut select.from {
            let TableFactor::Table { name, alias, .. } = &from.relation else { continue };
            let base = alias.as_ref().map_or_else(
                || name.0.last().map(ToString::to_string).unwrap_or_default(),
                |a| a.name.to_string(),
            );
            let at = from.joins.iter().position(|j| {
                let cross = match &j.join_operator {
                    JoinOperator::CrossJoin(_) => true,
                    JoinOperator::Inner(JoinConstraint::On(Expr::Value(v)))
                    | JoinOperator::Join(JoinConstraint::On(Expr::Value(v))) => v.to_string().eq_ignore_ascii_case("true"),
                    _ => false,
                };
                cross && matches!(&j.relation, TableFactor::UNNEST { alias: Some(a), array_exprs, with_offset: false, with_ordinality: false, .. }
                    if a.columns.len() == 1 && array_exprs.len() == 1)
            });
            let Some(at) = at else { continue };
            let TableFactor::UNNEST { alias: Some(u), array_exprs, .. } = &from.joins[at].relation else {
                continue;
            };
            let sql = format!(
                "SELECT 1 FROM (SELECT {base}.*, unnest({}) AS {} FROM {}) AS {base}",
                array_exprs[0], u.columns[0].name, from.relation
            );
            let Ok(parsed) = Parser::parse_sql(&GenericDialect {}, &sql) else { continue };
            let Some(Statement::Query(query)) = parsed.into_iter().next() else { continue };
            let SetExpr::Select(wrapper) = *query.body else { continue };
            let Some(derived) = wrapper.from.into_iter().next() else { continue };
            self.renamed.push((u.name.value.to_ascii_lowercase(), base));
            from.relation = derived.relation;
            from.joins.remove(at);
            self.changed = true;
        }
        ControlFlow::Continue(())
    }
}

fn rewrite(expr: &Expr, renamed: &[(String, String)]) -> Option<Expr> {
    match expr {
        // The lake keeps addresses as text: `ipaddress(x)` makes the sortable value Trino's
        // IPADDRESS is, which `contains(cidr, ip)` reads too; a network stays text.
        Expr::Cast { expr: inner, data_type: DataType::Custom(name, _), .. } => {
            match name.to_string().to_ascii_lowercase().as_str() {
                "ipaddress" => Some(call("ipaddress", (**inner).clone())),
                "ipprefix" => Some((**inner).clone()),
                _ => None,
            }
        }
        Expr::CompoundIdentifier(parts) => {
            let first = parts.first()?.value.to_ascii_lowercase();
            let (_, base) = renamed.iter().find(|(u, _)| *u == first)?;
            let mut parts = parts.clone();
            parts[0] = Ident::new(base.clone());
            Some(Expr::CompoundIdentifier(parts))
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            let FunctionArguments::List(list) = &f.args else { return None };
            let args: Vec<Expr> = list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            match (name.as_str(), args.as_slice()) {
                ("if", [condition, then, rest @ ..]) if rest.len() <= 1 => Some(Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen { condition: condition.clone(), result: then.clone() }],
                    else_result: rest.first().map(|e| Box::new(e.clone())),
                }),
                // Trino replaces every match (and the two-argument form removes them);
                // DataFusion replaces the first unless told `g`.
                ("regexp_replace", [text, pattern]) => regexp_replace_all(text, pattern, "''"),
                ("regexp_replace", [text, pattern, replacement]) => {
                    regexp_replace_all(text, pattern, &replacement.to_string())
                }
                ("typeof", [_]) => {
                    let mut renamed = f.clone();
                    renamed.name = ObjectName::from(vec![Ident::new("arrow_typeof")]);
                    Some(Expr::Function(renamed))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `sql` with every double-quoted identifier in lower case, as Trino resolves them (the lake's
/// columns and tables are lower case, as Athena stores them). Strings and comments are left
/// alone; text the tokenizer cannot read is returned as it is, for the planner to report.
pub fn trino_identifiers(sql: &str) -> Cow<'_, str> {
    if !sql.contains('"') {
        return Cow::Borrowed(sql);
    }
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return Cow::Borrowed(sql);
    };
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(sql.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut edits = vec![];
    for t in &tokens {
        let Token::Word(w) = &t.token else { continue };
        if w.quote_style != Some('"') || !w.value.chars().any(char::is_uppercase) || w.value.contains('"') {
            continue;
        }
        let Some(&line_start) = line_starts.get((t.span.start.line as usize).saturating_sub(1)) else {
            continue;
        };
        let Some((offset, _)) =
            sql[line_start..].char_indices().nth((t.span.start.column as usize).saturating_sub(1))
        else {
            continue;
        };
        let start = line_start + offset;
        let end = start + 1 + w.value.len();
        if sql.get(start..start + 1) == Some("\"") && sql.get(start + 1..end) == Some(w.value.as_str()) {
            edits.push((start + 1, end, w.value.to_lowercase()));
        }
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = sql.to_string();
    for (start, end, lower) in edits.into_iter().rev() {
        out.replace_range(start..end, &lower);
    }
    Cow::Owned(out)
}

/// `regexp_replace(text, pattern, replacement, 'g')`: every match replaced, as Trino does.
fn regexp_replace_all(text: &Expr, pattern: &Expr, replacement: &str) -> Option<Expr> {
    let sql = format!("regexp_replace({text}, {pattern}, {replacement}, 'g')");
    Parser::new(&GenericDialect {}).try_with_sql(&sql).and_then(|mut p| p.parse_expr()).ok()
}

/// A function call `name(arg)`.
fn call(name: &str, arg: Expr) -> Expr {
    let sql = format!("{name}({arg})");
    Parser::new(&GenericDialect {}).try_with_sql(&sql).and_then(|mut p| p.parse_expr()).unwrap_or(arg)
}

/// `IPADDRESS '10.0.0.1'` (a typed literal the parser does not know) as `ipaddress('10.0.0.1')`;
/// `None` when there is none.
fn ip_literals(sql: &str) -> Option<String> {
    if !sql.to_ascii_lowercase().contains("ipaddress") {
        return None;
    }
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize().ok()?;
    let mut out = String::with_capacity(sql.len() + 16);
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        if let Token::Word(w) = &tokens[i]
            && w.quote_style.is_none()
            && w.value.eq_ignore_ascii_case("ipaddress")
        {
            let next =
                tokens[i + 1..].iter().position(|t| !matches!(t, Token::Whitespace(_))).map(|p| i + 1 + p);
            if let Some(n) = next
                && let Token::SingleQuotedString(text) = &tokens[n]
            {
                out.push_str(&format!("ipaddress('{}')", text.replace('\'', "''")));
                changed = true;
                i = n + 1;
                continue;
            }
        }
        out.push_str(&tokens[i].to_string());
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trino_forms_are_rewritten_and_the_rest_kept_as_typed() {
        let sql = "SELECT if(errorcode IS NULL, 'ok', 'denied') AS outcome, typeof(1)\nFROM t\nWHERE contains('10.0.0.0/8', CAST(sourceipaddress AS IPADDRESS))";
        let out = athena_to_datafusion(sql);
        assert!(out.contains("CASE WHEN errorcode IS NULL THEN 'ok' ELSE 'denied' END"), "{out}");
        assert!(
            out.contains("arrow_typeof(1)")
                && out.contains("contains('10.0.0.0/8', ipaddress(sourceipaddress))"),
            "{out}"
        );
        let ips = athena_to_datafusion("SELECT 1 FROM t WHERE CAST(a AS IPADDRESS) > IPADDRESS '10.0.0.0'");
        assert!(ips.contains("ipaddress(a) > ipaddress('10.0.0.0')"), "{ips}");
        let unnest = athena_to_datafusion(
            "SELECT u.r.arn FROM cloudtrail_logs t CROSS JOIN UNNEST(t.resources) u (r) WHERE u.r.type = 'x' ORDER BY u.r.arn",
        );
        assert!(
            unnest.contains("FROM (SELECT t.*, unnest(t.resources) AS r FROM cloudtrail_logs t) AS t"),
            "{unnest}"
        );
        assert!(
            unnest.contains("SELECT t.r.arn")
                && unnest.contains("ORDER BY t.r.arn")
                && unnest.contains("t.r.type"),
            "{unnest}"
        );
        // Nothing to change: the very text, so errors point into it.
        let plain = "SELECT  eventname\nFROM t";
        assert!(matches!(athena_to_datafusion(plain), Cow::Borrowed(s) if s == plain));
    }

    #[test]
    fn quoted_identifiers_are_case_insensitive_as_in_trino() {
        assert_eq!(
            trino_identifiers("SELECT \"EventName\", \"userIdentity\".\"Arn\" AS \"Who\" FROM t"),
            "SELECT \"eventname\", \"useridentity\".\"arn\" AS \"who\" FROM t"
        );
        // Strings, comments and plain identifiers keep their case; lines count.
        let sql = "SELECT 'KeepMe' -- \"Comment\"\n  , \"SrcAddr\"\nFROM t WHERE x = \"Y\"";
        assert_eq!(
            trino_identifiers(sql),
            "SELECT 'KeepMe' -- \"Comment\"\n  , \"srcaddr\"\nFROM t WHERE x = \"y\""
        );
        assert!(matches!(trino_identifiers("SELECT a FROM t"), Cow::Borrowed(_)));
        assert_eq!(trino_identifiers("SELECT 'é', \"Ä\""), "SELECT 'é', \"ä\"");
    }

    /// Trino's `regexp_replace` replaces every match; the rewrite asks DataFusion for the same.
    #[tokio::test]
    async fn regexp_replace_replaces_every_match_as_trino_does() {
        let ctx = datafusion::prelude::SessionContext::new();
        let eval = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(&athena_to_datafusion(sql)).await.unwrap().collect().await.unwrap();
                datafusion::arrow::util::display::array_value_to_string(batches[0].column(0), 0).unwrap()
            }
        };
        assert_eq!(eval("SELECT regexp_replace('a1a1', '1', 'x')").await, "axax");
        assert_eq!(eval("SELECT regexp_replace('a1b22c', '[0-9]')").await, "abc");
        assert_eq!(eval("SELECT regexp_replace('a1a1', '1', 'x', 'i')").await, "axa1", "flags given: kept");
    }
}

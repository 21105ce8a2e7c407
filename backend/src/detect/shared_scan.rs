//! One scan for many rules: rules that filter the same table over the same window run as one
//! query whose columns say which rule matched each row, and the rows are split back per rule,
//! so queries (and Athena's 10 MB minimum) grow with tables, not with rules. A rule that
//! aggregates, joins, sorts or limits cannot share; [`shape`] says why and it runs alone.

use datafusion::arrow::array::{Array, BooleanArray, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, SelectItem, SetExpr, Statement, TableFactor, visit_expressions,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;
use std::sync::Arc;

/// At most this many distinct queries in one shared scan, and this much SQL (Athena takes
/// 262,144 bytes of query text; the margin is for the per-rule columns).
pub const MAX_RULES_PER_SCAN: usize = 64;
pub const MAX_SHARED_SQL_BYTES: usize = 200_000;

/// Functions that make a query without GROUP BY return one row: such a rule cannot share.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "array_agg",
    "approx_distinct",
    "approx_percentile",
    "approx_most_frequent",
    "count_if",
    "bool_and",
    "bool_or",
    "every",
    "arbitrary",
    "any_value",
    "max_by",
    "min_by",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "map_agg",
    "multimap_agg",
    "histogram",
    "listagg",
    "string_agg",
    "checksum",
    "geometric_mean",
    "approx_set",
    "merge",
    "first_value",
    "last_value",
    "median",
    "corr",
    "covar_pop",
    "covar_samp",
    "bitwise_and_agg",
    "bitwise_or_agg",
    "set_agg",
    "set_union",
    "numeric_histogram",
    "kurtosis",
    "skewness",
    "entropy",
    "reduce_agg",
];

/// A rule's query seen as a filter over one table: its output columns (SQL, name) and the
/// conditions ANDed in its WHERE, as SQL text.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub table: String,
    pub columns: Vec<(String, String)>,
    pub conditions: Vec<String>,
}

/// The rendered query's shape, or why it must run alone.
pub fn shape(sql: &str) -> Result<Shape, String> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|_| "its SQL is outside the shared grammar".to_string())?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err("it is not a single SELECT".into());
    };
    if query.with.is_some() {
        return Err("it has a WITH clause".into());
    }
    if query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return Err("it sorts or limits its rows".into());
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err("it combines queries (UNION, VALUES)".into());
    };
    if select.distinct.is_some() || select.top.is_some() {
        return Err("it uses DISTINCT".into());
    }
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    if grouped || select.having.is_some() || select.qualify.is_some() || !select.named_window.is_empty() {
        return Err("it aggregates (GROUP BY, HAVING)".into());
    }
    let [from] = select.from.as_slice() else {
        return Err("it reads more than one table".into());
    };
    if !from.joins.is_empty() || !select.lateral_views.is_empty() {
        return Err("it joins".into());
    }
    let TableFactor::Table { name, alias: None, args: None, .. } = &from.relation else {
        return Err("it reads a subquery, an alias or a table function".into());
    };
    let mut columns = vec![];
    for (n, item) in select.projection.iter().enumerate() {
        let (expr, name) = match item {
            SelectItem::UnnamedExpr(e @ Expr::Identifier(id)) => (e, id.value.to_lowercase()),
            SelectItem::ExprWithAlias { expr, alias } => (expr, alias.value.to_lowercase()),
            SelectItem::UnnamedExpr(_) => return Err(format!("its column {} has no name (add AS)", n + 1)),
            _ => return Err("it selects * (name the columns)".into()),
        };
        columns.push((expr.to_string(), name));
    }
    let mut names: Vec<&str> = columns.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err("two of its columns have the same name".into());
    }
    let blocker =
        visit_expressions(&select.projection, |e| check_expr(e, true)).break_value().or_else(|| {
            select
                .selection
                .as_ref()
                .and_then(|w| visit_expressions(w, |e| check_expr(e, false)).break_value())
        });
    if let Some(why) = blocker {
        return Err(why);
    }
    let mut conditions = vec![];
    if let Some(selection) = &select.selection {
        conjuncts(selection, &mut conditions);
    }
    Ok(Shape { table: name.to_string().to_lowercase(), columns, conditions })
}

fn check_expr(e: &Expr, in_projection: bool) -> ControlFlow<String> {
    match e {
        Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
            ControlFlow::Break("it has a subquery".into())
        }
        Expr::Function(f) if f.over.is_some() => ControlFlow::Break("it uses a window function".into()),
        Expr::Function(f) if in_projection => {
            let name = f.name.to_string().to_lowercase();
            let last = name.rsplit('.').next().unwrap_or(&name);
            if AGGREGATES.contains(&last) {
                ControlFlow::Break(format!("it aggregates ({last})"))
            } else {
                ControlFlow::Continue(())
            }
        }
        _ => ControlFlow::Continue(()),
    }
}

fn conjuncts(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) if matches!(inner.as_ref(), Expr::BinaryOp { op: BinaryOperator::And, .. }) => {
            conjuncts(inner, out)
        }
        other => out.push(other.to_string()),
    }
}

/// One query for `shapes` (all of one table): the conditions every rule has filter the scan,
/// each rule's other conditions make its match flag (`mantissa_m{i}`), and its columns come out
/// as `mantissa_r{i}_c{j}`, computed only on its rows.
pub fn combine(shapes: &[&Shape]) -> String {
    let common: Vec<&String> = shapes
        .first()
        .map(|first| {
            first.conditions.iter().filter(|c| shapes.iter().all(|s| s.conditions.contains(c))).collect()
        })
        .unwrap_or_default();
    let residual = |s: &Shape| {
        let rest: Vec<String> =
            s.conditions.iter().filter(|c| !common.contains(c)).map(|c| format!("({c})")).collect();
        if rest.is_empty() { "TRUE".to_string() } else { rest.join(" AND ") }
    };
    let mut select = vec![];
    let mut any = vec![];
    for (i, s) in shapes.iter().enumerate() {
        let matched = residual(s);
        select.push(format!("COALESCE({matched}, FALSE) AS mantissa_m{i}"));
        for (j, (expr, _)) in s.columns.iter().enumerate() {
            select.push(format!("CASE WHEN {matched} THEN {expr} END AS mantissa_r{i}_c{j}"));
        }
        any.push(matched.clone());
    }
    let mut filter: Vec<String> = common.iter().map(|c| format!("({c})")).collect();
    filter.push(format!("({})", any.join(" OR ")));
    let table = shapes.first().map_or("", |s| s.table.as_str());
    format!("SELECT {}\nFROM {table}\nWHERE {}", select.join(",\n  "), filter.join("\n  AND "))
}

/// Rule `i`'s rows of a shared scan, with its own column names.
pub fn split(batches: &[RecordBatch], i: usize, shape: &Shape) -> Result<Vec<RecordBatch>, String> {
    let mut out = vec![];
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let schema = batch.schema();
        let column = |name: &str| {
            schema
                .index_of(name)
                .map(|at| batch.column(at).clone())
                .map_err(|_| format!("the shared scan lacks {name}"))
        };
        let flag = column(&format!("mantissa_m{i}"))?;
        let mask = match flag.as_any().downcast_ref::<BooleanArray>() {
            Some(b) => b.iter().map(|v| Some(v == Some(true))).collect::<BooleanArray>(),
            // Athena's results arrive as text.
            None => match flag.as_any().downcast_ref::<StringArray>() {
                Some(t) => t.iter().map(|v| Some(v == Some("true"))).collect::<BooleanArray>(),
                None => return Err(format!("the match flag of rule {i} is {}", flag.data_type())),
            },
        };
        let mut fields = vec![];
        let mut arrays = vec![];
        for (j, (_, name)) in shape.columns.iter().enumerate() {
            let array = column(&format!("mantissa_r{i}_c{j}"))?;
            fields.push(Field::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
        let own = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())?;
        let rows = filter_record_batch(&own, &mask).map_err(|e| e.to_string())?;
        if rows.num_rows() > 0 {
            out.push(rows);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_share_and_aggregates_say_why_not() {
        let a = shape(
            "SELECT eventtime, useridentity.arn AS actor FROM cloudtrail_logs \
             WHERE dt = '2024-11-20' AND eventname = 'StopLogging'",
        )
        .unwrap();
        assert_eq!(a.table, "cloudtrail_logs");
        assert_eq!(
            a.columns,
            [("eventtime".into(), "eventtime".into()), ("useridentity.arn".into(), "actor".into())]
        );
        assert_eq!(a.conditions, ["dt = '2024-11-20'", "eventname = 'StopLogging'"]);
        for (sql, why) in [
            ("SELECT count(*) AS n FROM cloudtrail_logs", "aggregates (count)"),
            ("SELECT a, count(*) AS n FROM t GROUP BY a", "aggregates (GROUP BY"),
            ("SELECT a FROM t ORDER BY a", "sorts"),
            ("SELECT * FROM t", "selects *"),
            ("SELECT a.x FROM t", "no name"),
            ("SELECT a FROM t JOIN u ON t.k = u.k", "joins"),
            ("SELECT a FROM t WHERE b IN (SELECT b FROM u)", "subquery"),
        ] {
            let err = shape(sql).unwrap_err();
            assert!(err.contains(why), "{sql}: {err}");
        }
    }

    #[test]
    fn common_conditions_filter_the_scan_and_the_rest_flag_each_rule() {
        let a = shape("SELECT x FROM t WHERE dt = '1' AND e = 'A'").unwrap();
        let b = shape("SELECT y AS z FROM t WHERE dt = '1' AND (e = 'B' OR f > 2)").unwrap();
        let sql = combine(&[&a, &b]);
        assert!(sql.contains("WHERE (dt = '1')\n  AND ((e = 'A') OR ((e = 'B' OR f > 2)))"), "{sql}");
        assert!(sql.contains("CASE WHEN (e = 'A') THEN x END AS mantissa_r0_c0"), "{sql}");
        assert!(sql.contains("COALESCE(((e = 'B' OR f > 2)), FALSE) AS mantissa_m1"), "{sql}");
    }
}

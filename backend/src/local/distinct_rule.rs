//! A plan rule that turns `count(DISTINCT x)` beside `count(*)` into two group-bys, the shape
//! DataFusion's own `single_distinct_aggregation_to_group_by` makes but only allows beside
//! `sum`, `min` and `max`: without it every group keeps a hash set of `x` in both phases.

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{HashSet, Result};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::builder::project;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion::logical_expr::{Aggregate, AggregateUDF, Expr, LogicalPlan, col, lit};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// The rewrite, for a `GROUP BY k` whose distinct aggregates all read one expression `x`:
/// ```text
/// SELECT k, count(*), count(DISTINCT x), sum(e) FROM t GROUP BY k
///   becomes
/// SELECT k, coalesce(sum(c), 0), count(x), sum(s)
/// FROM (SELECT k, x, count(*) AS c, sum(e) AS s FROM t GROUP BY k, x) GROUP BY k
/// ```
/// A null `x` is a group of the inner level, so its rows are counted, and `count(x)` outside
/// skips it as `count(DISTINCT x)` does. Aggregates it cannot split (`avg`, a `FILTER`, an
/// `ORDER BY` inside the call, two distinct expressions, grouping sets) leave the plan alone.
#[derive(Debug, Default)]
pub struct DistinctBesideCount;

/// What an aggregate becomes in the two levels.
enum Split {
    /// The distinct aggregate: the same function over the inner level's distinct column.
    Distinct(Arc<AggregateUDF>),
    /// `count`: counted inside, summed outside (0 for no rows, as count says).
    Count(Arc<AggregateUDF>, Vec<Expr>),
    /// `sum`, `min`, `max`: the same function at both levels.
    Same(Arc<AggregateUDF>, Vec<Expr>),
}

/// Names no table of ours has, as DataFusion's own rule names its column `alias1`.
const DISTINCT_ALIAS: &str = "__distinct_arg";

/// The split of every aggregate and the one distinct argument, or None when the plan does not
/// qualify (nothing to gain: no distinct, or no count beside it, which DataFusion's rule takes).
fn plan_split(aggr_expr: &[Expr]) -> Option<(Vec<Split>, Expr)> {
    let mut distinct_args = HashSet::new();
    let mut splits = Vec::with_capacity(aggr_expr.len());
    for expr in aggr_expr {
        let Expr::AggregateFunction(AggregateFunction { func, params }) = expr else { return None };
        let AggregateFunctionParams { distinct, args, filter, order_by, .. } = params;
        if filter.is_some() || !order_by.is_empty() {
            return None;
        }
        let name = func.name().to_ascii_lowercase();
        if *distinct {
            // Over the distinct values, one row each: these give the same answer without
            // DISTINCT; array_agg and friends would also see the null group.
            if !matches!(name.as_str(), "count" | "sum" | "min" | "max" | "avg") {
                return None;
            }
            let [arg] = args.as_slice() else { return None };
            distinct_args.insert(arg.clone());
            splits.push(Split::Distinct(Arc::clone(func)));
        } else {
            match name.as_str() {
                "count" => splits.push(Split::Count(Arc::clone(func), args.clone())),
                "sum" | "min" | "max" => splits.push(Split::Same(Arc::clone(func), args.clone())),
                _ => return None,
            }
        }
    }
    let has_count = splits.iter().any(|s| matches!(s, Split::Count(..)));
    match (distinct_args.len(), has_count) {
        (1, true) => distinct_args.into_iter().next().map(|arg| (splits, arg)),
        _ => None,
    }
}

fn aggregate(func: Arc<AggregateUDF>, args: Vec<Expr>) -> Expr {
    Expr::AggregateFunction(AggregateFunction::new_udf(func, args, false, None, vec![], None))
}

impl OptimizerRule for DistinctBesideCount {
    fn name(&self) -> &str {
        "mantissa_distinct_beside_count"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(agg) = plan else { return Ok(Transformed::no(plan)) };
        let grouping_set = matches!(agg.group_expr.first(), Some(Expr::GroupingSet(_)));
        let Some((splits, distinct_arg)) = plan_split(&agg.aggr_expr).filter(|_| !grouping_set) else {
            return Ok(Transformed::no(LogicalPlan::Aggregate(agg)));
        };
        let Aggregate { input, group_expr, schema, .. } = agg;
        let group_count = group_expr.len();

        // Each key by a name the outer level can refer to, and the name the plan above expects.
        let mut inner_groups = Vec::with_capacity(group_count + 1);
        let mut outer_groups = Vec::with_capacity(group_count);
        let mut output = Vec::with_capacity(group_count + splits.len());
        for (i, key) in group_expr.into_iter().enumerate() {
            let (qualifier, field) = schema.qualified_field(i);
            let alias = format!("__group_key_{i}");
            inner_groups.push(key.alias(&alias));
            outer_groups.push(col(&alias));
            output.push(col(&alias).alias_qualified(qualifier.cloned(), field.name()));
        }
        inner_groups.push(distinct_arg.alias(DISTINCT_ALIAS));

        let mut inner_aggs = Vec::new();
        let mut outer_aggs = Vec::with_capacity(splits.len());
        for (i, split) in splits.into_iter().enumerate() {
            let partial = format!("__partial_{i}");
            let (outer, zero_for_no_rows) = match split {
                Split::Distinct(func) => (aggregate(func, vec![col(DISTINCT_ALIAS)]), false),
                Split::Count(func, args) => {
                    inner_aggs.push(aggregate(func, args).alias(&partial));
                    (aggregate(sum_udaf(), vec![col(&partial)]), true)
                }
                Split::Same(func, args) => {
                    inner_aggs.push(aggregate(Arc::clone(&func), args).alias(&partial));
                    (aggregate(func, vec![col(&partial)]), false)
                }
            };
            let (qualifier, field) = schema.qualified_field(group_count + i);
            let value = Expr::Column(Column::from_name(outer.schema_name().to_string()));
            let value = if zero_for_no_rows { coalesce(vec![value, lit(0i64)]) } else { value };
            output.push(value.alias_qualified(qualifier.cloned(), field.name()));
            outer_aggs.push(outer);
        }

        let inner = LogicalPlan::Aggregate(Aggregate::try_new(input, inner_groups, inner_aggs)?);
        let outer = LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(inner), outer_groups, outer_aggs)?);
        Ok(Transformed::yes(project(outer, output)?))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::DistinctBesideCount;

    /// Keys, a distinct column and a summed one, each with nulls, over two batches so the
    /// partial aggregates meet in the final one.
    fn table() -> Arc<MemTable> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("x", DataType::Utf8, true),
            Field::new("e", DataType::Int64, true),
        ]));
        let batch = |k: Vec<Option<&str>>, x: Vec<Option<&str>>, e: Vec<Option<i64>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(k)),
                    Arc::new(StringArray::from(x)),
                    Arc::new(Int64Array::from(e)),
                ],
            )
            .unwrap()
        };
        let one = batch(
            vec![Some("a"), Some("a"), Some("b"), None, Some("a")],
            vec![Some("1.1.1.1"), Some("1.1.1.1"), None, Some("9.9.9.9"), None],
            vec![Some(1), None, Some(5), Some(2), Some(7)],
        );
        let two = batch(
            vec![Some("b"), Some("a"), Some("c"), Some("b")],
            vec![Some("2.2.2.2"), Some("3.3.3.3"), None, Some("2.2.2.2")],
            vec![Some(3), Some(-4), None, None],
        );
        Arc::new(MemTable::try_new(schema, vec![vec![one], vec![two]]).unwrap())
    }

    fn session(with_rule: bool) -> SessionContext {
        let ctx = SessionContext::new();
        ctx.register_table("t", table()).unwrap();
        if with_rule {
            ctx.add_optimizer_rule(Arc::new(DistinctBesideCount));
        }
        ctx
    }

    async fn run(ctx: &SessionContext, sql: &str) -> (String, String) {
        let frame = ctx.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let plan = format!("{}", frame.clone().into_optimized_plan().unwrap().display_indent());
        let batches = frame.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        (pretty_format_batches(&batches).unwrap().to_string(), plan)
    }

    /// Runs `sql` with and without the rule: the rows and names must agree, and the plan must
    /// show the rewrite exactly when `rewritten`.
    async fn check(sql: &str, rewritten: bool) {
        let (expected, _) = run(&session(false), sql).await;
        let (got, plan) = run(&session(true), sql).await;
        assert_eq!(got, expected, "{sql}\n{plan}");
        assert_eq!(
            plan.contains("distinct_arg"),
            rewritten,
            "rewritten should be {rewritten}: {sql}\n{plan}"
        );
    }

    #[tokio::test]
    async fn rewritten_queries_give_the_same_rows_and_names_as_datafusion_alone() {
        let rewritten = [
            "SELECT k, count(*), count(DISTINCT x), sum(e), min(e), max(e), count(e) FROM t GROUP BY k ORDER BY k",
            "SELECT count(*) AS n, count(DISTINCT x) AS ips FROM t",
            "SELECT count(*) AS n, count(DISTINCT x) AS ips, sum(e) FROM t WHERE e > 100",
            "SELECT k, count(*) AS n FROM t WHERE e > 100 GROUP BY k HAVING count(DISTINCT x) >= 0",
            "SELECT upper(k) AS key, count(*) AS n, count(DISTINCT x) AS ips FROM t GROUP BY 1 ORDER BY 1",
            "SELECT x, count(*) AS n, count(DISTINCT x) AS ips FROM t GROUP BY x ORDER BY x",
            "SELECT k, count(*) AS calls, count(DISTINCT x) AS ips FROM t GROUP BY k \
             HAVING count(*) > 1 ORDER BY calls DESC, k",
            "SELECT k, count(e), sum(DISTINCT e), count(DISTINCT e) FROM t GROUP BY k ORDER BY k",
            "SELECT k, count(*), avg(DISTINCT e) FROM t GROUP BY k ORDER BY k",
            "SELECT k, count(*), min(DISTINCT e), max(DISTINCT e) FROM t GROUP BY k ORDER BY k",
        ];
        for sql in rewritten {
            check(sql, true).await;
        }
    }

    #[tokio::test]
    async fn aggregates_it_cannot_split_keep_datafusions_plan() {
        let kept = [
            // avg cannot be summed from partial averages; two distinct columns need two sets;
            // array_agg(DISTINCT) over the inner groups would gain the null group.
            "SELECT k, count(*), avg(e), count(DISTINCT x) FROM t GROUP BY k ORDER BY k",
            "SELECT k, count(*), count(DISTINCT x), count(DISTINCT e) FROM t GROUP BY k ORDER BY k",
            // avg reads e cast to a float, min reads e: two distinct expressions again.
            "SELECT k, count(*), avg(DISTINCT e), min(DISTINCT e) FROM t GROUP BY k ORDER BY k",
            "SELECT k, count(*), array_length(array_agg(DISTINCT x)) FROM t GROUP BY k ORDER BY k",
            "SELECT k, count(*) FILTER (WHERE e > 0), count(DISTINCT x) FROM t GROUP BY k ORDER BY k",
        ];
        for sql in kept {
            check(sql, false).await;
        }
    }
}

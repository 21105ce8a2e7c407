//! Validation of a rule's query: it must parse and plan against the lake's table schemas
//! (unknown tables and columns get the closest real names), and a query that does not filter
//! on `dt` is warned about with what a full scan costs on Athena.

use super::diagnostic::Diagnostic;
use super::{LoadedRule, file};
use crate::local::Lake;
use crate::model::Table;
use crate::model::athena_cost_usd;
use crate::model::tables::PARTITION_COLUMN;
use crate::model::window::{RunWindow, uses_window};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use std::collections::BTreeSet;

/// Every problem in a rule file's text, parse and query alike: what the console's rule editor
/// shows as the analyst types, and what `mantissa rules validate` prints per file.
pub async fn check_text(
    ctx: &SessionContext,
    lake: &Lake,
    path: &std::path::Path,
    text: &str,
) -> (Option<LoadedRule>, Vec<Diagnostic>) {
    match super::parse_rule_file(path, text) {
        Ok((loaded, mut problems)) => {
            problems.extend(validate_query(ctx, lake, &loaded).await);
            problems.sort_by_key(|d| (d.line, d.col));
            (Some(loaded), problems)
        }
        Err(errors) => (None, errors),
    }
}

/// Every problem with the rule's query, placed in its file.
pub async fn validate_query(ctx: &SessionContext, lake: &Lake, loaded: &LoadedRule) -> Vec<Diagnostic> {
    let sql = &RunWindow::last_day(chrono::Utc::now()).render(&loaded.rule.query);
    let state = ctx.state();
    let plan = match state.create_logical_plan(&crate::local::dialect::athena_to_datafusion(sql)).await {
        Ok(p) => p,
        Err(e) => return vec![plan_error(loaded, &e.strip_backtrace())],
    };
    if let Err(e) = crate::local::query_engine::verify_read_only(&plan) {
        let (line, col) = file::key_position(&loaded.text, "query");
        return vec![Diagnostic::error(&loaded.path, line, col, e.to_string())];
    }
    let mut out = vec![];
    if !uses_window(&loaded.rule.query) {
        let (line, col) = file::query_start(&loaded.text);
        out.push(Diagnostic::warning(
            &loaded.path,
            line,
            col,
            "the query ignores its run window: each run re-reads its whole look-back, so the same events \
             are counted again on every run; filter on the window, e.g. `eventtime >= {window_start_iso} AND \
             eventtime < {window_end_iso}` (`{window_start_unix}` for epoch columns, `{window_start_dt}` for dt)"
                .to_string(),
        ));
    }
    let plan = state.optimize(&plan).unwrap_or(plan);
    for table in tables_without_dt_filter(&plan) {
        let bytes =
            lake.inventory().into_iter().find(|(t, _, _)| t.name() == table).map(|(_, _, b)| b).unwrap_or(0);
        let runs_per_day = 86_400.0 / (loaded.rule.schedule.approx_period().num_seconds().max(60) as f64);
        let per_run = athena_cost_usd(bytes);
        let (line, col) = position_of(loaded, &table);
        out.push(Diagnostic::warning(
            &loaded.path,
            line,
            col,
            format!(
                "`{table}` is read without a `dt` filter: every run scans the whole table ({:.1} MB in this lake, \
                 ${per_run:.4} per run on Athena, ${:.2} a day at this schedule); add e.g. \
                 `dt BETWEEN {{window_start_dt}} AND {{window_end_dt}}`",
                bytes as f64 / 1e6,
                per_run * runs_per_day
            ),
        ));
    }
    out
}

/// Lake tables scanned by the plan with no filter on their partition column.
fn tables_without_dt_filter(plan: &LogicalPlan) -> Vec<String> {
    scanned_tables(plan).into_iter().filter(|(_, dt)| !dt).map(|(t, _)| t).collect()
}

/// The lake tables a plan reads, each with whether a `dt` filter prunes its partitions.
pub fn scanned_tables(plan: &LogicalPlan) -> Vec<(String, bool)> {
    let mut scanned = BTreeSet::new();
    let mut filtered = BTreeSet::new();
    let _ = plan.apply(|node| {
        match node {
            LogicalPlan::TableScan(scan) => {
                let name = scan.table_name.table().to_string();
                if scan.filters.iter().any(|f| f.column_refs().iter().any(|c| c.name == PARTITION_COLUMN)) {
                    filtered.insert(name.clone());
                }
                scanned.insert(name);
            }
            LogicalPlan::Filter(f) => {
                for c in f.predicate.column_refs() {
                    if c.name == PARTITION_COLUMN {
                        // Unqualified `dt` under a single-table query still prunes that table.
                        filtered
                            .insert(c.relation.as_ref().map(|r| r.table().to_string()).unwrap_or_default());
                    }
                }
            }
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    let lake_tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    scanned
        .into_iter()
        .filter(|t| lake_tables.contains(&t.as_str()))
        .map(|t| {
            let dt = filtered.contains(&t) || filtered.contains("");
            (t, dt)
        })
        .collect()
}

/// Plans a query as the engine would (Athena's dialect translated, read-only checked,
/// optimized), or says in words why it cannot run.
pub async fn plan_query(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, String> {
    let state = ctx.state();
    let plan = state
        .create_logical_plan(&crate::local::dialect::athena_to_datafusion(sql))
        .await
        .map_err(|e| crate::sql_problem::explain(&e.strip_backtrace()).message)?;
    crate::local::query_engine::verify_read_only(&plan).map_err(|e| e.to_string())?;
    Ok(state.optimize(&plan).unwrap_or(plan))
}

fn plan_error(loaded: &LoadedRule, message: &str) -> Diagnostic {
    let problem = crate::sql_problem::explain(message);
    let place = match (&problem.at, &problem.name) {
        (Some((l, col)), _) => Some(query_offset(loaded, *l, *col)),
        (None, Some(name)) => Some(position_of(loaded, name)),
        (None, None) => None,
    };
    let (line, col) = place.unwrap_or_else(|| file::query_start(&loaded.text));
    Diagnostic::error(&loaded.path, line, col, format!("query: {}", problem.message))
}

/// File position of a 1-based line/column inside the query text.
fn query_offset(loaded: &LoadedRule, line: usize, col: usize) -> (usize, usize) {
    let (qline, qcol) = file::query_start(&loaded.text);
    if line <= 1 {
        (qline, qcol + col.saturating_sub(1))
    } else {
        (qline + line - 1, qcol + col.saturating_sub(1))
    }
}

/// Where `word` first appears in the query (case-insensitive), else the query's start.
fn position_of(loaded: &LoadedRule, word: &str) -> (usize, usize) {
    let wanted = word.to_ascii_lowercase();
    for (i, line) in loaded.rule.query.lines().enumerate() {
        if let Some(c) = line.to_ascii_lowercase().find(&wanted) {
            return query_offset(loaded, i + 1, c + 1);
        }
    }
    file::query_start(&loaded.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    async fn check(query: &str) -> Vec<String> {
        let dir = tempfile::TempDir::new().unwrap();
        let lake = Lake::new(dir.path());
        let ctx = lake.session().await.unwrap();
        let indented: String = query.lines().map(|l| format!("  {l}\n")).collect();
        let text = format!("id: r\nname: R\nseverity: low\nschedule: rate(1 hour)\nquery: |\n{indented}");
        let (loaded, problems) = check_text(&ctx, &lake, Path::new("r.yml"), &text).await;
        assert!(loaded.is_some());
        problems.iter().map(|d| d.to_string()).collect()
    }

    #[tokio::test]
    async fn text_that_does_not_parse_reports_without_planning() {
        let dir = tempfile::TempDir::new().unwrap();
        let lake = Lake::new(dir.path());
        let ctx = lake.session().await.unwrap();
        let text = "id: r\nname: R\nseverity: hgh\nschedule: rate(5 minute)\nquery: SELECT 1\n";
        let (loaded, problems) = check_text(&ctx, &lake, Path::new("r.yml"), text).await;
        assert!(loaded.is_none());
        let text: Vec<String> = problems.iter().map(|d| d.to_string()).collect();
        assert!(text.iter().any(|t| t.starts_with("r.yml:3:1: error: severity `hgh`")), "{text:?}");
        assert!(
            text.iter().any(|t| t.starts_with("r.yml:4:1: error:") && t.contains("`rate(5 minutes)`")),
            "{text:?}"
        );
    }

    const DT: &str = "dt >= {window_start_dt}";

    #[tokio::test]
    async fn a_query_that_writes_is_an_error() {
        let got = check("COPY (SELECT 1) TO '/tmp/mantissa-validate-never.csv'").await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("r.yml:5:1: error: ") && got[0].contains("only a read-only query"),
            "{got:?}"
        );
        assert!(!Path::new("/tmp/mantissa-validate-never.csv").exists());
    }

    #[tokio::test]
    async fn a_good_query_has_nothing_to_say() {
        let q = format!(
            "SELECT eventname, useridentity.arn FROM cloudtrail_logs\nWHERE {DT} AND errorcode IS NOT NULL"
        );
        assert_eq!(check(&q).await, Vec::<String>::new());
    }

    #[tokio::test]
    async fn unknown_table_and_column_name_the_closest() {
        let got = check(&format!("SELECT 1 FROM cloudtrail WHERE {DT}")).await;
        assert_eq!(
            got,
            vec!["r.yml:6:17: error: query: unknown table `cloudtrail`; did you mean `cloudtrail_logs`?"]
        );
        let got = check(&format!("SELECT eventnme\nFROM cloudtrail_logs WHERE {DT}")).await;
        assert_eq!(
            got,
            vec!["r.yml:6:10: error: query: unknown column `eventnme`; did you mean `eventname`?"]
        );
    }

    #[tokio::test]
    async fn syntax_errors_point_into_the_query() {
        let got = check("SELECT *\nFROM cloudtrail_logs WHERE errorcode = = 1").await;
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with(
                "r.yml:7:42: error: query: syntax error at line 2, column 40: expected: an expression, found: ="
            ),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_dt_filter_is_a_warning_with_cost() {
        let got = check("SELECT count(*) FROM vpc_flow_logs WHERE action = 'REJECT'").await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].starts_with("r.yml:6:3: warning: the query ignores its run window")
                && got[0].contains("{window_start_iso}"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("r.yml:6:24: warning: `vpc_flow_logs` is read without a `dt` filter"),
            "{got:?}"
        );
        let got = got.into_iter().skip(1).collect::<Vec<_>>();
        assert!(got[0].contains("$0.0000 per run") || got[0].contains("per run on Athena"), "{got:?}");
        // A join where one side is pruned and the other is not names only the other.
        let got = check(&format!(
            "SELECT * FROM cloudtrail_logs c JOIN vpc_flow_logs v ON c.sourceipaddress = v.srcaddr WHERE c.{DT}"
        ))
        .await;
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("`vpc_flow_logs` is read without"), "{got:?}");
    }
}

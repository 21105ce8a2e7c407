//! Inline rule tests, run offline: each test's records go through the real ingest parser into
//! a throwaway lake, and the rule's query runs there at the test's time with its threshold.

use super::diagnostic::Diagnostic;
use super::{LoadedRule, RuleTest, file};
use crate::error::{Error, Result};
use crate::ingest::ingest_bytes;
use crate::local::Lake;
use crate::model::{RunWindow, Table};
use chrono::{DateTime, Duration, Utc};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;
use std::path::{Path, PathBuf};

/// One test's result: `Ok` with the rows the query returned, or why it failed.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub rule_id: String,
    pub rule_name: String,
    pub test: String,
    pub path: PathBuf,
    pub line: usize,
    pub result: std::result::Result<u64, String>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.result.is_ok()
    }
}

/// Runs every test of every rule; a test that cannot run is a failure with the reason.
pub async fn run_tests(rules: &[LoadedRule]) -> Vec<TestOutcome> {
    let mut out = vec![];
    for loaded in rules {
        for test in &loaded.file.tests {
            let (line, _) = file::test_position(&loaded.text, &test.name);
            let result = run_one(loaded, test).await;
            out.push(TestOutcome {
                rule_id: loaded.rule.id.clone(),
                rule_name: loaded.rule.name.clone(),
                test: test.name.clone(),
                path: loaded.path.clone(),
                line,
                result,
            });
        }
    }
    out
}

/// Rules with fewer than `minimum` tests, or without one positive and one negative case.
pub fn coverage_problems(rules: &[LoadedRule], minimum: usize) -> Vec<Diagnostic> {
    let mut out = vec![];
    for r in rules {
        let tests = &r.file.tests;
        let (line, col) = file::key_position(&r.text, if tests.is_empty() { "id" } else { "tests" });
        let positive = tests.iter().any(|t| t.expect.alert);
        let negative = tests.iter().any(|t| !t.expect.alert);
        if tests.len() < minimum {
            out.push(Diagnostic::error(
                &r.path,
                line,
                col,
                format!("rule `{}` has {} tests; at least {minimum} are required", r.rule.id, tests.len()),
            ));
        } else if minimum > 0 && !(positive && negative) {
            let missing = if positive { "negative (`alert: false`)" } else { "positive (`alert: true`)" };
            out.push(Diagnostic::error(
                &r.path,
                line,
                col,
                format!("rule `{}` needs a {missing} test", r.rule.id),
            ));
        }
    }
    out
}

async fn run_one(loaded: &LoadedRule, test: &RuleTest) -> std::result::Result<u64, String> {
    let table = match &test.table {
        Some(name) => Some(name.parse::<Table>()?),
        None => None,
    };
    let scratch = Scratch::load(table, Some(&loaded.rule.query), test.file.as_deref(), &test.records).await?;
    let now = match test.now() {
        Some(t) => t?,
        None => scratch.after_latest(),
    };
    let rows = scratch.rows(loaded, now).await?;
    let alert = loaded.rule.threshold.is_exceeded_by(rows);
    if alert != test.expect.alert {
        let said = if test.expect.alert { "an alert" } else { "no alert" };
        return Err(format!(
            "expected {said}, but the query returned {rows} rows (threshold: more than {})",
            loaded.rule.threshold.value
        ));
    }
    if let Some(want) = test.expect.count
        && want != rows
    {
        return Err(format!("expected {want} rows, the query returned {rows}"));
    }
    Ok(rows)
}

/// A throwaway lake holding a few records, ingested by the real parser: a rule test's, or a
/// benign corpus case's.
pub(crate) struct Scratch {
    _dir: tempfile::TempDir,
    ctx: datafusion::prelude::SessionContext,
    pub earliest_ms: Option<i64>,
    pub latest_ms: Option<i64>,
}

impl Scratch {
    /// Ingests `records` (YAML maps as JSON lines, strings as raw lines) into `table`, or into
    /// the one table `query` reads when no table is named.
    pub async fn load(
        table: Option<Table>,
        query: Option<&str>,
        file: Option<&str>,
        records: &[yaml_serde::Value],
    ) -> std::result::Result<Self, String> {
        let dir = tempfile::TempDir::new().map_err(|e| format!("cannot make a scratch lake: {e}"))?;
        let lake = Lake::new(dir.path());
        let ctx = lake.session().await.map_err(|e| e.to_string())?;
        let table = match (table, query) {
            (Some(t), _) => t,
            (None, Some(q)) => only_table(&ctx, &RunWindow::last_day(Utc::now()).render(q)).await?,
            (None, None) => return Err("name the records' `table`".into()),
        };
        let mut text = String::new();
        for (i, record) in records.iter().enumerate() {
            match record {
                yaml_serde::Value::String(line) => text.push_str(line),
                other => {
                    let json = serde_json::to_string(other).map_err(|e| format!("record {}: {e}", i + 1))?;
                    text.push_str(&json);
                }
            }
            text.push('\n');
        }
        let name = file.map(str::to_string).unwrap_or_else(|| format!("{}.log", table.name()));
        let report =
            ingest_bytes(&lake, table, Path::new(&name), text.as_bytes()).map_err(|e| e.to_string())?;
        if let Some(issue) = report.issues.first() {
            return Err(format!("a record did not ingest: {issue}"));
        }
        Ok(Self { _dir: dir, ctx, earliest_ms: report.earliest_ms, latest_ms: report.latest_ms })
    }

    /// One minute after the latest record: the default `now` of a test.
    pub fn after_latest(&self) -> DateTime<Utc> {
        self.latest_ms
            .and_then(DateTime::from_timestamp_millis)
            .and_then(|t| t.checked_add_signed(Duration::minutes(1)))
            .unwrap_or_else(Utc::now)
    }

    /// The rows `loaded`'s query returns at `now`. The window ends at `now` and reaches a day
    /// back, as a new rule's first run does: every record normally falls inside it.
    pub async fn rows(&self, loaded: &LoadedRule, now: DateTime<Utc>) -> std::result::Result<u64, String> {
        let sql = RunWindow::last_day(now).render(&loaded.rule.query);
        query_at(&self.ctx, &sql, now).await.map_err(|e| format!("query failed: {e}"))
    }
}

/// Runs `sql` as if it were `now`: `current_date`, `current_timestamp` and `now()` see it.
pub async fn query_at(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut state = ctx.state();
    state.execution_props_mut().query_execution_start_time = Some(now);
    let plan = state.create_logical_plan(&crate::local::dialect::athena_to_datafusion(sql)).await?;
    crate::local::query_engine::verify_read_only(&plan)?;
    let batches = DataFrame::new(state, plan).collect().await?;
    Ok(batches.iter().map(|b| b.num_rows() as u64).sum())
}

async fn only_table(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> std::result::Result<Table, String> {
    let sql = crate::local::dialect::athena_to_datafusion(sql);
    let plan = ctx.state().create_logical_plan(&sql).await.map_err(|e| Error::from(e).to_string())?;
    let tables = scanned_tables(&plan);
    match tables.as_slice() {
        [one] => one.parse(),
        _ => Err(format!("the query reads {} tables; name the test's `table`", tables.len())),
    }
}

/// The tables a plan scans, each once, in plan order.
pub(crate) fn scanned_tables(plan: &LogicalPlan) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let name = scan.table_name.table().to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    const RULE: &str = r#"id: kms
name: KMS key scheduled for deletion
severity: high
schedule: rate(15 minutes)
query: |
  SELECT eventtime FROM cloudtrail_logs
  WHERE dt >= date_format(current_date - interval '1' day, '%Y-%m-%d')
    AND eventname = 'ScheduleKeyDeletion'
tests:
  - name: deletion fires
    expect: {alert: true, count: 1}
    records:
      - {eventTime: "2024-11-20T10:00:00Z", eventSource: kms.amazonaws.com, eventName: ScheduleKeyDeletion,
         userIdentity: {type: IAMUser, arn: "arn:aws:iam::1:user/carol"}}
  - name: describe does not
    expect: {alert: false}
    records:
      - {eventTime: "2024-11-20T10:00:00Z", eventSource: kms.amazonaws.com, eventName: DescribeKey}
  - name: yesterday's deletion is outside the window
    now: 2024-11-23T10:00:00Z
    expect: {alert: false}
    records:
      - {eventTime: "2024-11-20T10:00:00Z", eventSource: kms.amazonaws.com, eventName: ScheduleKeyDeletion}
  - name: wrong expectation
    expect: {alert: true, count: 2}
    records:
      - {eventTime: "2024-11-20T10:00:00Z", eventName: ScheduleKeyDeletion}
  - name: bad record
    expect: {alert: true}
    records:
      - {eventName: ScheduleKeyDeletion}
"#;

    #[tokio::test]
    async fn tests_pass_fail_and_explain() {
        let (loaded, _) = parse_rule_file(Path::new("kms.yml"), RULE).unwrap();
        let got = run_tests(std::slice::from_ref(&loaded)).await;
        let results: Vec<_> = got.iter().map(|o| (o.test.as_str(), o.line, o.result.clone())).collect();
        assert_eq!(results[0], ("deletion fires", 10, Ok(1)));
        assert_eq!(results[1], ("describe does not", 15, Ok(0)));
        assert_eq!(results[2], ("yesterday's deletion is outside the window", 19, Ok(0)));
        assert_eq!(results[3].2, Err("expected 2 rows, the query returned 1".to_string()));
        assert!(results[4].2.as_ref().unwrap_err().contains("did not ingest"), "{:?}", results[4]);
    }

    #[tokio::test]
    async fn line_formats_load_raw_lines() {
        let text = "id: rej\nname: Rejects\nseverity: low\nschedule: rate(5 minutes)\nthreshold: {type: count, value: 1}\n\
            query: SELECT srcaddr FROM vpc_flow_logs WHERE dt >= '2024-11-01' AND action = 'REJECT'\ntests:\n  - name: two rejects\n    expect: {alert: true, count: 2}\n    records:\n\
            \x20     - 2 123456789012 eni-1 198.51.100.7 10.0.0.5 40000 22 6 1 40 1732096800 1732096860 REJECT OK\n\
            \x20     - 2 123456789012 eni-1 198.51.100.7 10.0.0.5 40001 23 6 1 40 1732096800 1732096860 REJECT OK\n\
            \x20     - 2 123456789012 eni-1 198.51.100.7 10.0.0.5 40002 80 6 1 40 1732096800 1732096860 ACCEPT OK\n";
        let (loaded, _) = parse_rule_file(Path::new("rej.yml"), text).unwrap();
        let got = run_tests(&[loaded]).await;
        assert_eq!(got[0].result, Ok(2));
    }

    /// A rule's tests run in CI on pull requests and from the console: a query that writes
    /// (`COPY ... TO`, DDL, `SET`) fails its test and writes nothing.
    #[tokio::test]
    async fn a_test_cannot_write_files_or_change_the_session() {
        let dir = tempfile::TempDir::new().unwrap();
        let target = dir.path().join("x.csv");
        for query in [
            format!("COPY (SELECT 1) TO '{}'", target.display()),
            format!("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'", dir.path().display()),
            "CREATE TABLE t AS SELECT 1".to_string(),
            "SET datafusion.execution.batch_size = 1".to_string(),
        ] {
            let text = format!(
                "id: w\nname: Writes\nseverity: low\nschedule: rate(5 minutes)\nquery: \"{}\"\ntests:\n  - name: t\n    table: cloudtrail_logs\n    expect: {{alert: false}}\n    records:\n      - {{eventTime: \"2024-11-20T10:00:00Z\", eventName: X}}\n",
                query
            );
            let (loaded, _) = parse_rule_file(Path::new("w.yml"), &text).unwrap();
            let got = run_tests(&[loaded]).await;
            let err = got[0].result.clone().unwrap_err();
            assert!(err.contains("only a read-only query"), "{query}: {err}");
        }
        assert!(!target.exists(), "COPY wrote {}", target.display());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn coverage_needs_both_kinds() {
        let (loaded, _) = parse_rule_file(Path::new("kms.yml"), RULE).unwrap();
        assert!(coverage_problems(std::slice::from_ref(&loaded), 2).is_empty());
        assert_eq!(
            coverage_problems(std::slice::from_ref(&loaded), 6)[0].message,
            "rule `kms` has 5 tests; at least 6 are required"
        );
        let mut only_positive = loaded.clone();
        only_positive.file.tests.retain(|t| t.expect.alert);
        assert!(coverage_problems(&[only_positive], 1)[0].message.contains("needs a negative"));
    }
}

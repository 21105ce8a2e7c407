//! Counting groups by Parquet dictionary keys (`local::dict_count`): the same rows as
//! DataFusion's own aggregate on the demo lake, and DataFusion's plan where it cannot answer.

use chrono::{TimeZone, Utc};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use mantissa_backend::demo::{DemoOptions, write_demo};
use mantissa_backend::local::Lake;
use mantissa_backend::model::Table;
use std::sync::Arc;
use tempfile::TempDir;

async fn demo_sessions() -> (TempDir, SessionContext, SessionContext) {
    let dir = TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    let opts = DemoOptions {
        days: 3,
        seed: 11,
        scale: 0.05,
        end: Utc.with_ymd_and_hms(2024, 11, 20, 12, 0, 0).unwrap(),
    };
    write_demo(&lake, &opts).unwrap();
    let ours = lake.session().await.unwrap();
    let state = ours.state();
    let theirs: Vec<_> =
        state.physical_optimizers().iter().filter(|r| r.name() != "dictionary_count").cloned().collect();
    assert_eq!(theirs.len() + 1, state.physical_optimizers().len(), "the rule is in the lake's session");
    let plain = SessionStateBuilder::new_from_existing(state).with_physical_optimizer_rules(theirs).build();
    (dir, ours, SessionContext::new_with_state(plain))
}

/// The result's rows as text lines, sorted, and whether the plan counted by dictionary keys.
async fn rows_and_plan(ctx: &SessionContext, sql: &str) -> (Vec<String>, bool) {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    let mut rows: Vec<String> =
        text.lines().filter(|l| l.starts_with("| ")).skip(1).map(String::from).collect();
    rows.sort();
    let plan = ctx.sql(&format!("EXPLAIN {sql}")).await.unwrap().collect().await.unwrap();
    let plan = pretty_format_batches(&plan).unwrap().to_string();
    (rows, plan.contains("DictionaryCountExec"))
}

#[tokio::test]
async fn counts_by_dictionary_keys_equal_datafusions_own_and_other_shapes_keep_its_plan() {
    let (_dir, ours, plain) = demo_sessions().await;
    let address = plain
        .sql("SELECT sourceipaddress FROM cloudtrail_logs WHERE sourceipaddress IS NOT NULL ORDER BY eventtime LIMIT 1")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let address =
        datafusion::arrow::array::AsArray::as_string::<i32>(address[0].column(0)).value(0).to_string();
    let counted = [
        "SELECT eventsource, eventname, count(*) AS calls FROM cloudtrail_logs GROUP BY 1, 2".to_string(),
        "SELECT useridentity.arn, count(*) FROM cloudtrail_logs WHERE errorcode IS NOT NULL GROUP BY 1"
            .into(),
        // NULL groups (most rows have no error code), three columns, two counts, a day range.
        "SELECT errorcode, useridentity.type, eventname, count(*) AS a, count(1) AS b FROM cloudtrail_logs \
         WHERE dt >= '2024-11-19' GROUP BY 1, 2, 3"
            .into(),
        // The bloom check leaves row groups out; the filter is on a column not grouped.
        format!(
            "SELECT eventname, count(*) FROM cloudtrail_logs WHERE sourceipaddress = '{address}' GROUP BY 1"
        ),
        "SELECT srcaddr, dstaddr, count(*) FROM vpc_flow_logs GROUP BY 1, 2".into(),
    ];
    for sql in &counted {
        let (want, _) = rows_and_plan(&plain, sql).await;
        let (got, by_keys) = rows_and_plan(&ours, sql).await;
        assert!(by_keys, "{sql} is counted by dictionary keys");
        assert_eq!(got, want, "{sql}");
    }
    assert!(!rows_and_plan(&ours, &counted[0]).await.0.is_empty());
    let left_to_datafusion = [
        // A filter on a grouped column, a count of a column, a numeric group, a distinct count.
        "SELECT eventname, count(*) FROM cloudtrail_logs WHERE eventname LIKE 'Get%' GROUP BY 1",
        "SELECT eventname, count(errorcode) FROM cloudtrail_logs GROUP BY 1",
        "SELECT dstport, count(*) FROM vpc_flow_logs GROUP BY 1",
        "SELECT eventname, count(DISTINCT sourceipaddress) FROM cloudtrail_logs GROUP BY 1",
        "SELECT dt, count(*) FROM cloudtrail_logs GROUP BY 1",
    ];
    for sql in left_to_datafusion {
        let (want, _) = rows_and_plan(&plain, sql).await;
        let (got, by_keys) = rows_and_plan(&ours, sql).await;
        assert!(!by_keys, "{sql} keeps DataFusion's plan");
        assert_eq!(got, want, "{sql}");
    }
    // No file at all: whichever plan, no rows.
    let sql = "SELECT eventname, count(*) FROM cloudtrail_logs WHERE dt = '1999-01-01' GROUP BY 1";
    assert!(rows_and_plan(&ours, sql).await.0.is_empty());
}

#[tokio::test]
async fn a_file_of_an_older_shape_is_read_with_its_own_schema_and_its_missing_columns_are_null() {
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let (dir, ours, plain) = demo_sessions().await;
    // An older file: three of today's columns, no useridentity, no errorcode.
    let schema = Arc::new(Schema::new(
        ["eventtime", "eventsource", "eventname"].map(|n| Field::new(n, DataType::Utf8, true)).to_vec(),
    ));
    let text = |v: &[Option<&str>]| Arc::new(StringArray::from(v.to_vec())) as _;
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            text(&[Some("2024-11-21T00:00:01Z"), Some("2024-11-21T00:00:02Z"), Some("2024-11-21T00:00:03Z")]),
            text(&[Some("s3.amazonaws.com"), Some("s3.amazonaws.com"), None]),
            text(&[Some("GetObject"), Some("OldOnlyCall"), Some("GetObject")]),
        ],
    )
    .unwrap();
    let day = Lake::new(dir.path()).table_dir(Table::CloudTrail).join("dt=2024-11-21");
    std::fs::create_dir_all(&day).unwrap();
    let file = std::fs::File::create(day.join("old.parquet")).unwrap();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    for sql in [
        "SELECT eventsource, eventname, count(*) FROM cloudtrail_logs GROUP BY 1, 2",
        "SELECT useridentity.arn, eventname, count(*) FROM cloudtrail_logs WHERE dt >= '2024-11-20' GROUP BY 1, 2",
        "SELECT eventname, count(*) FROM cloudtrail_logs WHERE errorcode IS NULL GROUP BY 1",
    ] {
        let (want, _) = rows_and_plan(&plain, sql).await;
        let (got, by_keys) = rows_and_plan(&ours, sql).await;
        assert!(by_keys, "{sql} is counted by dictionary keys");
        assert!(want.iter().any(|row| row.contains("OldOnlyCall")), "{sql}: the old file is read: {want:?}");
        assert_eq!(got, want, "{sql}");
    }
}

//! The embedded lake end to end: demo data in, Athena-style SQL out, with partition pruning,
//! live statistics, paging, cancellation and clear errors.

use chrono::{TimeZone, Utc};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mantissa_backend::Error;
use mantissa_backend::demo::{DemoOptions, write_demo};
use mantissa_backend::ingest::ingest_bytes;
use mantissa_backend::local::{Lake, LocalQueryEngine};
use mantissa_backend::model::{QueryState, Table};
use mantissa_backend::ports::{PageRequest, QueryEngine};
use mantissa_backend::query::{QueryOutcome, run_to_end};
use std::path::Path;
use std::time::{Duration, Instant};
use tempfile::TempDir;

async fn demo_lake() -> (TempDir, Lake, LocalQueryEngine) {
    let dir = TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    let opts = DemoOptions {
        days: 3,
        seed: 7,
        scale: 0.05,
        end: Utc.with_ymd_and_hms(2024, 11, 20, 12, 0, 0).unwrap(),
    };
    write_demo(&lake, &opts).unwrap();
    let engine = LocalQueryEngine::open(&lake).await.unwrap();
    (dir, lake, engine)
}

fn column(outcome: &QueryOutcome, i: usize) -> Vec<String> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = vec![];
    for b in &outcome.batches {
        let f = ArrayFormatter::try_new(b.column(i).as_ref(), &opts).unwrap();
        for r in 0..b.num_rows() {
            out.push(f.value(r).to_string());
        }
    }
    out
}

#[tokio::test]
async fn seed_rule_query_runs_unchanged() {
    let (_d, _lake, engine) = demo_lake().await;
    let out = run_to_end(
        &engine,
        "SELECT * FROM cloudtrail_logs WHERE eventName = 'ConsoleLogin' AND errorCode IS NOT NULL",
    )
    .await
    .unwrap();
    // The brute-force story has 12 failures; background adds a few more.
    assert!(out.num_rows() >= 12, "{}", out.num_rows());
    let schema = out.schema.clone();
    assert!(schema.field_with_name("useridentity").is_ok());
    assert!(schema.field_with_name("dt").is_ok());
    let names = column(&out, schema.index_of("eventname").unwrap());
    assert!(names.iter().all(|n| n == "ConsoleLogin"));
}

#[tokio::test]
async fn group_by_and_nested_fields() {
    let (_d, _lake, engine) = demo_lake().await;
    let out = run_to_end(
        &engine,
        "SELECT eventname, count(*) AS n FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC",
    )
    .await
    .unwrap();
    assert!(out.num_rows() > 10);
    let counts: Vec<i64> = column(&out, 1).iter().map(|c| c.parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "sorted descending");

    let out = run_to_end(
        &engine,
        "SELECT useridentity.arn, sourceipaddress, json_extract_scalar(additionaleventdata, '$.MFAUsed') AS mfa \
         FROM cloudtrail_logs WHERE useridentity.type = 'Root' AND eventname = 'ConsoleLogin'",
    )
    .await
    .unwrap();
    assert_eq!(out.num_rows(), 1);
    assert_eq!(column(&out, 0), vec!["arn:aws:iam::123456789012:root"]);
    assert_eq!(column(&out, 2), vec!["No"]);
}

#[tokio::test]
async fn every_table_answers_its_story() {
    let (_d, _lake, engine) = demo_lake().await;
    let cases = [
        (
            "SELECT count(DISTINCT dstport) FROM vpc_flow_logs WHERE srcaddr = '45.155.205.233' AND action = 'REJECT'",
            598,
        ),
        (
            "SELECT count(*) FROM s3_access_logs WHERE remoteip = '185.220.101.47' AND operation = 'REST.GET.OBJECT'",
            800,
        ),
        (
            "SELECT count(*) FROM lambda_logs WHERE function_name = 'payments-processor' AND level = 'ERROR' AND message LIKE '%timed out%'",
            60,
        ),
        (
            "SELECT count(*) FROM custom_logs WHERE json_extract_scalar(data, '$.src_ip') = '185.220.101.47'",
            150,
        ),
        (
            "SELECT count(*) FROM cloudtrail_logs WHERE eventname = 'PutBucketPolicy' AND json_extract_scalar(requestparameters, '$.bucketPolicy.Statement[0].Principal') = '*'",
            1,
        ),
    ];
    for (sql, want) in cases {
        let out = run_to_end(&engine, sql).await.unwrap();
        assert_eq!(column(&out, 0), vec![want.to_string()], "{sql}");
    }
}

#[tokio::test]
async fn one_day_filter_scans_only_that_days_files() {
    let (_d, lake, engine) = demo_lake().await;
    let days = std::fs::read_dir(lake.table_dir(Table::CloudTrail)).unwrap().count() as u64;
    assert!(days >= 3, "{days} partitions");

    let all =
        run_to_end(&engine, "SELECT count(*) FROM cloudtrail_logs WHERE eventname <> ''").await.unwrap();
    let one = run_to_end(
        &engine,
        "SELECT count(*) FROM cloudtrail_logs WHERE dt = '2024-11-19' AND eventname <> ''",
    )
    .await
    .unwrap();
    assert_eq!(all.status.stats.files_scanned, Some(days));
    assert_eq!(one.status.stats.files_scanned, Some(1));
    // Counted by dictionary keys (`local::dict_count`): the same files, their bytes counted.
    let grouped =
        run_to_end(&engine, "SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1").await.unwrap();
    assert_eq!(grouped.status.stats.files_scanned, Some(days));
    assert!(grouped.status.stats.bytes_scanned > 0);
    assert!(one.status.stats.bytes_scanned > 0);
    assert!(one.status.stats.bytes_scanned < all.status.stats.bytes_scanned);

    let rows = run_to_end(&engine, "SELECT DISTINCT dt FROM cloudtrail_logs WHERE dt >= '2024-11-19'")
        .await
        .unwrap();
    let mut dts = column(&rows, 0);
    dts.sort();
    assert_eq!(dts, vec!["2024-11-19", "2024-11-20"]);
}

#[tokio::test]
async fn stats_and_paging() {
    let (_d, _lake, engine) = demo_lake().await;
    let id = engine.start("SELECT eventid FROM cloudtrail_logs").await.unwrap();
    let status = mantissa_backend::query::wait(&engine, &id).await.unwrap();
    assert_eq!(status.state, QueryState::Succeeded);
    let total = status.stats.rows as usize;
    assert!(total > 1000);
    assert!(status.stats.estimated_cost_usd() > 0.0);
    let mut seen = 0;
    let mut page = engine.results(&id, PageRequest::first(700)).await.unwrap();
    loop {
        assert!(page.num_rows() <= 700);
        seen += page.num_rows();
        let Some(token) = page.next_token.clone() else { break };
        page = engine.results(&id, PageRequest { token: Some(token), max_rows: 700 }).await.unwrap();
    }
    assert_eq!(seen, total);
}

#[tokio::test]
async fn cancel_stops_the_query() {
    let (_d, _lake, engine) = demo_lake().await;
    // Streams rows for a very long time unless stopped.
    let id = engine.start("SELECT value * 2 FROM range(100000000000)").await.unwrap();
    let started = Instant::now();
    while engine.status(&id).await.unwrap().stats.rows == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "query never produced rows");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.cancel(&id).await.unwrap();
    let status = engine.status(&id).await.unwrap();
    assert_eq!(status.state, QueryState::Cancelled);
    // Execution has stopped: no more rows arrive after the cancel.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rows = engine.status(&id).await.unwrap().stats.rows;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(engine.status(&id).await.unwrap().stats.rows, rows);
    assert!(matches!(engine.results(&id, PageRequest::first(10)).await, Err(Error::QueryCancelled(_))));
}

#[tokio::test]
async fn wait_returns_the_live_status_when_patience_ends_and_wakes_when_the_query_ends() {
    let (_d, _lake, engine) = demo_lake().await;
    let engine = std::sync::Arc::new(engine);
    let id = engine.start("SELECT value * 2 FROM range(100000000000)").await.unwrap();
    let running = engine.wait(&id, Duration::from_millis(50)).await.unwrap();
    assert_eq!(running.state, QueryState::Running);
    // A waiter with an hour's patience is woken by the cancel, not by its timeout.
    let waiter = {
        let (engine, id) = (engine.clone(), id.clone());
        tokio::spawn(async move { engine.wait(&id, Duration::from_secs(3600)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    engine.cancel(&id).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(30), waiter).await.expect("the waiter was not woken");
    assert_eq!(ended.unwrap().unwrap().state, QueryState::Cancelled);
    // A finished query answers at once, however long the patience.
    let id = engine.start("SELECT 1 AS one").await.unwrap();
    let done =
        tokio::time::timeout(Duration::from_secs(30), engine.wait(&id, Duration::from_secs(3600))).await;
    assert_eq!(done.expect("wait outlasted a finished query").unwrap().state, QueryState::Succeeded);
}

#[tokio::test]
async fn bad_sql_names_the_problem() {
    let (_d, _lake, engine) = demo_lake().await;
    let e = engine.start("SELECT no_such_column FROM cloudtrail_logs").await.unwrap_err();
    assert!(matches!(&e, Error::Sql(m) if m.contains("no_such_column")), "{e}");
    let e = engine.start("SELECT * FROM no_such_table").await.unwrap_err();
    assert!(e.to_string().contains("no_such_table"), "{e}");
    let e = engine.start("SELEC 1").await.unwrap_err();
    assert!(matches!(e, Error::Sql(_)), "{e}");
    // The lake is read-only through SQL.
    let e = engine.start("CREATE TABLE x AS SELECT 1").await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("ddl"), "{e}");
}

#[tokio::test]
async fn data_ingested_later_is_visible() {
    let dir = TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    let engine = LocalQueryEngine::open(&lake).await.unwrap();
    let before = run_to_end(&engine, "SELECT count(*) FROM custom_logs").await.unwrap();
    assert_eq!(column(&before, 0), vec!["0"]);
    let line = br#"{"timestamp":"2024-11-20T10:00:00Z","message":"hello"}"#;
    ingest_bytes(&lake, Table::Custom, Path::new("app.jsonl"), line).unwrap();
    let after = run_to_end(&engine, "SELECT message, dt FROM custom_logs").await.unwrap();
    assert_eq!(column(&after, 0), vec!["hello"]);
    assert_eq!(column(&after, 1), vec!["2024-11-20"]);
}

#[tokio::test]
async fn demo_is_deterministic() {
    let opts = DemoOptions {
        days: 1,
        seed: 3,
        scale: 0.02,
        end: Utc.with_ymd_and_hms(2024, 11, 20, 12, 0, 0).unwrap(),
    };
    let a = serde_json::to_string(&mantissa_backend::demo::generate(&opts).by_table[0].1).unwrap();
    let b = serde_json::to_string(&mantissa_backend::demo::generate(&opts).by_table[0].1).unwrap();
    assert_eq!(a, b);
    let other = DemoOptions { seed: 4, ..opts };
    let c = serde_json::to_string(&mantissa_backend::demo::generate(&other).by_table[0].1).unwrap();
    assert_ne!(a, c);
}

/// An entity's timeline is one query over every table that can mention it: the demo's scanner
/// address shows in CloudTrail and VPC Flow, merged newest first; every kind of entity gives SQL
/// the engine runs.
#[tokio::test]
async fn entity_timelines_run_across_tables() {
    use mantissa_backend::timeline::{EntityKind, timeline_sql};
    let (_dir, _lake, engine) = demo_lake().await;
    let (from, to) = (
        Utc.with_ymd_and_hms(2024, 11, 17, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 11, 20, 13, 0, 0).unwrap(),
    );
    let sql = timeline_sql(EntityKind::Ip, "45.155.205.233", from, to);
    let out = run_to_end(&engine, &sql).await.unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let sources = column(&out, 1);
    assert!(
        sources.iter().any(|s| s == "cloudtrail") && sources.iter().any(|s| s == "vpcflow"),
        "{sources:?}"
    );
    let times = column(&out, 0);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(
        times.iter().all(|t| t.as_str() >= "2024-11-17" && t.as_str() < "2024-11-20 13"),
        "within the window"
    );
    for (kind, value) in [
        (EntityKind::Arn, "arn:aws:iam::123456789012:user/carol"),
        (EntityKind::AccessKey, "AKIAIOSFODNN7EXAMPLE"),
        (EntityKind::Account, "123456789012"),
        (EntityKind::Bucket, "acme-payroll-exports"),
        (EntityKind::Instance, "i-0abcd1234ef567890"),
        (EntityKind::User, "o'brien"),
    ] {
        let sql = timeline_sql(kind, value, from, to);
        run_to_end(&engine, &sql).await.unwrap_or_else(|e| panic!("{kind:?}: {e}\n{sql}"));
    }
    let bucket = run_to_end(&engine, &timeline_sql(EntityKind::Bucket, "acme-payroll-exports", from, to))
        .await
        .unwrap();
    assert!(bucket.batches.iter().map(|b| b.num_rows()).sum::<usize>() > 0, "the public bucket's story");

    // A case's entities together: the intruder's address and the key it made for bob, followed
    // across CloudTrail, VPC Flow and the S3 access logs in one query.
    let intruder = [
        (EntityKind::Ip, "185.220.101.47".to_string()),
        (EntityKind::AccessKey, "AKIAQX3INTRUDER4BOB7".to_string()),
    ];
    let sql = mantissa_backend::timeline::timeline_sql_of(&intruder, from, to);
    let out = run_to_end(&engine, &sql).await.unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let sources = column(&out, 1);
    for want in ["cloudtrail", "vpcflow", "s3access"] {
        assert!(sources.iter().any(|s| s == want), "{want} missing: {sources:?}");
    }
}

#[tokio::test]
async fn a_lookup_by_key_or_address_reads_only_the_days_whose_bloom_filters_may_hold_it() {
    let (_d, _lake, engine) = demo_lake().await;
    for column_sql in ["useridentity.accesskeyid", "sourceipaddress"] {
        lookups_read_only_their_days(&engine, column_sql).await;
    }
}

async fn lookups_read_only_their_days(engine: &LocalQueryEngine, column_sql: &str) {
    let values = run_to_end(
        engine,
        &format!(
            "SELECT {column_sql}, count(*) FROM cloudtrail_logs WHERE {column_sql} IS NOT NULL \
             GROUP BY 1 HAVING count(DISTINCT dt) = 1 ORDER BY 1 LIMIT 1"
        ),
    )
    .await
    .unwrap();
    let (value, calls) = (column(&values, 0)[0].clone(), column(&values, 1)[0].clone());

    let lookup = format!("SELECT eventname FROM cloudtrail_logs WHERE {column_sql} = '{value}'");
    let found = run_to_end(engine, &lookup).await.unwrap();
    assert_eq!(found.status.stats.files_scanned, Some(1), "one day's file holds {value}");
    assert_eq!(found.status.stats.rows.to_string(), calls, "every call of {value} is found");

    let listed =
        format!("SELECT eventname FROM cloudtrail_logs WHERE {column_sql} IN ('{value}', 'not in the lake')");
    let listed = run_to_end(engine, &listed).await.unwrap();
    assert_eq!(
        (listed.status.stats.files_scanned, listed.status.stats.rows),
        (Some(1), found.status.stats.rows)
    );

    let missing = format!("SELECT eventname, dt FROM cloudtrail_logs WHERE {column_sql} = 'not in the lake'");
    let missing = run_to_end(engine, &missing).await.unwrap();
    assert_eq!((missing.status.stats.files_scanned, missing.status.stats.rows), (Some(0), 0));
    assert_eq!(missing.schema.fields().len(), 2, "an empty answer keeps the query's columns");

    // The same filter written so no bloom filter can answer it reads every day and agrees.
    let every_day =
        format!("SELECT eventname FROM cloudtrail_logs WHERE concat({column_sql}, '') = '{value}'");
    let every_day = run_to_end(engine, &every_day).await.unwrap();
    assert!(every_day.status.stats.files_scanned > Some(1), "{column_sql}");
    assert_eq!(every_day.status.stats.rows, found.status.stats.rows);
}

//! Published Athena queries (AWS docs, AWS samples, public playbooks; each with its source in
//! `athena_corpus/queries.yaml`) run unchanged but for table and partition names on the demo
//! lake. Each must plan and run; the pass rate may not fall below the floor, and every failure
//! is printed with its source and error, so the list of what is missing is always at hand.

use chrono::Utc;
use mantissa_backend::demo::{DemoOptions, write_demo};
use mantissa_backend::local::{Lake, LocalQueryEngine};
use mantissa_backend::query::run_to_end;
use serde::Deserialize;

/// The share of the corpus that must run: all of it runs now (108 of 141 did before the Trino
/// functions and rewrites of `local::udf` and `local::dialect`), so a change that breaks one
/// fails here.
const FLOOR: f64 = 1.0;

#[derive(Debug, Deserialize)]
struct Published {
    id: String,
    table: String,
    source: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    changed: String,
    sql: String,
    /// Set where Athena itself refuses the query as published (a typo in the source, a
    /// function Athena's engine version lacks): it is not counted.
    #[serde(default)]
    athena_rejects: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_athena_queries_run_on_the_embedded_lake() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/athena_corpus/queries.yaml");
    let text = std::fs::read_to_string(path).expect("the corpus file");
    let corpus: Vec<Published> = yaml_serde::from_str(&text).expect("the corpus parses");
    assert!(corpus.len() >= 100, "the corpus has {} queries; it needs at least 100", corpus.len());
    for q in &corpus {
        assert!(q.source.starts_with("https://"), "{}: no source", q.id);
        assert!(
            ["cloudtrail_logs", "vpc_flow_logs", "s3_access_logs", "lambda_logs", "custom_logs"]
                .contains(&q.table.as_str()),
            "{}: table {}",
            q.id,
            q.table
        );
    }
    let dir = tempfile::TempDir::new().unwrap();
    let lake = Lake::new(dir.path());
    write_demo(&lake, &DemoOptions { days: 3, seed: 7, scale: 0.05, end: Utc::now() }).unwrap();
    let engine = LocalQueryEngine::open(&lake).await.unwrap();
    let (mut ran, mut counted, mut failures) = (0usize, 0usize, vec![]);
    for q in corpus.iter().filter(|q| q.athena_rejects.is_none()) {
        counted += 1;
        match run_to_end(&engine, &q.sql).await {
            Ok(_) => ran += 1,
            Err(e) => failures.push(format!(
                "{} ({}; {}; changed: {})\n    {}\n    {e}",
                q.id,
                q.title,
                q.source,
                q.changed,
                q.sql.trim().replace('\n', "\n    ")
            )),
        }
    }
    let rate = ran as f64 / counted as f64;
    eprintln!(
        "{ran} of {counted} published queries run ({:.1} %); failing:\n{}",
        rate * 100.0,
        failures.join("\n")
    );
    assert!(rate >= FLOOR, "{:.1} % run, below the floor of {:.1} %", rate * 100.0, FLOOR * 100.0);
}

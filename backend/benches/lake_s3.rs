//! The S3 lake benchmark (`cargo bench -p mantissa-backend --bench lake_s3`), on the moto
//! emulator: a day of CloudTrail delivered every 5 minutes from 3 regions (864 `.json.gz`
//! files) goes through the ingest Lambda's handler twice, into two lakes: one invocation per
//! file (no batching) and one per 5-minute batching window (the template's setting). It
//! reports the handler's throughput, the Parquet files a day becomes, and the bytes the seed's
//! two benchmark queries scan on each S3 lake. `BENCH_EVENTS` sets the day's size (100,000).

#[path = "../tests/backends/moto.rs"]
#[allow(dead_code)]
mod moto;
#[path = "common/seed_queries.rs"]
mod seed_queries;

use aws_lambda_events::sqs::SqsEvent;
use chrono::{Duration, TimeZone, Timelike, Utc};
use mantissa_backend::aws::lake::S3Lake;
use mantissa_backend::aws::s3::{S3Stores, S3Url};
use mantissa_backend::demo::cloudtrail_background;
use mantissa_backend::lambda::ingest::{Ingest, Routes, handle};
use mantissa_backend::local::LocalQueryEngine;
use mantissa_backend::model::Table;
use mantissa_backend::query::run_to_end;
use object_store::{ObjectStoreExt, PutPayload};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seed_queries::seed_queries;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const DAY: &str = "2024-11-20";
const QUERY_RUNS: usize = 5;

fn gzip(value: &Value) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    serde_json::to_writer(&mut gz, value).unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

/// The day's deliveries: (key, gzip bytes, events), one per region and 5-minute slot, named
/// as CloudTrail names them.
fn deliveries(events: usize) -> Vec<(String, Vec<u8>, usize)> {
    let start = Utc.with_ymd_and_hms(2024, 11, 20, 0, 0, 0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let scale = events as f64 / REGIONS.len() as f64 / 14_000.0;
    let mut out = vec![];
    for region in REGIONS {
        let mut slots: BTreeMap<u32, Vec<Value>> = BTreeMap::new();
        for mut e in cloudtrail_background(&mut rng, (start, start + Duration::days(1)), scale) {
            e["awsRegion"] = json!(region);
            let at = chrono::DateTime::parse_from_rfc3339(e["eventTime"].as_str().unwrap()).unwrap();
            slots.entry(at.hour() * 12 + at.minute() / 5).or_default().push(e);
        }
        for slot in 0..288u32 {
            let records = slots.remove(&slot).unwrap_or_default();
            let at = start + Duration::minutes(5 * i64::from(slot));
            let key = format!(
                "AWSLogs/123456789012/CloudTrail/{region}/2024/11/20/123456789012_CloudTrail_{region}_{}_{slot:03}.json.gz",
                at.format("%Y%m%dT%H%MZ")
            );
            let n = records.len();
            out.push((key, gzip(&json!({ "Records": records })), n));
        }
    }
    out
}

fn notification(id: usize, bucket: &str, key: &str) -> Value {
    let body = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": moto::REGION,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}}
    }]});
    json!({"messageId": format!("m{id}"), "receiptHandle": format!("r{id}"), "body": body.to_string(),
           "eventSource": "aws:sqs", "awsRegion": moto::REGION})
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs `batches` (lists of delivery indexes) through the handler into `lake`: (seconds, events).
async fn ingest(
    ingest: &Ingest,
    raw: &str,
    files: &[(String, Vec<u8>, usize)],
    batches: &[Vec<usize>],
) -> (f64, u64) {
    let started = Instant::now();
    let mut written = 0;
    for batch in batches {
        let records: Vec<Value> = batch.iter().map(|&i| notification(i, raw, &files[i].0)).collect();
        let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
        let (response, summary) = handle(ingest, event).await;
        assert!(response.batch_item_failures.is_empty(), "{summary:?}");
        written += summary.records_written;
    }
    (started.elapsed().as_secs_f64(), written)
}

async fn queries(lake: &S3Lake) -> Vec<(&'static str, f64, u64)> {
    let (simple, complex) = seed_queries(DAY, DAY);
    let mut out = vec![];
    for (name, sql) in [("simple", simple), ("complex", complex)] {
        let mut ms = vec![];
        let mut scanned = 0;
        for _ in 0..QUERY_RUNS {
            // A new session each run: the listing is not reused from the last run.
            let engine = LocalQueryEngine::with_context(lake.session().await.unwrap());
            let t = Instant::now();
            let done = run_to_end(&engine, &sql).await.unwrap();
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            scanned = done.status.stats.bytes_scanned;
        }
        out.push((name, median(ms), scanned));
    }
    out
}

fn main() {
    let events: usize = std::env::var("BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let settings = moto::settings();
        mantissa_backend::aws::bootstrap::bootstrap(&settings).await.expect("bootstrap on moto");
        let conf = settings.sdk_config().await;
        let stores = S3Stores::new(&settings, &conf).unwrap();
        let buckets = settings.buckets(&conf).await.unwrap();
        let files = deliveries(events);
        let total: usize = files.iter().map(|f| f.2).sum();
        let bytes: usize = files.iter().map(|f| f.1.len()).sum();
        let raw = stores.bucket(&buckets.raw).unwrap();
        for (key, body, _) in &files {
            raw.put(&object_store::path::Path::from(key.as_str()), PutPayload::from(body.clone())).await.unwrap();
        }
        println!(
            "a day of CloudTrail: {} files from {} regions, {total} events, {:.1} MB gzip",
            files.len(),
            REGIONS.len(),
            bytes as f64 / 1e6
        );
        // Slot-major order: a batching window gathers the files of every region for its 5 minutes.
        let mut by_slot: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..files.len() {
            by_slot.entry(i % 288).or_default().push(i);
        }
        let one_each: Vec<Vec<usize>> = by_slot.values().flatten().map(|&i| vec![i]).collect();
        let windows: Vec<Vec<usize>> = by_slot.into_values().collect();
        println!("| lake | invocations | seconds | events/s | Parquet files for {DAY} | simple query | complex query |");
        println!("|---|---|---|---|---|---|---|");
        for (name, batches) in [("one invocation per file", one_each), ("5-minute batching window", windows)] {
            let prefix = if batches[0].len() == 1 { "unbatched" } else { "batched" };
            let url = S3Url::parse(&format!("{}/{prefix}", buckets.lake.url("").trim_end_matches('/'))).unwrap();
            let lake = S3Lake::new(url, stores.bucket(&buckets.lake.bucket).unwrap());
            let handler = Ingest {
                lake: lake.clone(),
                stores: stores.clone(),
                routes: Routes::default(),
                max_decoded: mantissa_backend::ingest::DEFAULT_MAX_DECODED_BYTES,
            };
            let (secs, written) = ingest(&handler, &buckets.raw, &files, &batches).await;
            assert_eq!(written as usize, total, "every event written once");
            let parquet = lake.files(Table::CloudTrail, DAY).await.unwrap().len();
            let q = queries(&lake).await;
            let show = |i: usize| format!("{:.1} ms, {:.2} MB scanned", q[i].1, q[i].2 as f64 / 1e6);
            println!(
                "| {name} | {} | {secs:.1} | {:.0} | {parquet} | {} | {} |",
                batches.len(),
                total as f64 / secs,
                show(0),
                show(1)
            );
        }
    });
}

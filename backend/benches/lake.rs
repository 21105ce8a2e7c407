//! The lake benchmark (run with `cargo bench --bench lake`): the seed's dataset of 1 million
//! CloudTrail events over 90 days, ingested from `.json.gz` deliveries into Parquet, then two
//! queries timed on the embedded lake and on DuckDB over the same files, side by side.
//! Set `BENCH_EVENTS` for another size and `BENCH_RUNS` for the repeats (default 15).

#[path = "common/seed_queries.rs"]
mod seed_queries;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use mantissa_backend::demo::cloudtrail_background;
use mantissa_backend::ingest::ingest_paths;
use mantissa_backend::local::{Lake, LocalQueryEngine};
use mantissa_backend::model::Table;
use mantissa_backend::ports::QueryEngine;
use mantissa_backend::query::run_to_end;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use seed_queries::seed_queries;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const DAYS: i64 = 90;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One `{"Records": [...]}` gzip file per day, as CloudTrail delivers (fewer, larger files).
fn write_deliveries(dir: &Path, events: usize) -> usize {
    std::fs::create_dir_all(dir).unwrap();
    let end = Utc.with_ymd_and_hms(2024, 11, 21, 0, 0, 0).unwrap();
    let scale = events as f64 / DAYS as f64 / 14_000.0;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut total = 0;
    for d in 0..DAYS {
        let day_end = end - Duration::days(DAYS - 1 - d);
        let records = cloudtrail_background(&mut rng, (day_end - Duration::days(1), day_end), scale);
        total += records.len();
        let file = std::fs::File::create(dir.join(format!("day-{d:03}.json.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        serde_json::to_writer(&mut gz, &serde_json::json!({ "Records": records })).unwrap();
        gz.finish().unwrap().flush().unwrap();
    }
    total
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn python_with_duckdb(root: &Path) -> Option<PathBuf> {
    let venv = root.join(".venv");
    let py = venv.join("bin/python");
    let has = |p: &Path| Command::new(p).args(["-c", "import duckdb"]).status().is_ok_and(|s| s.success());
    if !has(&py) {
        eprintln!("installing duckdb from PyPI into {} ...", venv.display());
        let _ = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
        let _ = Command::new(venv.join("bin/pip")).args(["install", "-q", "duckdb"]).status();
    }
    has(&py).then_some(py)
}

/// Runs `sql` `runs + 1` times (the first warms the file listing and page cache and is
/// dropped); returns the timings in ms and the bytes scanned.
async fn timed(engine: &LocalQueryEngine, sql: &str, runs: usize) -> (Vec<f64>, u64) {
    let mut ms = vec![];
    let mut bytes = 0;
    for _ in 0..runs + 1 {
        let t = Instant::now();
        let out = run_to_end(engine, sql).await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        bytes = out.status.stats.bytes_scanned;
    }
    ms.remove(0);
    (ms, bytes)
}

fn main() {
    let events = env_or("BENCH_EVENTS", 1_000_000);
    let runs = env_or("BENCH_RUNS", 15);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lake-bench-{events}"));
    let json_dir = work.join("deliveries");
    let data_dir = work.join("data");
    let _ = std::fs::remove_dir_all(&work);

    println!("generating {events} CloudTrail events over {DAYS} days ...");
    let written = write_deliveries(&json_dir, events);
    let gz_bytes: u64 =
        std::fs::read_dir(&json_dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();

    let lake = Lake::new(&data_dir);
    let t = Instant::now();
    let report = ingest_paths(&lake, Table::CloudTrail, std::slice::from_ref(&json_dir), &|_| {}).unwrap();
    let ingest_s = t.elapsed().as_secs_f64();
    assert_eq!(report.written as usize, written, "{:?}", report.issues.first());
    let parquet_bytes: u64 = report.parquet_files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();

    let last = NaiveDate::from_ymd_opt(2024, 11, 20).unwrap();
    let first = last - Duration::days(6);
    let (simple, complex) = seed_queries(&first.to_string(), &last.to_string());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ours_simple, ours_complex, scanned, mut cancel_ms) = rt.block_on(async {
        let engine = LocalQueryEngine::open(&lake).await.unwrap();
        let (s, s_bytes) = timed(&engine, &simple, runs).await;
        let (c, c_bytes) = timed(&engine, &complex, runs).await;
        let scanned = vec![s_bytes, c_bytes];
        // Cancel latency: a scan of the whole lake that would run for a long while.
        let mut cancel_ms = vec![];
        for _ in 0..runs {
            let id = engine
                .start("SELECT a.eventid FROM cloudtrail_logs a CROSS JOIN cloudtrail_logs b")
                .await
                .unwrap();
            while engine.status(&id).await.unwrap().stats.rows == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            let t = Instant::now();
            engine.cancel(&id).await.unwrap();
            cancel_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        (s, c, scanned, cancel_ms)
    });

    let peer_out = work.join("duckdb");
    std::fs::create_dir_all(&peer_out).unwrap();
    let peer = python_with_duckdb(&root).and_then(|py| {
        let out = Command::new(py)
            .arg(root.join("bench/duckdb_peer.py"))
            .args([lake.root(), &json_dir, &peer_out])
            .arg((runs + 1).to_string())
            .args([&simple, &complex])
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("duckdb peer failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        serde_json::from_slice::<serde_json::Value>(&out.stdout).ok()
    });

    let mut ours_simple = ours_simple;
    let mut ours_complex = ours_complex;
    let (ms, mc) = (median(&mut ours_simple), median(&mut ours_complex));
    println!();
    println!(
        "dataset: {written} events, {DAYS} days, {:.1} MB .json.gz -> {:.1} MB Parquet (Snappy)",
        gz_bytes as f64 / 1e6,
        parquet_bytes as f64 / 1e6
    );
    println!("{:<34} {:>12} {:>12} {:>10} {:>12}", "", "mantissa", "duckdb", "ratio", "target");
    let peer_median = |key: &str| -> Option<f64> {
        let mut v: Vec<f64> =
            peer.as_ref()?[key].as_array()?.iter().filter_map(|x| x.as_f64()).skip(1).collect();
        Some(median(&mut v))
    };
    let row = |name: &str, ours: f64, theirs: Option<f64>, target: &str| {
        let (t, r) = match theirs {
            Some(x) => (format!("{x:.1} ms"), format!("{:.2}x", ours / x)),
            None => ("n/a".into(), "n/a".into()),
        };
        println!("{name:<34} {:>12} {t:>12} {r:>10} {target:>12}", format!("{ours:.1} ms"));
    };
    row("simple, 1-day dt filter (median)", ms, peer_median("simple_ms"), "< 100 ms");
    row("complex, 7-day aggregation (median)", mc, peer_median("complex_ms"), "< 300 ms");
    println!(
        "bytes scanned: simple {:.2} MB, complex {:.2} MB (seed on Athena: 5 MB, 35 MB)",
        scanned[0] as f64 / 1e6,
        scanned[1] as f64 / 1e6
    );
    println!(
        "cancel a running query: median {:.2} ms, max {:.2} ms (target < 100 ms)",
        median(&mut cancel_ms),
        cancel_ms.iter().cloned().fold(0.0, f64::max)
    );
    let ours_rate = written as f64 / ingest_s;
    let peer_rate = peer.as_ref().and_then(|p| Some(p["ingest_events"].as_f64()? / p["ingest_s"].as_f64()?));
    println!(
        "ingest .json.gz -> Parquet: mantissa {:.0} events/s ({ingest_s:.2} s), duckdb {}",
        ours_rate,
        peer_rate.map_or("n/a".into(), |r| format!("{r:.0} events/s ({:.2}x ours)", r / ours_rate))
    );
    if let Some(p) = &peer {
        println!("peer: duckdb {} (PyPI), same files, same machine, in-process timings", p["version"]);
    }
}

//! The lake benchmark (run with `cargo bench --bench lake`): the seed's dataset of 1 million
//! CloudTrail events over 90 days, ingested from `.json.gz` deliveries into Parquet, then the
//! seed's two queries, a 30-day and a 90-day scan and two needle searches (an address, an
//! access key: the bloom filters) timed on the embedded lake and on DuckDB over the same files,
//! side by side; then a `SELECT *` over 30 days held as the grid holds it and streamed into a
//! JSON-lines file, with time and peak memory. `BENCH_EVENTS` sets the size (10000000 for the
//! 10x run), `BENCH_RUNS` the repeats (default 15); `BENCH_EXPLAIN=1` prints each query's
//! `EXPLAIN ANALYZE`, `BENCH_REUSE=1` keeps the deliveries of an earlier run.

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

/// A `/proc/self/status` memory line in MB (Linux): `VmHWM` the peak since [`reset_peak`],
/// `VmRSS` the current size.
fn status_mb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Resets the peak to the current size (writing 5 to clear_refs, Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `SELECT *` over the last 30 days: as the console's grid takes it (the held rows, every row
/// counted) and streamed into a JSON-lines file as an export writes it. Returns rows, then time (ms)
/// and peak growth (MB) of each, and the file's size (MB).
async fn select_everything(
    engine: &LocalQueryEngine,
    from: &str,
    work: &Path,
) -> (u64, f64, f64, f64, f64, f64) {
    let sql = format!("SELECT * FROM cloudtrail_logs WHERE dt >= '{from}'");
    reset_peak();
    let base = status_mb("VmRSS");
    let t = Instant::now();
    let id = engine.start(&sql).await.unwrap();
    mantissa_backend::query::wait(engine, &id).await.unwrap();
    let (_, held, _) =
        mantissa_backend::query::held_rows(engine, &id, mantissa_backend::ports::HELD_ROWS).await.unwrap();
    let rows = engine.status(&id).await.unwrap().stats.rows;
    let grid_ms = t.elapsed().as_secs_f64() * 1000.0;
    let grid_mb = status_mb("VmHWM") - base;
    drop(held);
    // Forget the held job's rows before the export is measured.
    for _ in 0..70 {
        mantissa_backend::query::run_to_end(engine, "SELECT 1").await.unwrap();
    }
    reset_peak();
    let base = status_mb("VmRSS");
    let path = work.join("everything.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut sink = |batch: datafusion::arrow::record_batch::RecordBatch| {
        let mut w = arrow_json::LineDelimitedWriter::new(&mut out);
        w.write(&batch).and_then(|_| w.finish()).map_err(|e| mantissa_backend::Error::backend("json", e))
    };
    let t = Instant::now();
    engine.stream(&sql, &mut sink).await.unwrap();
    out.flush().unwrap();
    let export_ms = t.elapsed().as_secs_f64() * 1000.0;
    let export_mb = status_mb("VmHWM") - base;
    let file_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    (rows, grid_ms, grid_mb, export_ms, export_mb, file_mb)
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
    // BENCH_REUSE=1 keeps the deliveries an earlier run of the same size wrote (generating 10
    // million events takes minutes); the lake is always written afresh.
    let reuse = std::env::var_os("BENCH_REUSE").is_some()
        && std::fs::read_dir(&json_dir).is_ok_and(|d| d.count() == DAYS as usize);
    if reuse {
        let _ = std::fs::remove_dir_all(&data_dir);
        let _ = std::fs::remove_dir_all(work.join("duckdb"));
    } else {
        let _ = std::fs::remove_dir_all(&work);
        println!("generating {events} CloudTrail events over {DAYS} days ...");
    }
    let written = if reuse { None } else { Some(write_deliveries(&json_dir, events)) };
    let gz_bytes: u64 =
        std::fs::read_dir(&json_dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();

    let lake = Lake::new(&data_dir);
    reset_peak();
    let t = Instant::now();
    let report = ingest_paths(&lake, Table::CloudTrail, std::slice::from_ref(&json_dir), &|_| {}).unwrap();
    let ingest_s = t.elapsed().as_secs_f64();
    let ingest_peak_mb = status_mb("VmHWM");
    if let Some(written) = written {
        assert_eq!(report.written as usize, written, "{:?}", report.issues.first());
    }
    let written = report.written;
    let parquet_bytes: u64 = report.parquet_files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();

    let last = NaiveDate::from_ymd_opt(2024, 11, 20).unwrap();
    let first = last - Duration::days(6);
    let (simple, complex) = seed_queries(&first.to_string(), &last.to_string());
    let month = (last - Duration::days(29)).to_string();
    let quarter = (last - Duration::days(DAYS - 1)).to_string();
    let needle = |column: &str| {
        format!(
            "SELECT eventtime, eventname, {column} FROM cloudtrail_logs WHERE {column} = '{}'",
            "203.0.113.250"
        )
    };
    let queries: Vec<(&str, String, &str)> = vec![
        ("simple, 1-day dt filter", simple, "< 100 ms"),
        ("complex, 7-day aggregation", complex, "< 300 ms"),
        (
            "30-day scan, calls by service",
            format!(
                "SELECT eventsource, eventname, count(*) AS calls FROM cloudtrail_logs \
                 WHERE dt >= '{month}' GROUP BY 1, 2 ORDER BY calls DESC LIMIT 20"
            ),
            "",
        ),
        (
            "90-day scan, errors by principal",
            format!(
                "SELECT useridentity.arn, count(*) AS errors FROM cloudtrail_logs \
                 WHERE dt >= '{quarter}' AND errorcode IS NOT NULL GROUP BY 1 ORDER BY errors DESC LIMIT 20"
            ),
            "",
        ),
        ("90 days, one source address (bloom)", needle("sourceipaddress"), ""),
        (
            "90 days, one access key (bloom)",
            "SELECT eventtime, eventname FROM cloudtrail_logs WHERE useridentity.accesskeyid = 'AKIABENCHNEEDLE0000'"
                .to_string(),
            "",
        ),
    ];
    let sqls: Vec<String> = queries.iter().map(|(_, sql, _)| sql.clone()).collect();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ours, scanned, mut cancel_ms, everything) = rt.block_on(async {
        let engine = LocalQueryEngine::open(&lake).await.unwrap();
        let mut ours = vec![];
        let mut scanned = vec![];
        for sql in &sqls {
            let (ms, bytes) = timed(&engine, sql, runs).await;
            ours.push(ms);
            scanned.push(bytes);
        }
        if std::env::var_os("BENCH_EXPLAIN").is_some() {
            for sql in &sqls {
                let plan = run_to_end(&engine, &format!("EXPLAIN ANALYZE {sql}")).await.unwrap();
                let text = datafusion::arrow::util::pretty::pretty_format_batches(&plan.batches).unwrap();
                println!("{sql}\n{text}");
            }
        }
        let everything = select_everything(&engine, &month, &work).await;
        // Cancel latency: a join over the whole lake that would run for a long while (one
        // day on the build side, so it fits the memory pool at 10x the seed's size).
        let mut cancel_ms = vec![];
        let endless = format!(
            "SELECT a.eventid FROM cloudtrail_logs a CROSS JOIN cloudtrail_logs b WHERE a.dt = '{last}'"
        );
        for _ in 0..runs {
            let id = engine.start(&endless).await.unwrap();
            loop {
                let status = engine.status(&id).await.unwrap();
                assert!(!status.state.is_terminal(), "the query to cancel ended: {:?}", status.state);
                if status.stats.rows > 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            let t = Instant::now();
            engine.cancel(&id).await.unwrap();
            cancel_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        (ours, scanned, cancel_ms, everything)
    });

    let peer_out = work.join("duckdb");
    std::fs::create_dir_all(&peer_out).unwrap();
    let peer = python_with_duckdb(&root).and_then(|py| {
        let out = Command::new(py)
            .arg(root.join("bench/duckdb_peer.py"))
            .args([lake.root(), &json_dir, &peer_out])
            .arg((runs + 1).to_string())
            .arg(serde_json::to_string(&sqls).unwrap())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("duckdb peer failed: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        serde_json::from_slice::<serde_json::Value>(&out.stdout).ok()
    });

    println!();
    println!(
        "dataset: {written} events, {DAYS} days, {:.1} MB .json.gz -> {:.1} MB Parquet (Snappy)",
        gz_bytes as f64 / 1e6,
        parquet_bytes as f64 / 1e6
    );
    println!(
        "{:<40} {:>11} {:>11} {:>8} {:>10} {:>10}",
        "", "mantissa", "duckdb", "ratio", "scanned", "target"
    );
    let peer_ms: Vec<Option<f64>> = (0..queries.len())
        .map(|i| {
            let runs = peer.as_ref()?["query_ms"].as_array()?.get(i)?.as_array()?;
            let mut v: Vec<f64> = runs.iter().filter_map(|x| x.as_f64()).skip(1).collect();
            (!v.is_empty()).then(|| median(&mut v))
        })
        .collect();
    for (i, ((name, _, target), mut ms)) in queries.iter().zip(ours).enumerate() {
        let ours = median(&mut ms);
        let (t, r) = match peer_ms[i] {
            Some(x) => (format!("{x:.1} ms"), format!("{:.2}x", ours / x)),
            None => ("n/a".into(), "n/a".into()),
        };
        let bytes = format!("{:.2} MB", scanned[i] as f64 / 1e6);
        println!("{name:<40} {:>11} {t:>11} {r:>8} {bytes:>10} {target:>10}", format!("{ours:.1} ms"));
    }
    println!("(medians of {runs} runs; bytes scanned as DataFusion's Parquet metrics count them)");
    let (rows, grid_ms, grid_mb, export_ms, export_mb, file_mb) = everything;
    println!(
        "SELECT * over 30 days ({rows} rows): into the grid {grid_ms:.0} ms, peak +{grid_mb:.0} MB; \
         streamed into JSON lines {export_ms:.0} ms, peak +{export_mb:.0} MB ({file_mb:.0} MB file)"
    );
    println!(
        "cancel a running query: median {:.2} ms, max {:.2} ms (target < 100 ms)",
        median(&mut cancel_ms),
        cancel_ms.iter().cloned().fold(0.0, f64::max)
    );
    let ours_rate = written as f64 / ingest_s;
    let peer_rate = peer.as_ref().and_then(|p| Some(p["ingest_events"].as_f64()? / p["ingest_s"].as_f64()?));
    println!(
        "ingest .json.gz -> Parquet: mantissa {:.0} events/s ({ingest_s:.2} s, peak RSS {ingest_peak_mb:.0} MB), \
         duckdb {}",
        ours_rate,
        peer_rate.map_or("n/a".into(), |r| format!(
            "{r:.0} events/s ({:.2}x ours, peak RSS {:.0} MB)",
            r / ours_rate,
            peer.as_ref().and_then(|p| p["ingest_peak_mb"].as_f64()).unwrap_or(0.0)
        ))
    );
    if let Some(p) = &peer {
        println!("peer: duckdb {} (PyPI), same files, same machine, in-process timings", p["version"]);
    }
}

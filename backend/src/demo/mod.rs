//! Demo workspace data: deterministic, realistic logs for every table, with benign
//! background traffic and the attack stories an analyst should recognise. The same seed and
//! end time give the same events.

mod cloudtrail;
mod network;
mod services;
pub mod workspace;

pub use cloudtrail::background as cloudtrail_background;

use crate::error::{Error, Result};
use crate::ingest::{shape, writer::Partitions};
use crate::local::Lake;
use crate::model::Table;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub days: u32,
    pub seed: u64,
    /// Multiplies the background volume (1.0 is about 28k events a day).
    pub scale: f64,
    /// The newest event's hour; stories are placed before it. Defaults to the current hour.
    pub end: DateTime<Utc>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            days: 7,
            seed: 42,
            scale: 1.0,
            end: Utc::now().duration_trunc(Duration::hours(1)).expect("hour rounding"),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct DemoReport {
    pub events: Vec<(Table, u64)>,
    pub files: usize,
}

impl DemoReport {
    pub fn total(&self) -> u64 {
        self.events.iter().map(|(_, n)| n).sum()
    }
}

/// Raw events per table, as each source writes them (CloudTrail in its own camelCase).
pub struct DemoEvents {
    pub by_table: Vec<(Table, Vec<Value>)>,
}

pub fn generate(opts: &DemoOptions) -> DemoEvents {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let start = opts.end - Duration::days(opts.days as i64);
    let window = (start, opts.end);
    let mut ct = cloudtrail::background(&mut rng, window, opts.scale);
    ct.extend(cloudtrail::stories(&mut rng, opts.end));
    let mut vpc = network::background(&mut rng, window, opts.scale);
    vpc.extend(network::stories(&mut rng, opts.end));
    let (s3, lambda, custom) = services::generate(&mut rng, window, opts.scale);
    DemoEvents {
        by_table: vec![
            (Table::CloudTrail, ct),
            (Table::VpcFlow, vpc),
            (Table::S3Access, s3),
            (Table::Lambda, lambda),
            (Table::Custom, custom),
        ],
    }
}

/// Generates the demo data and writes it into the lake, replacing earlier demo files.
pub fn write_demo(lake: &Lake, opts: &DemoOptions) -> Result<DemoReport> {
    write_demo_reporting(lake, opts, &mut |_| {})
}

/// [`write_demo`], saying each step as it ends (a first start shows them, so a terminal over
/// SSH does not look hung for the seconds it takes).
pub fn write_demo_reporting(
    lake: &Lake,
    opts: &DemoOptions,
    progress: &mut dyn FnMut(String),
) -> Result<DemoReport> {
    let started = std::time::Instant::now();
    let events = generate(opts);
    let total: usize = events.by_table.iter().map(|(_, rows)| rows.len()).sum();
    progress(format!(
        "generated {total} events over {} days in {:.1} s",
        opts.days,
        started.elapsed().as_secs_f64()
    ));
    let mut report = DemoReport::default();
    for (table, rows) in events.by_table {
        let step = std::time::Instant::now();
        remove_demo_files(lake, table)?;
        let mut parts = Partitions::default();
        for raw in &rows {
            let (dt, conformed) = shape(table, raw).map_err(|reason| {
                Error::backend(
                    "demo generator",
                    format!("{table}: made a record that does not fit: {reason}"),
                )
            })?;
            if let Some(note) = conformed.notes.first() {
                let why = format!("{table}: made a record that does not fit: {note}");
                return Err(Error::backend("demo generator", why));
            }
            parts.push(dt, conformed.row);
        }
        let events = parts.len();
        let files = parts.write(lake, table, "demo")?.len();
        progress(format!(
            "wrote {:<16} {events:>7} events in {files} Parquet files ({:.1} s)",
            table.name(),
            step.elapsed().as_secs_f64()
        ));
        report.events.push((table, events as u64));
        report.files += files;
    }
    Ok(report)
}

fn remove_demo_files(lake: &Lake, table: Table) -> Result<()> {
    for entry in walkdir::WalkDir::new(lake.table_dir(table)).into_iter().flatten() {
        if entry.file_name() == "demo.parquet" {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

/// A time uniformly inside `window`.
fn time_in(rng: &mut ChaCha8Rng, window: (DateTime<Utc>, DateTime<Utc>)) -> DateTime<Utc> {
    use rand::Rng;
    let span = (window.1 - window.0).num_milliseconds().max(1);
    window.0 + Duration::milliseconds(rng.random_range(0..span))
}

/// Events per day of the background, scaled; never zero for a positive scale.
fn per_day(base: f64, scale: f64) -> usize {
    ((base * scale).round() as usize).max(1)
}

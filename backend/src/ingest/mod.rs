//! Log ingest: reads CloudTrail, VPC Flow, S3 access, Lambda and custom JSON logs (plain or
//! gzip, files or folders), shapes them to the Athena tables and writes Parquet by `dt`.
//! A bad record is reported as `file:line: reason` and skipped; the rest is kept.

mod cloudtrail;
pub mod conform;
pub mod convert;
pub(crate) mod custom;
mod lambda;
mod s3_access;
mod vpc_flow;
pub mod writer;

use crate::error::{Error, Result};
use crate::local::Lake;
use crate::model::Table;
use chrono::{DateTime, NaiveDate};
use serde_json::Value;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A record or file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `file:line`, `file: Records[3]` or just the file.
    pub place: String,
    pub reason: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.reason)
    }
}

#[derive(Debug, Default, Clone)]
pub struct IngestReport {
    pub files: u64,
    /// Records found in the input (good and bad).
    pub read: u64,
    pub written: u64,
    pub skipped: u64,
    pub issues: Vec<Issue>,
    pub parquet_files: Vec<PathBuf>,
    /// The latest event time written, in UTC milliseconds.
    pub latest_ms: Option<i64>,
}

impl IngestReport {
    fn absorb(&mut self, other: IngestReport) {
        self.files += other.files;
        self.read += other.read;
        self.written += other.written;
        self.skipped += other.skipped;
        self.issues.extend(other.issues);
        self.parquet_files.extend(other.parquet_files);
        self.latest_ms = self.latest_ms.max(other.latest_ms);
    }
}

/// Records a parser found in one file, each with the place it came from.
#[derive(Default)]
pub(crate) struct Parsed {
    pub records: Vec<(String, Value)>,
    pub issues: Vec<Issue>,
    /// Records that were found but could not be parsed.
    pub bad: u64,
}

impl Parsed {
    pub fn record(&mut self, place: String, value: Value) {
        self.records.push((place, value));
    }

    /// A problem with the file as a whole (not one record).
    pub fn issue(&mut self, place: impl Into<String>, reason: impl Into<String>) {
        self.issues.push(Issue { place: place.into(), reason: reason.into() });
    }

    /// A record that was found but cannot be used.
    pub fn bad(&mut self, place: impl Into<String>, reason: impl Into<String>) {
        self.bad += 1;
        self.issue(place, reason);
    }
}

/// Files under `paths` (folders walked in name order, hidden files skipped).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = vec![];
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(p).sort_by_file_name().into_iter();
            for entry in
                walker.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            {
                let entry = entry.map_err(|e| Error::invalid(p.display().to_string(), e.to_string()))?;
                if entry.file_type().is_file() {
                    files.push(entry.into_path());
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Ingests every file under `paths` as `table`, a file per worker thread at a time (one per
/// core). `on_file` is told each file's size when it is done (for a progress bar).
pub fn ingest_paths(
    lake: &Lake,
    table: Table,
    paths: &[PathBuf],
    on_file: &(dyn Fn(u64) + Sync),
) -> Result<IngestReport> {
    let files = expand_paths(paths)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len().max(1));
    let results: Vec<Result<Vec<(usize, IngestReport)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = vec![];
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else { return Ok(done) };
                        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
                        done.push((i, ingest_bytes(lake, table, file, &bytes)?));
                        on_file(bytes.len() as u64);
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("ingest worker panicked")).collect()
    });
    // Report in file order, whatever order the workers finished in.
    let mut per_file = vec![];
    for r in results {
        per_file.extend(r?);
    }
    per_file.sort_by_key(|(i, _)| *i);
    let mut report = IngestReport::default();
    for (_, r) in per_file {
        report.absorb(r);
    }
    Ok(report)
}

/// Ingests one file's content (plain or gzip) into the local lake.
pub fn ingest_bytes(lake: &Lake, table: Table, file: &Path, raw: &[u8]) -> Result<IngestReport> {
    let converted = convert::convert(table, file, raw);
    let mut report = converted.report;
    if !converted.partitions.is_empty() {
        report.parquet_files = converted.partitions.write(lake, table, &converted.source)?;
    }
    Ok(report)
}

/// Conforms a record to the table and finds its day.
pub fn shape(table: Table, record: &Value) -> std::result::Result<(String, Value), String> {
    let row = conform::conform_record(record, table.file_schema().fields())?;
    let column = table.time_column();
    let ms = event_time_ms(table, &row)
        .ok_or_else(|| format!("no event time: `{column}` is missing or not a timestamp"))?;
    let day = DateTime::from_timestamp_millis(ms)
        .map(|d| d.date_naive())
        .ok_or_else(|| format!("`{column}` is out of range"))?;
    Ok((dt_of(day), row))
}

pub fn dt_of(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The event time of a conformed row in UTC milliseconds.
pub fn event_time_ms(table: Table, row: &Value) -> Option<i64> {
    let v = row.get(table.time_column())?;
    match table {
        Table::CloudTrail | Table::Lambda | Table::Custom => conform::timestamp_millis(v),
        Table::VpcFlow => v.as_i64().map(|s| s * 1000),
        Table::S3Access => {
            DateTime::parse_from_str(v.as_str()?, "%d/%b/%Y:%H:%M:%S %z").ok().map(|d| d.timestamp_millis())
        }
    }
}

/// Bytes to text: gunzips when the gzip magic is there, keeping what decoded before a
/// truncation (line formats then keep their complete lines).
fn decode(name: &str, raw: &[u8], parsed: &mut Parsed) -> String {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 8);
        let mut gz = flate2::read::MultiGzDecoder::new(raw);
        let mut buf = [0u8; 64 * 1024];
        loop {
            match gz.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => {
                    parsed.issue(
                        name,
                        format!(
                            "gzip stream is truncated or corrupt after {} bytes ({e}); kept the \
                             complete lines before it: re-copy the file to ingest the rest",
                            out.len()
                        ),
                    );
                    match out.iter().rposition(|&b| b == b'\n') {
                        Some(end) => out.truncate(end + 1),
                        None => out.clear(),
                    }
                    break;
                }
            }
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// Non-empty lines with their 1-based numbers, skipping `#` comments.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests;

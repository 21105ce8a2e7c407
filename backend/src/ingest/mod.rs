//! Log ingest: reads CloudTrail, VPC Flow, S3 access, Lambda and custom JSON logs (plain or
//! gzip, files or folders), shapes them to the Athena tables and writes Parquet by `dt`.
//! A bad record is reported as `file:line: reason` and skipped; the rest is kept. A file that
//! decodes to more than the cap ([`decode`]) is refused, naming it and the cap; the others go on.

mod cloudtrail;
pub mod conform;
pub mod convert;
pub(crate) mod custom;
pub mod decode;
mod lambda;
mod s3_access;
mod vpc_flow;
pub mod writer;

use crate::error::{Error, Result};
use crate::local::Lake;
use crate::model::Table;
use chrono::{DateTime, NaiveDate};
pub use decode::{DEFAULT_MAX_DECODED_BYTES, parse_size};
use serde_json::Value;
use std::fmt;
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
    /// The earliest and latest event times written, in UTC milliseconds.
    pub earliest_ms: Option<i64>,
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
        self.earliest_ms = earliest(self.earliest_ms, other.earliest_ms);
        self.latest_ms = self.latest_ms.max(other.latest_ms);
    }
}

/// The earlier of two optional times (`Option::min` would take `None` as the earliest).
pub(crate) fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
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

/// [`ingest_paths_with`] at the default decoded-size cap.
pub fn ingest_paths(
    lake: &Lake,
    table: Table,
    paths: &[PathBuf],
    on_file: &(dyn Fn(u64) + Sync),
) -> Result<IngestReport> {
    ingest_paths_with(lake, table, paths, on_file, DEFAULT_MAX_DECODED_BYTES)
}

/// Reads a file unless it is already over the cap (compressed or not, it is held whole).
fn read_file(file: &Path, max_decoded: u64) -> std::result::Result<Vec<u8>, Issue> {
    let place = file.display().to_string();
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > max_decoded {
        return Err(Issue { place, reason: decode::over_cap(max_decoded) });
    }
    std::fs::read(file)
        .map_err(|e| Issue { place, reason: format!("cannot read it ({e}); the other files go on") })
}

/// Ingests every file under `paths` as `table`, a file per worker thread at a time (one per
/// core). `on_file` is told each file's size when it is done (for a progress bar). A file
/// that cannot be read or decodes past `max_decoded` bytes is an issue; the others go on.
pub fn ingest_paths_with(
    lake: &Lake,
    table: Table,
    paths: &[PathBuf],
    on_file: &(dyn Fn(u64) + Sync),
    max_decoded: u64,
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
                        let bytes = match read_file(file, max_decoded) {
                            Ok(bytes) => bytes,
                            Err(issue) => {
                                let report =
                                    IngestReport { files: 1, issues: vec![issue], ..Default::default() };
                                done.push((i, report));
                                on_file(std::fs::metadata(file).map(|m| m.len()).unwrap_or(0));
                                continue;
                            }
                        };
                        done.push((i, ingest_bytes_with(lake, table, file, &bytes, max_decoded)?));
                        on_file(bytes.len() as u64);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::backend("ingest", "a worker thread panicked"))))
            .collect()
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

/// Ingests one file's content (plain or gzip) at the default decoded-size cap.
pub fn ingest_bytes(lake: &Lake, table: Table, file: &Path, raw: &[u8]) -> Result<IngestReport> {
    ingest_bytes_with(lake, table, file, raw, DEFAULT_MAX_DECODED_BYTES)
}

/// Ingests one file's content; more than `max_decoded` bytes of text is refused unread.
pub fn ingest_bytes_with(
    lake: &Lake,
    table: Table,
    file: &Path,
    raw: &[u8],
    max_decoded: u64,
) -> Result<IngestReport> {
    let converted = convert::convert(table, file, raw, max_decoded);
    let mut report = converted.report;
    if !converted.partitions.is_empty() {
        report.parquet_files = converted.partitions.write(lake, table, &converted.source)?;
    }
    Ok(report)
}

/// Conforms a record to the table and finds its day; the notes say what was left out of it.
pub fn shape(table: Table, record: &Value) -> std::result::Result<(String, conform::Conformed), String> {
    let conformed = conform::conform_record(record, table.file_schema().fields())?;
    let (row, column) = (&conformed.row, table.time_column());
    let ms = event_time_ms(table, row).ok_or_else(|| match row.get(column) {
        Some(n) if n.is_number() => format!("`{column}`: {n} is out of range for an event time"),
        // The time was there but could not be read: say why, not only that it is missing.
        _ => {
            let dropped = format!("dropped `{column}`");
            match conformed.notes.iter().find(|n| n.starts_with(&dropped)) {
                // Why its time could not be read: the record cannot be placed without it.
                Some(note) => note
                    .trim_start_matches("dropped ")
                    .split(conform::KEPT_THE_REST)
                    .next()
                    .unwrap_or(note)
                    .to_string(),
                None => format!("no event time: `{column}` is missing or not a timestamp"),
            }
        }
    })?;
    let day = DateTime::from_timestamp_millis(ms)
        .map(|d| d.date_naive())
        .ok_or_else(|| format!("`{column}` is out of range"))?;
    Ok((dt_of(day), conformed))
}

pub fn dt_of(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The event time of a conformed row in UTC milliseconds.
pub fn event_time_ms(table: Table, row: &Value) -> Option<i64> {
    let v = row.get(table.time_column())?;
    match table {
        Table::CloudTrail | Table::Lambda | Table::Custom => conform::timestamp_millis(v),
        Table::VpcFlow => v.as_i64().and_then(|s| s.checked_mul(1000)),
        Table::S3Access => {
            DateTime::parse_from_str(v.as_str()?, "%d/%b/%Y:%H:%M:%S %z").ok().map(|d| d.timestamp_millis())
        }
    }
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

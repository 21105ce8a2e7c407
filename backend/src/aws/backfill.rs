//! Backfill: raw log files from local folders or an S3 prefix, converted with the same ingest
//! code and written to the S3 lake in batches (one Parquet file per table and day per batch,
//! every source claimed once, so running a backfill again adds nothing twice).

use super::lake::{S3Lake, SourceOutcome};
use super::s3::{S3Stores, S3Url, get_bytes, store_err};
use crate::error::{Error, Result};
use crate::ingest::convert::{Converted, convert};
use crate::ingest::{IngestReport, expand_paths};
use crate::model::Table;
use futures::TryStreamExt;
use object_store::ObjectStore;
use std::path::{Path, PathBuf};

/// Raw bytes read per batch before it is written (bounds memory on big backfills).
const BATCH_BYTES: usize = 256 << 20;
/// Files per batch at most.
const BATCH_FILES: usize = 500;

/// Where a raw file is.
#[derive(Debug, Clone)]
pub enum Input {
    Local(PathBuf),
    S3 { bucket: String, key: String },
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Local(p) => p.display().to_string(),
            Input::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }
}

/// The files under each argument: folders walked, `s3://bucket/prefix` listed.
pub async fn expand(args: &[String], stores: &S3Stores) -> Result<Vec<Input>> {
    let mut inputs = vec![];
    for a in args {
        if a.starts_with("s3://") {
            let url = S3Url::parse(a)?;
            let store = stores.bucket(&url.bucket)?;
            let prefix =
                (!url.prefix.is_empty()).then(|| object_store::path::Path::from(url.prefix.as_str()));
            let mut listed: Vec<_> =
                store.list(prefix.as_ref()).try_collect().await.map_err(|e| store_err(a, e))?;
            listed.sort_by(|x, y| x.location.cmp(&y.location));
            inputs.extend(
                listed
                    .into_iter()
                    .filter(|m| !m.location.as_ref().ends_with('/'))
                    .map(|m| Input::S3 { bucket: url.bucket.clone(), key: m.location.to_string() }),
            );
        } else {
            inputs.extend(expand_paths(&[PathBuf::from(a)])?.into_iter().map(Input::Local));
        }
    }
    Ok(inputs)
}

/// What a backfill did.
#[derive(Debug, Default)]
pub struct BackfillReport {
    pub report: IngestReport,
    pub already_ingested: usize,
    pub parquet_files: Vec<String>,
}

async fn read(input: &Input, stores: &S3Stores) -> Result<Vec<u8>> {
    match input {
        Input::Local(p) => tokio::fs::read(p).await.map_err(|e| Error::io(p, e)),
        Input::S3 { bucket, key } => {
            let store = stores.bucket(bucket)?;
            Ok(get_bytes(store.as_ref(), bucket, key).await?.to_vec())
        }
    }
}

/// Converts and writes `inputs` as `table` (a file decoding past `max_decoded` bytes is
/// refused and named); `on_file` is told each file's size.
pub async fn backfill(
    lake: &S3Lake,
    stores: &S3Stores,
    table: Table,
    inputs: &[Input],
    max_decoded: u64,
    on_file: &(dyn Fn(u64) + Sync),
) -> Result<BackfillReport> {
    let mut out = BackfillReport::default();
    let mut start = 0;
    while start < inputs.len() {
        let mut batch: Vec<Converted> = vec![];
        let mut bytes = 0;
        let mut tasks = vec![];
        while start < inputs.len() && bytes < BATCH_BYTES && tasks.len() < BATCH_FILES {
            let input = inputs[start].clone();
            let raw = read(&input, stores).await?;
            bytes += raw.len();
            on_file(raw.len() as u64);
            let name = input.name();
            tasks.push(tokio::task::spawn_blocking(move || {
                convert(table, Path::new(&name), &raw, max_decoded)
            }));
            start += 1;
        }
        for t in tasks {
            batch.push(t.await.map_err(|e| Error::backend("ingest convert", e))?);
        }
        let refs: Vec<&Converted> = batch.iter().collect();
        let outcomes = lake.write_batch(table, &refs).await?;
        for (c, outcome) in batch.iter().zip(outcomes) {
            let mut r = c.report.clone();
            match outcome {
                SourceOutcome::Written(files) => {
                    for f in files {
                        if !out.parquet_files.contains(&f) {
                            out.parquet_files.push(f);
                        }
                    }
                }
                SourceOutcome::AlreadyIngested(_) => {
                    out.already_ingested += 1;
                    r.written = 0;
                }
                SourceOutcome::Busy => {
                    return Err(Error::invalid(
                        c.source.clone(),
                        "another writer is ingesting this file right now; run the backfill again in a few minutes",
                    ));
                }
                SourceOutcome::Empty => {}
            }
            r.parquet_files.clear();
            absorb(&mut out.report, r);
        }
    }
    Ok(out)
}

fn absorb(into: &mut IngestReport, r: IngestReport) {
    into.files += r.files;
    into.read += r.read;
    into.written += r.written;
    into.skipped += r.skipped;
    into.issues.extend(r.issues);
    into.latest_ms = into.latest_ms.max(r.latest_ms);
}

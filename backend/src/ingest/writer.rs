//! Writes conformed records into the lake as Snappy Parquet, one file per source file and
//! day. The file name is derived from the source's content, so ingesting the same file again
//! replaces its files instead of adding duplicates.

use crate::error::{Error, Result};
use crate::local::Lake;
use crate::model::Table;
use arrow_json::ReaderBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Rows per record batch handed to the Parquet writer.
const BATCH_ROWS: usize = 8_192;

/// Conformed rows of one table, grouped by `dt`.
#[derive(Default)]
pub struct Partitions {
    by_day: BTreeMap<String, Vec<Value>>,
}

impl Partitions {
    pub fn push(&mut self, dt: String, row: Value) {
        self.by_day.entry(dt).or_default().push(row);
    }

    pub fn len(&self) -> usize {
        self.by_day.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_day.is_empty()
    }

    pub fn days(&self) -> impl Iterator<Item = &String> {
        self.by_day.keys()
    }

    /// The rows of each day, in day order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<Value>)> {
        self.by_day.iter()
    }

    /// The rows by day, for writers other than the local folder (the S3 lake).
    pub fn into_days(self) -> BTreeMap<String, Vec<Value>> {
        self.by_day
    }

    /// Writes each day to `<table>/dt=<day>/<name>.parquet` (atomically: temp file, rename),
    /// returning the files written.
    pub fn write(self, lake: &Lake, table: Table, name: &str) -> Result<Vec<PathBuf>> {
        let mut written = vec![];
        for (dt, rows) in self.by_day {
            let dir = lake.partition_dir(table, &dt);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let path = dir.join(format!("{name}.parquet"));
            let tmp = dir.join(format!(".{name}.parquet.tmp"));
            write_parquet(&tmp, table, &rows)?;
            std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

pub fn to_batches(table: Table, rows: &[Value]) -> Result<Vec<RecordBatch>> {
    let mut decoder = ReaderBuilder::new(table.file_schema()).with_batch_size(BATCH_ROWS).build_decoder()?;
    let mut batches = vec![];
    for chunk in rows.chunks(BATCH_ROWS) {
        decoder.serialize(chunk)?;
        if let Some(batch) = decoder.flush()? {
            batches.push(batch);
        }
    }
    Ok(batches)
}

/// The writer settings of every lake file: Snappy, row groups of up to 128 Ki rows, and the
/// given key-value metadata in the footer.
pub fn writer_properties(metadata: Vec<(String, String)>) -> WriterProperties {
    let kv = metadata
        .into_iter()
        .map(|(k, v)| datafusion::parquet::file::metadata::KeyValue::new(k, v))
        .collect::<Vec<_>>();
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(128 * 1024))
        .set_key_value_metadata((!kv.is_empty()).then_some(kv))
        .build()
}

/// One Parquet file of `table` in memory, from batches of its file schema.
pub fn parquet_bytes(
    table: Table,
    batches: &[RecordBatch],
    metadata: Vec<(String, String)>,
) -> Result<Vec<u8>> {
    let mut writer = ArrowWriter::try_new(Vec::new(), table.file_schema(), Some(writer_properties(metadata)))
        .map_err(|e| Error::backend("parquet", e))?;
    for batch in batches {
        writer.write(batch).map_err(|e| Error::backend("parquet", e))?;
    }
    writer.into_inner().map_err(|e| Error::backend("parquet", e))
}

fn write_parquet(path: &PathBuf, table: Table, rows: &[Value]) -> Result<()> {
    let file = crate::local::private::create_private(path).map_err(|e| Error::io(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(128 * 1024))
        .build();
    let mut writer = ArrowWriter::try_new(file, table.file_schema(), Some(props))
        .map_err(|e| Error::backend("parquet", e))?;
    for batch in to_batches(table, rows)? {
        writer.write(&batch).map_err(|e| Error::backend("parquet", e))?;
    }
    writer.close().map_err(|e| Error::backend("parquet", e))?;
    Ok(())
}

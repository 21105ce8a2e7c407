//! Writes conformed records into the lake as Snappy Parquet, one file per source file and
//! day, rows in event-time order. The file name is derived from the source's content, so
//! ingesting the same file again replaces its files instead of adding duplicates.

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

/// The rows as Arrow batches of the table's file schema, in event-time order (what the lake
/// declares to DataFusion, and what makes page statistics skip in a time range).
pub fn to_batches(table: Table, rows: &[Value]) -> Result<Vec<RecordBatch>> {
    let mut decoder = ReaderBuilder::new(table.file_schema()).with_batch_size(BATCH_ROWS).build_decoder()?;
    let ordered = time_order(table, rows);
    let mut batches = vec![];
    for chunk in ordered.chunks(BATCH_ROWS) {
        decoder.serialize(chunk)?;
        if let Some(batch) = decoder.flush()? {
            batches.push(batch);
        }
    }
    Ok(batches)
}

/// The rows by the table's time column as the engine orders its values: CloudTrail's ISO
/// text as text (so the order declared to DataFusion, [`crate::local::lake`], holds exactly),
/// the others by their event time (S3 access log times are not declared: as text they do not
/// sort by time).
fn time_order(table: Table, rows: &[Value]) -> Vec<&Value> {
    let mut ordered: Vec<&Value> = rows.iter().collect();
    match table {
        Table::CloudTrail => {
            fn text(row: &Value) -> Option<&str> {
                row.get(Table::CloudTrail.time_column()).and_then(Value::as_str)
            }
            ordered.sort_by(|a, b| text(a).cmp(&text(b)));
        }
        _ => ordered.sort_by_cached_key(|r| crate::ingest::event_time_ms(table, r)),
    }
    ordered
}

/// Rows per row group: a day of a large account's CloudTrail is a few row groups.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows per data page: the page index then narrows a time range (the rows are in time order)
/// to a few pages of a row group; the lake bench measured the choice.
const PAGE_ROWS: usize = 8 * 1024;

/// False-positive rate of the bloom filters, sized by the file's row count.
const BLOOM_FPP: f64 = 0.01;

/// Columns that hunts and rules filter by equality with many distinct values, where a bloom
/// filter lets a scan skip a row group its min/max statistics cannot (an address, a key id).
/// Event names have too few distinct values to gain: min/max and the dictionary serve them.
fn bloom_columns(table: Table) -> &'static [&'static [&'static str]] {
    match table {
        Table::CloudTrail => &[&["sourceipaddress"], &["useridentity", "accesskeyid"]],
        Table::VpcFlow => &[&["srcaddr"], &["dstaddr"]],
        Table::S3Access => &[&["remoteip"]],
        Table::Lambda | Table::Custom => &[],
    }
}

/// The writer settings of every lake file: Snappy, statistics and the page index per page,
/// bloom filters on [`bloom_columns`] sized for `rows`, and the given key-value metadata.
pub fn writer_properties(table: Table, rows: usize, metadata: Vec<(String, String)>) -> WriterProperties {
    use datafusion::parquet::file::properties::EnabledStatistics;
    use datafusion::parquet::schema::types::ColumnPath;
    let kv = metadata
        .into_iter()
        .map(|(k, v)| datafusion::parquet::file::metadata::KeyValue::new(k, v))
        .collect::<Vec<_>>();
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata((!kv.is_empty()).then_some(kv));
    let distinct = rows.clamp(1, ROW_GROUP_ROWS) as u64;
    for path in bloom_columns(table) {
        let column = ColumnPath::new(path.iter().map(|p| p.to_string()).collect());
        builder = builder
            .set_column_bloom_filter_enabled(column.clone(), true)
            .set_column_bloom_filter_fpp(column.clone(), BLOOM_FPP)
            .set_column_bloom_filter_max_ndv(column, distinct);
    }
    builder.build()
}

/// One Parquet file of `table` in memory, from batches of its file schema.
pub fn parquet_bytes(
    table: Table,
    batches: &[RecordBatch],
    metadata: Vec<(String, String)>,
) -> Result<Vec<u8>> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let props = writer_properties(table, rows, metadata);
    let mut writer = ArrowWriter::try_new(Vec::new(), table.file_schema(), Some(props))
        .map_err(|e| Error::backend("parquet", e))?;
    for batch in batches {
        writer.write(batch).map_err(|e| Error::backend("parquet", e))?;
    }
    writer.into_inner().map_err(|e| Error::backend("parquet", e))
}

fn write_parquet(path: &PathBuf, table: Table, rows: &[Value]) -> Result<()> {
    let file = crate::local::private::create_private(path).map_err(|e| Error::io(path, e))?;
    let props = writer_properties(table, rows.len(), vec![]);
    let mut writer = ArrowWriter::try_new(file, table.file_schema(), Some(props))
        .map_err(|e| Error::backend("parquet", e))?;
    for batch in to_batches(table, rows)? {
        writer.write(&batch).map_err(|e| Error::backend("parquet", e))?;
    }
    writer.close().map_err(|e| Error::backend("parquet", e))?;
    Ok(())
}

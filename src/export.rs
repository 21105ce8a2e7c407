//! Results written out for other tools: CSV with a header, a JSON array, or Parquet (zstd),
//! batch by batch, for the CLI's `-f csv|json` and the console's export alike.

use anyhow::{Context, Result, bail};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::ArrayFormatter;
use datafusion::parquet::arrow::ArrowWriter;
use mantissa_backend::text::neutralize;
use std::io::Write;

/// A result written as its batches come, so nothing holds it whole (an export of a month
/// streams from the engine into the file). `finish` closes the format and returns the output.
pub struct Writer<W: Write + Send> {
    format: Format<W>,
    pub rows: u64,
}

enum Format<W: Write + Send> {
    Csv {
        out: csv::Writer<W>,
        terminal: bool,
        header: bool,
    },
    Json(arrow_json::ArrayWriter<W>),
    /// The writer is made at the first batch, which carries the schema.
    Parquet {
        out: Option<W>,
        writer: Option<ArrowWriter<W>>,
    },
}

impl<W: Write + Send> Writer<W> {
    /// `csv`, `json` or `parquet`. On a terminal, CSV's log text is neutralised like everywhere
    /// else on screen; files get the values as they are (JSON escapes control characters).
    pub fn new(format: &str, out: W, terminal: bool) -> Result<Self> {
        let format = match format {
            "csv" => Format::Csv { out: csv::Writer::from_writer(out), terminal, header: false },
            "json" => Format::Json(arrow_json::ArrayWriter::new(out)),
            "parquet" => Format::Parquet { out: Some(out), writer: None },
            other => bail!("unknown export format `{other}`: csv, json or parquet"),
        };
        Ok(Writer { format, rows: 0 })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        match &mut self.format {
            Format::Csv { out, terminal, header } => {
                if !*header {
                    out.write_record(batch.schema().fields().iter().map(|f| f.name().as_str()))?;
                    *header = true;
                }
                write_csv_rows(out, batch, *terminal)?;
            }
            Format::Json(out) => out.write(batch)?,
            Format::Parquet { out, writer } => {
                if writer.is_none() {
                    use datafusion::parquet::basic::{Compression, ZstdLevel};
                    use datafusion::parquet::file::properties::WriterProperties;
                    let props = WriterProperties::builder()
                        .set_compression(Compression::ZSTD(ZstdLevel::default()))
                        .build();
                    let file = out.take().context("the Parquet writer was already made")?;
                    *writer = Some(ArrowWriter::try_new(file, batch.schema(), Some(props))?);
                }
                if batch.num_rows() > 0 {
                    writer.as_mut().context("no Parquet writer")?.write(batch)?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<W> {
        Ok(match self.format {
            Format::Csv { mut out, .. } => {
                out.flush()?;
                out.into_inner().map_err(|e| anyhow::anyhow!("cannot write the CSV: {}", e.error()))?
            }
            Format::Json(mut out) => {
                out.finish()?;
                let mut inner = out.into_inner();
                writeln!(inner)?;
                inner
            }
            Format::Parquet { writer, .. } => writer.context("no columns to write")?.into_inner()?,
        })
    }
}

fn write_csv_rows<W: Write>(out: &mut csv::Writer<W>, batch: &RecordBatch, terminal: bool) -> Result<()> {
    let opts = mantissa_backend::query::display_options().with_null("");
    let cols: Vec<ArrayFormatter> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
        .collect::<Result<_, _>>()?;
    for row in 0..batch.num_rows() {
        let cells = cols.iter().map(|c| {
            let v = c.value(row).to_string();
            if terminal { neutralize(&v).into_owned() } else { v }
        });
        out.write_record(cells)?;
    }
    Ok(())
}

/// Held batches in one format (a result with no rows still gets its CSV header).
pub fn write_all<W: Write + Send>(
    format: &str,
    out: W,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    terminal: bool,
) -> Result<W> {
    let mut w = Writer::new(format, out, terminal)?;
    w.write(&RecordBatch::new_empty(schema.clone()))?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// Runs `sql` on `engine` and writes every batch through `writer` as it comes; a write error
/// is returned as the writer's own (a closed pipe stays recognisable), an engine error as is.
pub async fn stream_into<W: Write + Send>(
    engine: &dyn mantissa_backend::ports::QueryEngine,
    sql: &str,
    writer: &mut Writer<W>,
) -> Result<mantissa_backend::model::QueryStatus> {
    let mut write_error = None;
    let mut sink = |batch: RecordBatch| {
        writer.write(&batch).map_err(|e| {
            let message = format!("{e:#}");
            write_error = Some(e);
            mantissa_backend::Error::backend("output", message)
        })
    };
    let streamed = engine.stream(sql, &mut sink).await;
    if let Some(e) = write_error {
        return Err(e);
    }
    Ok(streamed?)
}

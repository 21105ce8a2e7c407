//! Results written out for other tools: CSV with a header and a JSON array, for the CLI's
//! `-f csv|json` and the console's export alike.

use anyhow::Result;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::ArrayFormatter;
use mantissa_backend::text::neutralize;
use std::io::Write;

/// CSV with a header (a result with no rows too). Values are written as they are, except on a
/// terminal where log text is neutralised like everywhere else on screen.
pub fn csv(out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch], terminal: bool) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(schema.fields().iter().map(|f| f.name().as_str()))?;
    let opts = mantissa_backend::query::display_options().with_null("");
    for batch in batches {
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
            w.write_record(cells)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A JSON array of objects (control characters are escaped by JSON itself).
pub fn json(out: &mut dyn Write, batches: &[RecordBatch]) -> Result<()> {
    let mut w = arrow_json::ArrayWriter::new(out);
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    w.write_batches(&refs)?;
    w.finish()?;
    writeln!(w.into_inner())?;
    Ok(())
}

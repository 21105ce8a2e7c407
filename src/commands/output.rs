//! Rendering query results for a shell: a table for people, CSV and JSON for pipelines.
//! Text from logs is neutralised wherever it may land on a terminal.

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mantissa_backend::model::QueryStats;
use mantissa_backend::text::neutralize;
use std::io::Write;

fn formatters<'a>(batch: &'a RecordBatch, opts: &'a FormatOptions) -> Result<Vec<ArrayFormatter<'a>>> {
    Ok(batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), opts)).collect::<Result<_, _>>()?)
}

/// Rows a table shows: it is laid out whole (every cell a string, widths from all rows), so a
/// large result would take gigabytes; CSV and JSON write every row.
pub const TABLE_ROWS: usize = 10_000;

/// A table for people (header always, numbers right-aligned), and how many rows it left out.
pub fn table(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(String, usize)> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(schema.fields().iter().map(|f| neutralize(f.name()).into_owned()));
    for (i, f) in schema.fields().iter().enumerate() {
        if f.data_type().is_numeric()
            && let Some(column) = t.column_mut(i)
        {
            column.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    let opts = mantissa_backend::query::display_options();
    let (mut shown, mut total) = (0, 0);
    for batch in batches {
        total += batch.num_rows();
        let cols = formatters(batch, &opts)?;
        for row in 0..batch.num_rows().min(TABLE_ROWS - shown) {
            t.add_row(cols.iter().map(|c| neutralize(&c.value(row).to_string()).into_owned()));
            shown += 1;
        }
    }
    Ok((t.to_string(), total - shown))
}

pub fn stats_line(s: &QueryStats) -> String {
    let files = s.files_scanned.map(|f| format!(" · {f} files")).unwrap_or_default();
    format!(
        "{} rows · {}{files} · {} ms · est. Athena cost ${:.6}",
        s.rows,
        s.scanned(),
        s.elapsed_ms,
        s.estimated_cost_usd()
    )
}

/// A list of records (alerts, DLQ messages, integrations) in the chosen format. JSON keeps
/// the values' types; table and CSV show them as text.
pub fn records(
    out: &mut dyn Write,
    format: crate::cli::Format,
    columns: &[&str],
    rows: &[serde_json::Value],
) -> Result<()> {
    use crate::cli::Format;
    let cell = |row: &serde_json::Value, col: &str| match row.get(col) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let mut w = csv::Writer::from_writer(out);
            w.write_record(columns)?;
            for row in rows {
                w.write_record(columns.iter().map(|c| {
                    let v = cell(row, c);
                    if terminal { neutralize(&v).into_owned() } else { v }
                }))?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
            t.set_header(columns.iter().copied());
            for row in rows {
                t.add_row(columns.iter().map(|c| neutralize(&cell(row, c)).into_owned()));
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

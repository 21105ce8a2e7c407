//! `mantissa query "SQL"` (or `-` for stdin, `--file F`): results on stdout as a table, CSV or
//! JSON; statistics on stderr.

use super::{Workspace, output};
use crate::cli::Format;
use anyhow::{Context, Result, bail};
use mantissa_backend::query::run_to_end;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The SQL from the argument, stdin (`-`) or a file.
pub fn read_sql(sql: Option<String>, file: Option<PathBuf>) -> Result<String> {
    let text = match (sql, file) {
        (_, Some(path)) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the SQL in {}", path.display()))?,
        (Some(dash), None) if dash == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("cannot read the SQL from stdin")?;
            text
        }
        (Some(sql), None) => sql,
        (None, None) => bail!("no SQL: give it as an argument, `-` for stdin, or --file FILE"),
    };
    if text.trim().is_empty() {
        bail!("the SQL is empty");
    }
    Ok(text)
}

pub async fn run(ws: &Workspace, sql: &str, format: Format) -> Result<ExitCode> {
    let engine = ws.services().await?.engine;
    let tty = std::io::stdout().is_terminal();
    let stats = match format {
        Format::Table => {
            let outcome = run_to_end(engine.as_ref(), sql).await?;
            let (table, left_out) = output::table(&outcome.schema, &outcome.batches)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{table}")?;
            out.flush()?;
            let left_out = outcome.total_rows().saturating_sub(outcome.num_rows() as u64) + left_out as u64;
            if left_out > 0 {
                eprintln!(
                    "{left_out} more rows not shown: a table shows {} at most; -f csv or -f json writes every row",
                    output::TABLE_ROWS
                );
            }
            outcome.status.stats
        }
        // Every row, written as the engine makes it: nothing holds the whole result.
        Format::Csv | Format::Json => {
            let name = if matches!(format, Format::Csv) { "csv" } else { "json" };
            let mut writer =
                crate::export::Writer::new(name, std::io::BufWriter::new(std::io::stdout()), tty)?;
            // The writer's own error is kept, so a closed pipe (`| head`) ends quietly in main.
            let status = crate::export::stream_into(engine.as_ref(), sql, &mut writer).await?;
            writer.finish()?.flush()?;
            status.stats
        }
    };
    eprintln!("{}", output::stats_line(&stats));
    Ok(ExitCode::SUCCESS)
}

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
    let outcome = run_to_end(engine.as_ref(), sql).await?;
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = stdout.lock();
    match format {
        Format::Table => {
            let (table, left_out) = output::table(&outcome.schema, &outcome.batches)?;
            writeln!(out, "{table}")?;
            if left_out > 0 {
                eprintln!(
                    "{left_out} more rows not shown: a table shows {} at most; -f csv or -f json writes every row",
                    output::TABLE_ROWS
                );
            }
        }
        Format::Csv => crate::export::csv(&mut out, &outcome.schema, &outcome.batches, tty)?,
        Format::Json => crate::export::json(&mut out, &outcome.batches)?,
    }
    out.flush()?;
    eprintln!("{}", output::stats_line(&outcome.status.stats));
    Ok(ExitCode::SUCCESS)
}

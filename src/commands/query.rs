//! `mantissa query "SQL"`: results on stdout as a table, CSV or JSON; statistics on stderr.

use super::{Workspace, output};
use crate::cli::Format;
use anyhow::Result;
use mantissa_backend::query::run_to_end;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub async fn run(ws: &Workspace, sql: &str, format: Format) -> Result<ExitCode> {
    let engine = ws.services().await?.engine;
    let outcome = run_to_end(engine.as_ref(), sql).await?;
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let mut out = stdout.lock();
    match format {
        Format::Table => writeln!(out, "{}", output::table(&outcome.batches)?)?,
        Format::Csv => output::csv(&mut out, &outcome.batches, tty)?,
        Format::Json => output::json(&mut out, &outcome.batches)?,
    }
    out.flush()?;
    eprintln!("{}", output::stats_line(&outcome.status.stats));
    Ok(ExitCode::SUCCESS)
}

//! `mantissa demo`: writes the demo workspace's logs into the lake.

use super::Workspace;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use mantissa_backend::demo::{DemoOptions, DemoReport, write_demo};
use std::process::ExitCode;

pub async fn run(ws: &Workspace, days: u32, seed: u64, scale: f64, end: Option<&str>) -> Result<ExitCode> {
    let mut opts = DemoOptions { days, seed, scale, ..DemoOptions::default() };
    if let Some(end) = end {
        opts.end = DateTime::parse_from_rfc3339(end)
            .with_context(|| format!("--end `{end}`: expected RFC 3339, e.g. 2024-11-20T12:00:00Z"))?
            .with_timezone(&Utc);
    }
    let report = make(ws, opts).await?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

pub async fn make(ws: &Workspace, opts: DemoOptions) -> Result<DemoReport> {
    let lake = ws.lake.clone();
    Ok(tokio::task::spawn_blocking(move || write_demo(&lake, &opts)).await??)
}

pub fn print_report(report: &DemoReport) {
    for (table, n) in &report.events {
        eprintln!("{:<16} {n:>8} events", table.name());
    }
    eprintln!("demo workspace: {} events in {} Parquet files", report.total(), report.files);
}

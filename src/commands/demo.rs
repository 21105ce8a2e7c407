//! `mantissa demo`: writes the demo workspace's logs into the lake.

use super::Workspace;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use mantissa_backend::demo::{DemoOptions, DemoReport, workspace, write_demo_reporting};
use mantissa_backend::services::Services;
use std::process::ExitCode;

pub async fn run(ws: &Workspace, days: u32, seed: u64, scale: f64, end: Option<&str>) -> Result<ExitCode> {
    let mut opts = DemoOptions { days, seed, scale, ..DemoOptions::default() };
    if let Some(end) = end {
        opts.end = DateTime::parse_from_rfc3339(end)
            .with_context(|| format!("--end `{end}`: expected RFC 3339, e.g. 2024-11-20T12:00:00Z"))?
            .with_timezone(&Utc);
    }
    let report = make(ws, opts, |_| {}).await?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

/// Writes the demo logs and installs the demo rules and integrations for the user, saying
/// each step to `progress` as it ends.
pub async fn make(
    ws: &Workspace,
    opts: DemoOptions,
    mut progress: impl FnMut(String) + Send + 'static,
) -> Result<DemoReport> {
    let lake = ws.lake.clone();
    let report =
        tokio::task::spawn_blocking(move || write_demo_reporting(&lake, &opts, &mut progress)).await??;
    let s = Services::local(&ws.data_dir).await?;
    let (rules, integrations) = workspace::install(&s, &ws.user, &ws.data_dir).await?;
    eprintln!("installed {rules} demo rules and {integrations} integrations for `{}`", ws.user);
    Ok(report)
}

pub fn print_report(report: &DemoReport) {
    for (table, n) in &report.events {
        eprintln!("{:<16} {n:>8} events", table.name());
    }
    eprintln!("demo workspace: {} events in {} Parquet files", report.total(), report.files);
}

//! `mantissa ingest <source> PATH...`: loads logs into the lake and reports what was skipped.

use super::Workspace;
use anyhow::{Result, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use mantissa_backend::ingest::{expand_paths, ingest_paths_with};
use mantissa_backend::model::Table;
use mantissa_backend::text::neutralize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Issues printed in full; the rest are counted.
const SHOWN_ISSUES: usize = 50;

pub async fn run(ws: &Workspace, source: &str, paths: &[PathBuf], max_decoded: u64) -> Result<ExitCode> {
    let table: Table = source.parse().map_err(|e: String| anyhow!(e))?;
    let files = expand_paths(paths)?;
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = if std::io::stderr().is_terminal() && files.len() > 1 {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {eta}")
                .expect("valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let lake = ws.lake.clone();
    let progress = bar.clone();
    let report = tokio::task::spawn_blocking(move || {
        ingest_paths_with(&lake, table, &files, &|bytes| progress.inc(bytes), max_decoded)
    })
    .await??;
    bar.finish_and_clear();
    for issue in report.issues.iter().take(SHOWN_ISSUES) {
        eprintln!("{}", neutralize(&issue.to_string()));
    }
    if report.issues.len() > SHOWN_ISSUES {
        eprintln!("... and {} more issues", report.issues.len() - SHOWN_ISSUES);
    }
    eprintln!(
        "{}: {} files, {} records read, {} written, {} skipped",
        table.name(),
        report.files,
        report.read,
        report.written,
        report.skipped
    );
    // Partial success still counts: only a run that stored nothing is a failure.
    Ok(if report.written == 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

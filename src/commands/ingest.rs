//! `mantissa ingest <source> PATH...`: loads logs into the lake (the data dir's, or with
//! `--backend aws` the S3 lake) and reports what was skipped.

use super::Workspace;
use anyhow::{Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use mantissa_backend::aws::AwsSettings;
use mantissa_backend::aws::backfill;
use mantissa_backend::aws::lake::S3Lake;
use mantissa_backend::aws::s3::S3Stores;
use mantissa_backend::ingest::IngestReport;
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
    Ok(finish(table, &report, None))
}

/// Backfill into the S3 lake: local files or `s3://bucket/prefix`, in batches.
pub async fn run_aws(
    settings: &AwsSettings,
    source: &str,
    paths: &[PathBuf],
    max_decoded: u64,
) -> Result<ExitCode> {
    let table: Table = source.parse().map_err(|e: String| anyhow!(e))?;
    let conf = settings.sdk_config().await;
    let stores = S3Stores::new(settings, &conf)?;
    let buckets = settings.buckets(&conf).await?;
    let lake = S3Lake::new(buckets.lake.clone(), stores.bucket(&buckets.lake.bucket)?);
    let args: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let inputs = backfill::expand(&args, &stores).await?;
    if inputs.is_empty() {
        bail!("no files under {}: check the paths (or the S3 prefix)", args.join(" "));
    }
    let bar = if std::io::stderr().is_terminal() && inputs.len() > 1 {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    let progress = bar.clone();
    let done =
        backfill::backfill(&lake, &stores, table, &inputs, max_decoded, &|bytes| progress.inc(bytes)).await?;
    bar.finish_and_clear();
    eprintln!(
        "{}: {} Parquet files written to {}{}",
        table.name(),
        done.parquet_files.len(),
        lake.url(),
        if done.already_ingested > 0 {
            format!(" ({} files were already in the lake)", done.already_ingested)
        } else {
            String::new()
        }
    );
    Ok(finish(table, &done.report, Some(done.already_ingested)))
}

/// Prints the issues and counts; exit status 1 only when nothing new was stored and nothing
/// was already there.
fn finish(table: Table, report: &IngestReport, already: Option<usize>) -> ExitCode {
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
    if report.written == 0 && already.unwrap_or(0) == 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

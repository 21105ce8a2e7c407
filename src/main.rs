//! `mantissa`: the Mantissa Log console and its command-line tools.

use clap::Parser;
use mantissa::{cli, commands};
use std::process::ExitCode;

fn main() -> ExitCode {
    private_files();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        // `mantissa query ... | head`: the reader has what it wanted; end quietly, as Unix
        // tools do.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether writing to a closed pipe caused `e` (directly, or inside a CSV or Arrow error).
fn broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        let in_csv = cause.downcast_ref::<csv::Error>().and_then(|c| match c.kind() {
            csv::ErrorKind::Io(io) => Some(io.kind()),
            _ => None,
        });
        let in_arrow = cause.downcast_ref::<datafusion::arrow::error::ArrowError>().and_then(|a| match a {
            datafusion::arrow::error::ArrowError::IoError(_, io) => Some(io.kind()),
            _ => None,
        });
        [io, in_csv, in_arrow].contains(&Some(BrokenPipe))
    })
}

/// Files and folders this process creates (state.db and its journals, secrets, the lake's
/// Parquet, exports, history) are its user's only, on a shared SSH host too.
fn private_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; it runs before any thread.
    unsafe {
        libc::umask(0o077);
    }
}

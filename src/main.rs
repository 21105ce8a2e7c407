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
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
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

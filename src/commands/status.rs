//! `mantissa` with no subcommand: a short status of the workspace. On first start (an empty
//! lake) it makes the demo workspace first, as the console will.

use super::{Workspace, demo};
use anyhow::Result;
use mantissa_backend::demo::DemoOptions;
use std::process::ExitCode;

pub async fn run(ws: &Workspace) -> Result<ExitCode> {
    let empty = ws.lake.inventory().iter().all(|(_, files, _)| *files == 0);
    if empty {
        println!("First start: making the demo workspace in {} ...", ws.data_dir.display());
        let report = demo::make(ws, DemoOptions::default()).await?;
        demo::print_report(&report);
    }
    println!("Mantissa Log - data dir {}", ws.data_dir.display());
    for (table, files, bytes) in ws.lake.inventory() {
        println!("  {:<16} {files:>5} files {:>10.1} MB", table.name(), bytes as f64 / 1048576.0);
    }
    println!(
        "Try: mantissa query \"SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1 ORDER BY 2 DESC\""
    );
    Ok(ExitCode::SUCCESS)
}

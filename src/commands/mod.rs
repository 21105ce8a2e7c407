//! The subcommands. Each takes the parsed arguments and returns the process exit code.

mod demo;
mod ingest;
mod lists;
mod output;
mod query;
mod rules;
mod serve;
mod status;

use crate::cli::{AlertsCommand, Backend, Cli, Command, GlobalArgs};
use crate::config;
use anyhow::{Result, bail};
use mantissa_backend::local::Lake;
use std::path::PathBuf;
use std::process::ExitCode;

/// The workspace a command acts on.
pub struct Workspace {
    pub data_dir: PathBuf,
    pub lake: Lake,
    pub user: String,
}

impl Workspace {
    fn open(global: &GlobalArgs) -> Result<Self> {
        if global.backend == Backend::Aws {
            bail!(
                "the AWS backend (Athena, DynamoDB, SQS) is not available in this build yet; \
                 run with --backend local (the default)"
            );
        }
        let data_dir = config::data_dir(global.data_dir.as_ref())?;
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create the data dir {}: {e}", data_dir.display()))?;
        Ok(Workspace { lake: Lake::new(&data_dir), data_dir, user: config::user_id(global.user.as_ref()) })
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let ws = Workspace::open(&cli.global)?;
    match cli.command {
        None => status::run(&ws, &cli.global).await,
        Some(Command::Query { sql, format }) => query::run(&ws, &sql, format).await,
        Some(Command::Ingest { source, paths }) => ingest::run(&ws, &source, &paths).await,
        Some(Command::Serve) => serve::run(&ws).await,
        Some(Command::Worker { visibility_secs }) => serve::worker(&ws, visibility_secs).await,
        Some(Command::Alerts { command: AlertsCommand::List { format, limit, severity } }) => {
            let severity = severity
                .map(|s| s.parse())
                .transpose()
                .map_err(|e: String| anyhow::anyhow!("--severity: {e}"))?;
            lists::alerts(&ws, format, limit, severity).await
        }
        Some(Command::Dlq { command }) => lists::dlq(&ws, command).await,
        Some(Command::Integrations { command }) => lists::integrations(&ws, command).await,
        Some(Command::Rules { rules_dir, command }) => {
            let dir = rules_dir.unwrap_or_else(|| ws.data_dir.join("rules"));
            rules::run(&ws, &dir, &format!("{:?}", cli.global.backend).to_lowercase(), command).await
        }
        Some(Command::Demo { days, seed, scale, end }) => {
            demo::run(&ws, days, seed, scale, end.as_deref()).await
        }
    }
}

//! The subcommands. Each takes the parsed arguments and returns the process exit code.

mod assist;
mod cases;
mod demo;
mod ingest;
mod lists;
pub mod output;
mod query;
mod rules;
mod serve;
mod status;

use crate::cli::{AlertsCommand, AwsCommand, Backend, Cli, Command, GlobalArgs};
use crate::config;
use anyhow::{Result, bail};
use mantissa_backend::aws::AwsSettings;
use mantissa_backend::local::Lake;
use mantissa_backend::services::Services;
use std::path::PathBuf;
use std::process::ExitCode;

/// The workspace a command acts on: the local data dir (lake, rules folder, and on the
/// embedded backend the state), and the AWS environment when `--backend aws`.
pub struct Workspace {
    pub data_dir: PathBuf,
    pub lake: Lake,
    pub user: String,
    /// Set with `--backend aws`.
    pub aws: Option<AwsSettings>,
    /// `--lake s3://...`: the embedded engine over that S3 lake, and with it the AWS settings
    /// it is reached with (credentials, region, endpoint).
    pub s3_lake: Option<(String, AwsSettings)>,
}

/// On AWS the user is the caller's identity; `--user` is honoured only for the admin ARNs.
async fn aws_user(settings: &AwsSettings, requested: Option<&str>) -> Result<String> {
    use mantissa_backend::aws::identity;
    let caller = identity::caller(&settings.sdk_config().await).await?;
    Ok(identity::act_as(&caller, requested, &identity::admins_from_env())?)
}

impl Workspace {
    fn open(global: &GlobalArgs) -> Result<Self> {
        let data_dir = config::data_dir(global.data_dir.as_ref())?;
        // Owner-only (0700): the lake, state.db and secrets.json are nobody else's to read.
        mantissa_backend::local::private::secure_dir(&data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create the data dir {}: {e}", data_dir.display()))?;
        let settings = || {
            let mut a = AwsSettings::new(&global.env);
            a.profile = global.profile.clone();
            a.region = global.region.clone();
            a.endpoint_url = global.endpoint_url.clone();
            a.lake_url = global.lake.clone().or(a.lake_url);
            a
        };
        let aws = (global.backend == Backend::Aws).then(settings);
        let s3_lake = match &global.lake {
            Some(url) if url.starts_with("s3://") => Some((url.clone(), settings())),
            Some(other) => bail!(
                "--lake `{other}`: expected an S3 lake like s3://my-lake-bucket/prefix (a local lake \
                 lives in the data dir: use --data-dir)"
            ),
            None => None,
        };
        Ok(Workspace {
            lake: Lake::new(&data_dir),
            data_dir,
            user: config::user_id(global.user.as_ref()),
            aws,
            s3_lake,
        })
    }

    /// The services of the chosen backend; with `--lake s3://...`, queries and rules run on
    /// the embedded engine over that S3 lake.
    pub async fn services(&self) -> Result<Services> {
        let mut s = self.backend_services().await?;
        if let Some((url, settings)) = &self.s3_lake {
            let lake = mantissa_backend::aws::lake::S3Lake::open(settings, url).await?;
            let ctx = lake.session().await?;
            s.engine = std::sync::Arc::new(mantissa_backend::local::LocalQueryEngine::with_context(ctx));
        }
        Ok(s)
    }

    async fn backend_services(&self) -> Result<Services> {
        Ok(match &self.aws {
            Some(a) => Services::aws(a).await.map_err(|e| {
                anyhow::anyhow!(
                    "{e}\n(the AWS backend needs the environment `{}`'s resources: deploy \
                     backend/deploy/template.yaml or run `mantissa --backend aws aws bootstrap`)",
                    a.env
                )
            })?,
            None => Services::local(&self.data_dir).await?,
        })
    }

    /// Refuses commands that only make sense on the embedded backend.
    fn local_only(&self, what: &str, instead: &str) -> Result<()> {
        if self.aws.is_some() {
            bail!("`{what}` works on the embedded backend only (--backend local); on AWS {instead}");
        }
        Ok(())
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let mut ws = Workspace::open(&cli.global)?;
    if let Some(settings) = &ws.aws {
        ws.user = aws_user(settings, cli.global.user.as_deref()).await?;
    }
    match cli.command {
        None => status::run(&ws, &cli.global).await,
        Some(Command::Query { sql, file, format }) => {
            query::run(&ws, &query::read_sql(sql, file)?, format).await
        }
        Some(Command::Ingest { source, paths, max_decoded_size }) => match &ws.aws {
            Some(settings) => ingest::run_aws(settings, &source, &paths, max_decoded_size).await,
            None => ingest::run(&ws, &source, &paths, max_decoded_size).await,
        },
        Some(Command::Serve) => {
            ws.local_only("serve", "the detection, delivery and health Lambdas do this")?;
            serve::run(&ws).await
        }
        Some(Command::Worker { visibility_secs }) => serve::worker(&ws, visibility_secs).await,
        Some(Command::Alerts { command: AlertsCommand::List { format, limit, severity } }) => {
            let severity = severity
                .map(|s| s.parse())
                .transpose()
                .map_err(|e: String| anyhow::anyhow!("--severity: {e}"))?;
            lists::alerts(&ws, format, limit, severity).await
        }
        Some(Command::Cases { command }) => cases::run(&ws, command).await,
        Some(Command::Dlq { command }) => lists::dlq(&ws, command).await,
        Some(Command::Integrations { command }) => lists::integrations(&ws, command).await,
        Some(Command::Rules { rules_dir, command }) => {
            let dir = rules_dir.unwrap_or_else(|| ws.data_dir.join("rules"));
            rules::run(&ws, &dir, &format!("{:?}", cli.global.backend).to_lowercase(), command).await
        }
        Some(Command::Demo { days, seed, scale, end }) => {
            ws.local_only("demo", "load logs into the S3 lake instead")?;
            demo::run(&ws, days, seed, scale, end.as_deref()).await
        }
        Some(Command::Settings { command }) => assist::settings(&ws, command).await,
        Some(Command::Ask { question }) => assist::ask(&ws, &question.join(" ")).await,
        Some(Command::Aws { command: AwsCommand::Bootstrap }) => {
            let Some(settings) = &ws.aws else { bail!("`aws bootstrap` needs --backend aws") };
            let mut settings = settings.clone();
            settings.lake = mantissa_backend::aws::LakeSettings::from_env()?;
            for line in mantissa_backend::aws::bootstrap::bootstrap(&settings).await? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

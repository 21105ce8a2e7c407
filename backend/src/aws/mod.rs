//! The AWS backend: the same ports as `local`, on Athena, DynamoDB, SQS FIFO, Secrets Manager
//! and EventBridge, built from the standard credential chain (`--profile`, `--region`, env
//! vars) and an optional endpoint URL for emulators. `bootstrap` creates what the template would.

pub mod athena;
pub mod backfill;
pub mod bootstrap;
pub mod bootstrap_lake;
pub mod catalog;
pub mod dynamo;
pub mod emf;
pub mod events;
pub mod identity;
pub mod lake;
pub mod names;
pub mod s3;
pub mod secrets;
pub mod sqs;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::services::Services;
use athena::{AthenaEngine, AthenaSettings};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::sync::Arc;

/// Where and how to reach one environment's resources.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `dev`, `staging`, `prod`: part of every resource name.
    pub env: String,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// An emulator (moto) or a VPC endpoint; `AWS_ENDPOINT_URL` also works through the SDK.
    pub endpoint_url: Option<String>,
    pub athena: AthenaSettings,
    /// Default: `mantissa-log-detection-<env>` in the queue's account and region.
    pub detection_lambda_arn: Option<String>,
    /// Hosts deliveries may reach over plain http or on private addresses.
    pub allowed_hosts: Vec<String>,
    /// A fixed access key pair (for emulators); None uses the credential chain.
    pub static_keys: Option<(String, String)>,
    /// The S3 lake, `s3://bucket[/prefix]` (`MANTISSA_LAKE_URL`); default
    /// `s3://mantissa-log-lake-<account>-<region>-<env>`.
    pub lake_url: Option<String>,
    /// Where AWS writes raw logs (`MANTISSA_RAW_BUCKET`); default
    /// `mantissa-log-raw-<account>-<region>-<env>`.
    pub raw_bucket: Option<String>,
    pub lake: LakeSettings,
}

/// The lake bucket's lifecycle and the first day partition projection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeSettings {
    /// `yyyy-MM-dd`: the start of `projection.dt.range` (`MANTISSA_LAKE_START`).
    pub start_date: String,
    /// Days in S3 Standard before Glacier Instant Retrieval (`MANTISSA_LAKE_GLACIER_IR_DAYS`).
    pub glacier_ir_days: i32,
    /// Days before Deep Archive (`MANTISSA_LAKE_DEEP_ARCHIVE_DAYS`).
    pub deep_archive_days: i32,
    /// Days before objects expire (`MANTISSA_LAKE_EXPIRE_DAYS`).
    pub expire_days: i32,
    /// Days raw log files are kept once converted (`MANTISSA_RAW_RETENTION_DAYS`).
    pub raw_retention_days: i32,
}

impl Default for LakeSettings {
    fn default() -> Self {
        LakeSettings {
            start_date: "2024-01-01".into(),
            glacier_ir_days: 90,
            deep_archive_days: 365,
            expire_days: 2555,
            raw_retention_days: 90,
        }
    }
}

impl LakeSettings {
    /// Defaults overridden by `MANTISSA_LAKE_*` variables; a bad value names the variable.
    pub fn from_env() -> Result<Self> {
        let mut s = LakeSettings::default();
        let days = |key: &str, into: &mut i32| -> Result<()> {
            if let Some(v) = std::env::var(key).ok().filter(|v| !v.is_empty()) {
                *into = v.parse().ok().filter(|d| (1..=36_500).contains(d)).ok_or_else(|| {
                    Error::invalid(key, format!("`{v}` is not a number of days between 1 and 36500"))
                })?;
            }
            Ok(())
        };
        days("MANTISSA_LAKE_GLACIER_IR_DAYS", &mut s.glacier_ir_days)?;
        days("MANTISSA_LAKE_DEEP_ARCHIVE_DAYS", &mut s.deep_archive_days)?;
        days("MANTISSA_LAKE_EXPIRE_DAYS", &mut s.expire_days)?;
        days("MANTISSA_RAW_RETENTION_DAYS", &mut s.raw_retention_days)?;
        if let Some(v) = std::env::var("MANTISSA_LAKE_START").ok().filter(|v| !v.is_empty()) {
            s.start_date = v;
        }
        s.check()?;
        Ok(s)
    }

    pub fn check(&self) -> Result<()> {
        if chrono::NaiveDate::parse_from_str(&self.start_date, "%Y-%m-%d").is_err() {
            return Err(Error::invalid(
                "MANTISSA_LAKE_START",
                format!("`{}` is not a date like 2024-01-01", self.start_date),
            ));
        }
        // S3 moves objects down the tiers only; Deep Archive wants 90 days after Glacier IR.
        if !(self.glacier_ir_days + 90 <= self.deep_archive_days
            && self.deep_archive_days + 180 <= self.expire_days)
        {
            return Err(Error::invalid(
                "lake lifecycle",
                format!(
                    "Glacier IR at {} d, Deep Archive at {} d, expiry at {} d: each tier needs the next at least \
                     90 (Deep Archive) and 180 (expiry) days later, e.g. 90, 365, 2555",
                    self.glacier_ir_days, self.deep_archive_days, self.expire_days
                ),
            ));
        }
        Ok(())
    }
}

impl AwsSettings {
    /// Settings for `env`, with the Athena names of the deploy template; `MANTISSA_ATHENA_*`
    /// and `MANTISSA_DETECTION_LAMBDA_ARN` override them.
    pub fn new(env: &str) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        AwsSettings {
            env: env.to_string(),
            profile: None,
            region: None,
            endpoint_url: None,
            athena: AthenaSettings {
                database: var("MANTISSA_ATHENA_DATABASE").unwrap_or_else(|| "mantissa_log".into()),
                workgroup: var("MANTISSA_ATHENA_WORKGROUP").unwrap_or_else(|| format!("mantissa-log-{env}")),
                output_location: var("MANTISSA_ATHENA_OUTPUT"),
            },
            detection_lambda_arn: var("MANTISSA_DETECTION_LAMBDA_ARN"),
            allowed_hosts: var("MANTISSA_ALLOWED_HOSTS")
                .map(|v| v.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect())
                .unwrap_or_default(),
            static_keys: None,
            lake_url: var("MANTISSA_LAKE_URL"),
            raw_bucket: var("MANTISSA_RAW_BUCKET"),
            lake: LakeSettings::default(),
        }
    }

    /// The caller's account id (STS GetCallerIdentity).
    pub async fn account_id(&self, conf: &SdkConfig) -> Result<String> {
        Ok(identity::arn_and_account(conf).await?.1)
    }

    /// The lake, raw bucket and Athena result location, from the settings or the default
    /// names of the account and region.
    pub async fn buckets(&self, conf: &SdkConfig) -> Result<Buckets> {
        let region = conf.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        let needs_account =
            self.lake_url.is_none() || self.raw_bucket.is_none() || self.athena.output_location.is_none();
        let account = if needs_account { self.account_id(conf).await? } else { String::new() };
        let lake = match &self.lake_url {
            Some(u) => s3::S3Url::parse(u)?,
            None => s3::S3Url::parse(&format!("s3://{}", names::lake_bucket(&account, &region, &self.env)))?,
        };
        let raw = self.raw_bucket.clone().unwrap_or_else(|| names::raw_bucket(&account, &region, &self.env));
        let results = match &self.athena.output_location {
            Some(u) => s3::S3Url::parse(u)?,
            None => s3::S3Url::parse(&format!(
                "s3://{}/results/",
                names::results_bucket(&account, &region, &self.env)
            ))?,
        };
        Ok(Buckets { lake, raw, results })
    }

    /// The SDK configuration: credential chain, profile, region, endpoint.
    pub async fn sdk_config(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &self.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &self.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &self.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        if let Some((id, secret)) = &self.static_keys {
            loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new(
                id, secret, None, None, "static",
            ));
        }
        loader.load().await
    }
}

/// Where the environment's data lives on S3.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub lake: s3::S3Url,
    pub raw: String,
    /// The Athena result location (`s3://bucket/prefix/`).
    pub results: s3::S3Url,
}

/// An SDK error with its cause chain (service code and message), never the request (which
/// may carry a secret). Every `aws_sdk_*::error::SdkError` is the same smithy type.
pub(crate) fn sdk_err<E, R>(context: &'static str, e: aws_sdk_sqs::error::SdkError<E, R>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Error::backend(context, aws_sdk_sqs::error::DisplayErrorContext(e))
}

/// The account id in an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`).
fn account_of(queue_url: &str) -> Option<&str> {
    queue_url.rsplit('/').nth(1).filter(|a| !a.is_empty())
}

impl Services {
    /// The AWS backend for `settings.env`; the resources must exist (deploy template or
    /// `mantissa aws bootstrap`).
    pub async fn aws(settings: &AwsSettings) -> Result<Self> {
        Self::aws_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn aws_with_clock(settings: &AwsSettings, clock: Arc<dyn Clock>) -> Result<Self> {
        let conf = settings.sdk_config().await;
        let region = conf.region().map(|r| r.to_string()).ok_or_else(|| {
            Error::invalid(
                "--region",
                "no AWS region: pass --region, set AWS_REGION, or set one in the profile",
            )
        })?;
        let queue = sqs::SqsQueue::open(aws_sdk_sqs::Client::new(&conf), &settings.env).await?;
        let lambda_arn = settings.detection_lambda_arn.clone().unwrap_or_else(|| {
            let account = account_of(queue.queue_url()).unwrap_or("000000000000");
            format!("arn:aws:lambda:{region}:{account}:function:mantissa-log-detection-{}", settings.env)
        });
        let store = Arc::new(
            dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&conf), &settings.env)
                .with_clock(clock.clone()),
        );
        Ok(Services {
            engine: Arc::new(
                AthenaEngine::new(aws_sdk_athena::Client::new(&conf), settings.athena.clone())
                    .with_glue(aws_sdk_glue::Client::new(&conf)),
            ),
            rules: store.clone(),
            alerts: store.clone(),
            integrations: store.clone(),
            dedup: store.clone(),
            settings: store.clone(),
            activity: store.clone(),
            cases: store.clone(),
            queue: Arc::new(queue),
            secrets: Arc::new(secrets::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&conf))),
            scheduler: Arc::new(events::EventBridgeScheduler::new(
                aws_sdk_eventbridge::Client::new(&conf),
                &settings.env,
                &lambda_arn,
                store,
            )),
            counters: Arc::new(emf::NoCounters),
            clock,
            allowed_hosts: settings.allowed_hosts.clone(),
            enqueued: Arc::new(tokio::sync::Notify::new()),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn account_comes_from_the_queue_url() {
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/mantissa-log-alerts-dev.fifo";
        assert_eq!(super::account_of(url), Some("123456789012"));
        assert_eq!(super::account_of("http://127.0.0.1:5000/123456789012/q.fifo"), Some("123456789012"));
    }
}

//! The AWS backend: the same ports as `local`, on Athena, DynamoDB, SQS FIFO, Secrets Manager
//! and EventBridge, built from the standard credential chain (`--profile`, `--region`, env
//! vars) and an optional endpoint URL for emulators. `bootstrap` creates what the template would.

pub mod athena;
pub mod bootstrap;
pub mod dynamo;
pub mod events;
pub mod names;
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
        }
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
            engine: Arc::new(AthenaEngine::new(aws_sdk_athena::Client::new(&conf), settings.athena.clone())),
            rules: store.clone(),
            alerts: store.clone(),
            integrations: store.clone(),
            dedup: store.clone(),
            settings: store,
            queue: Arc::new(queue),
            secrets: Arc::new(secrets::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&conf))),
            scheduler: Arc::new(events::EventBridgeScheduler::new(
                aws_sdk_eventbridge::Client::new(&conf),
                &settings.env,
                &lambda_arn,
            )),
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

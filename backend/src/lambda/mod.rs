//! The Lambda handlers: detection (EventBridge -> run rule -> route -> SQS), delivery (SQS,
//! partial batch failures), the health monitor (scheduled) and ingest (S3 notifications via
//! SQS -> Parquet in the S3 lake). Handlers take the services and
//! the event, so tests call them with real event JSON; `bin/` wraps them in `lambda_runtime`.

pub mod delivery;
pub mod detection;
pub mod health;
pub mod ingest;

use crate::aws::AwsSettings;
use crate::error::Result;
use crate::services::Services;

/// The AWS services for the environment named by `MANTISSA_ENV` (set by the template).
pub async fn services_from_env() -> Result<Services> {
    let env = std::env::var("MANTISSA_ENV").unwrap_or_else(|_| "dev".into());
    Services::aws(&AwsSettings::new(&env)).await
}

/// JSON log lines for CloudWatch; `RUST_LOG` picks the level (default info). Events are
/// logged by id and count, never by body, so secrets and log text stay out of the logs.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).without_time().init();
}

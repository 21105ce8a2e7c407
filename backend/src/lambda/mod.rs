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
/// Their counters go out as CloudWatch EMF lines (namespace `MANTISSA_METRICS_NAMESPACE`).
pub async fn services_from_env() -> Result<Services> {
    let env = std::env::var("MANTISSA_ENV").unwrap_or_else(|_| "dev".into());
    let mut s = Services::aws(&AwsSettings::new(&env)).await?;
    let namespace = std::env::var("MANTISSA_METRICS_NAMESPACE")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| crate::aws::emf::DEFAULT_NAMESPACE.into());
    s.counters = std::sync::Arc::new(crate::aws::emf::EmfCounters::stdout(&namespace, &env));
    Ok(s)
}

/// JSON log lines for CloudWatch; `RUST_LOG` picks the level (default info). Events are
/// logged by id and count, never by body, so secrets and log text stay out of the logs.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The invocation's span (request and X-Ray trace ids) is on every line.
    tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(true).without_time().init();
}

/// One invocation's span: its request id and X-Ray trace id on every log line inside it.
pub fn invocation_span(ctx: &lambda_runtime::Context) -> tracing::Span {
    tracing::info_span!(
        "invocation",
        request_id = %ctx.request_id,
        xray_trace_id = %ctx.xray_trace_id.as_deref().unwrap_or("none"),
    )
}

//! Lambda entry point: the scheduled health monitor.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mantissa_backend::lambda;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let s = lambda::services_from_env().await?;
    let s = &s;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let span = lambda::invocation_span(&event.context);
        async move { Ok::<_, Error>(lambda::health::handle(s).await?) }.instrument(span)
    }))
    .await
}

//! Lambda entry point: detection (EventBridge scheduled rule -> run rule -> route -> SQS).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mantissa_backend::lambda;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let s = lambda::services_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let s = s.clone();
        let span = lambda::invocation_span(&event.context);
        async move { Ok::<_, Error>(lambda::detection::handle(&s, event.payload).await?) }.instrument(span)
    }))
    .await
}

//! Lambda entry point: the scheduled health monitor.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use mantissa_backend::lambda;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let s = lambda::services_from_env().await?;
    let s = &s;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(lambda::health::handle(s).await?)
    }))
    .await
}

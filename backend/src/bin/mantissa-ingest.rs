//! Lambda entry point: ingest (SQS of S3 ObjectCreated notifications -> Parquet in the lake,
//! partial batch responses).

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mantissa_backend::lambda;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let ingest = lambda::ingest::from_env().await?;
    let ingest = &ingest;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let span = lambda::invocation_span(&event.context);
        async move { Ok::<_, Error>(lambda::ingest::handle(ingest, event.payload).await.0) }.instrument(span)
    }))
    .await
}

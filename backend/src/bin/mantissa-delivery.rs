//! Lambda entry point: delivery (SQS trigger, partial batch responses).

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use mantissa_backend::deliver::worker::DeliveryWorker;
use mantissa_backend::lambda;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_tracing();
    let worker = DeliveryWorker::new(lambda::services_from_env().await?);
    let worker = &worker;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let span = lambda::invocation_span(&event.context);
        async move { Ok::<_, Error>(lambda::delivery::handle(worker, event.payload).await) }.instrument(span)
    }))
    .await
}

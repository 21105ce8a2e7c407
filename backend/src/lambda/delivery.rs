//! The delivery Lambda: an SQS event (batch size 1 in the template) handed to the delivery
//! worker; any message not delivered or suppressed is reported in `batchItemFailures`, so SQS
//! keeps it (hidden for the backoff the worker chose) and only it is retried.

use crate::deliver::worker::{DeliveryWorker, Verdict};
use crate::ports::ReceivedMessage;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

fn received(m: &SqsMessage) -> ReceivedMessage {
    ReceivedMessage {
        message_id: m.message_id.clone().unwrap_or_default(),
        receipt: m.receipt_handle.clone().unwrap_or_default(),
        group_id: m.attributes.get("MessageGroupId").cloned().unwrap_or_default(),
        body: m.body.clone().unwrap_or_default(),
        receive_count: m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1),
    }
}

fn failure(id: &str) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id.to_string();
    f
}

pub async fn handle(worker: &DeliveryWorker, event: SqsEvent) -> SqsBatchResponse {
    let messages: Vec<ReceivedMessage> = event.records.iter().map(received).collect();
    let mut response = SqsBatchResponse::default();
    match worker.process_batch(messages.clone()).await {
        Ok(verdicts) => {
            for (m, v) in messages.iter().zip(verdicts) {
                let done = matches!(v, Verdict::Delivered | Verdict::Suppressed);
                tracing::info!(message_id = %m.message_id, receive_count = m.receive_count, verdict = ?v, "delivery");
                if !done {
                    response.batch_item_failures.push(failure(&m.message_id));
                }
            }
        }
        Err(e) => {
            // A store failure: nothing was decided, so every message is retried.
            tracing::error!(error = %e, messages = messages.len(), "delivery batch failed");
            response.batch_item_failures.extend(messages.iter().map(|m| failure(&m.message_id)));
        }
    }
    response
}

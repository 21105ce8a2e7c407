//! The alert queue on SQS FIFO: `mantissa-log-alerts-<env>.fifo` (content-based dedup, groups
//! `{user_id}:{integration_id}`) and its DLQ, where SQS's RedrivePolicy (maxReceiveCount 3)
//! moves a message after its third receive. DLQ inspection hands messages back at once.

use super::sdk_err;
use crate::error::{Error, Result};
use crate::ports::{AlertQueue, DeadLetter, QueueDepth, ReceivedMessage, message_owner};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
    QueueAttributeName,
};
use chrono::{DateTime, Utc};

/// SQS hands out at most 10 messages per ReceiveMessage.
const RECEIVE_MAX: usize = 10;
/// How long a DLQ walk hides what it has seen, so the next receive shows the next messages.
const WALK_VISIBILITY_SECS: i32 = 30;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dlq_url: String,
}

/// A DLQ message seen by a walk, with the receipt that can delete it.
struct Seen {
    letter: DeadLetter,
    receipt: String,
}

impl SqsQueue {
    /// Looks up both queues' URLs by name.
    pub async fn open(client: Client, env: &str) -> Result<Self> {
        let url = |name: String| {
            let client = client.clone();
            async move {
                client
                    .get_queue_url()
                    .queue_name(&name)
                    .send()
                    .await
                    .map_err(|e| sdk_err("sqs GetQueueUrl", e))?
                    .queue_url
                    .ok_or_else(|| Error::backend("sqs GetQueueUrl", format!("no URL for {name}")))
            }
        };
        let queue_url = url(super::names::alert_queue(env)).await?;
        let dlq_url = url(super::names::dead_letter_queue(env)).await?;
        Ok(SqsQueue { client, queue_url, dlq_url })
    }

    /// Receives every DLQ message it can see, then makes them all visible again: the DLQ is
    /// inspected, not consumed. (A FIFO group shows its messages in order, at most 10 per
    /// receive; a walk sees every group's messages as long as a group holds <= 10.)
    async fn walk_dead_letters(&self) -> Result<Vec<Seen>> {
        let mut seen: Vec<Seen> = vec![];
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(RECEIVE_MAX as i32)
                .visibility_timeout(WALK_VISIBILITY_SECS)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| sdk_err("sqs ReceiveMessage", e))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let before = seen.len();
            for m in messages {
                let id = m.message_id.clone().unwrap_or_default();
                if seen.iter().any(|s| s.letter.message_id == id) {
                    continue;
                }
                let attr =
                    |k: MessageSystemAttributeName| m.attributes.as_ref().and_then(|a| a.get(&k)).cloned();
                let sent_ms: i64 =
                    attr(MessageSystemAttributeName::SentTimestamp).and_then(|v| v.parse().ok()).unwrap_or(0);
                let last_error = m
                    .message_attributes
                    .as_ref()
                    .and_then(|a| a.get("last_error"))
                    .and_then(|v| v.string_value.clone());
                seen.push(Seen {
                    receipt: m.receipt_handle.clone().unwrap_or_default(),
                    letter: DeadLetter {
                        message_id: id,
                        group_id: attr(MessageSystemAttributeName::MessageGroupId).unwrap_or_default(),
                        body: m.body.clone().unwrap_or_default(),
                        // The DLQ's own receives (this walk) are not delivery attempts.
                        receive_count: receive_count(&m).min(crate::local::queue::MAX_RECEIVES),
                        last_error,
                        sent_at: DateTime::<Utc>::from_timestamp_millis(sent_ms).unwrap_or_default(),
                    },
                });
            }
            if seen.len() == before {
                break;
            }
        }
        self.release(&seen).await?;
        Ok(seen)
    }

    /// Makes walked messages visible again (visibility timeout 0).
    async fn release(&self, seen: &[Seen]) -> Result<()> {
        for chunk in seen.chunks(RECEIVE_MAX) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&s.receipt)
                        .visibility_timeout(0)
                        .build()
                        .map_err(|e| Error::backend("sqs ChangeMessageVisibilityBatch", e))
                })
                .collect::<Result<Vec<_>>>()?;
            self.client
                .change_message_visibility_batch()
                .queue_url(&self.dlq_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_err("sqs ChangeMessageVisibilityBatch", e))?;
        }
        Ok(())
    }

    async fn count(&self, url: &str) -> Result<u64> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| sdk_err("sqs GetQueueAttributes", e))?;
        let attrs = out.attributes.unwrap_or_default();
        let get = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        Ok(get(QueueAttributeName::ApproximateNumberOfMessages)
            + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}

/// SQS takes at most 128 characters of deduplication id; a longer one (long integration ids)
/// is replaced by its SHA-256, which keeps distinct ids distinct.
fn fit_dedup_id(id: &str) -> String {
    use sha2::{Digest, Sha256};
    if id.len() <= 128 {
        return id.to_string();
    }
    Sha256::digest(id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl AlertQueue for SqsQueue {
    async fn send(&self, group_id: &str, dedup_id: &str, body: &str) -> Result<String> {
        let out = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(group_id)
            .message_deduplication_id(fit_dedup_id(dedup_id))
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_err("sqs SendMessage", e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn receive(&self, max: usize, visibility_secs: u64) -> Result<Vec<ReceivedMessage>> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, RECEIVE_MAX) as i32)
            .visibility_timeout(visibility_secs.min(43_200) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| sdk_err("sqs ReceiveMessage", e))?;
        Ok(out.messages.unwrap_or_default().iter().map(received).collect())
    }

    async fn delete(&self, receipt: &str) -> Result<()> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| sdk_err("sqs DeleteMessage", e))?;
        Ok(())
    }

    async fn delete_batch(&self, receipts: &[String]) -> Result<()> {
        for chunk in receipts.chunks(RECEIVE_MAX) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                        .map_err(|e| Error::backend("sqs DeleteMessageBatch", e))
                })
                .collect::<Result<Vec<_>>>()?;
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_err("sqs DeleteMessageBatch", e))?;
            if let Some(f) = out.failed.first() {
                return Err(Error::backend(
                    "sqs DeleteMessageBatch",
                    f.message.clone().unwrap_or_else(|| f.code.clone()),
                ));
            }
        }
        Ok(())
    }

    /// SQS keeps no per-message note, so the error lives in the attempt recorded in alert
    /// history; here the message just stays hidden for `secs`.
    async fn retry_later(&self, receipt: &str, secs: u64, _error: &str) -> Result<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs.min(43_200) as i32)
            .send()
            .await
            .map_err(|e| sdk_err("sqs ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn dead_letters(&self, user_id: &str) -> Result<Vec<DeadLetter>> {
        let mut letters: Vec<DeadLetter> =
            self.walk_own_dead_letters(user_id).await?.into_iter().map(|s| s.letter).collect();
        letters.sort_by_key(|l| l.sent_at);
        Ok(letters)
    }

    /// Sends each chosen message back to the main queue in its group (with a fresh
    /// deduplication id, since content-based dedup would drop a resend within 5 minutes),
    /// then deletes it from the DLQ: a crash in between leaves a copy, never nothing.
    async fn redrive(&self, user_id: &str, message_ids: &[String]) -> Result<usize> {
        let seen = self.walk_own_dead_letters(user_id).await?;
        let mut moved = 0;
        for s in seen.iter().filter(|s| message_ids.contains(&s.letter.message_id)) {
            self.send(&s.letter.group_id, &format!("redrive-{}", uuid::Uuid::now_v7()), &s.letter.body)
                .await?;
            // The walk released its receipt; take the message again to delete it.
            self.delete_from_dlq(user_id, &s.letter.message_id).await?;
            moved += 1;
        }
        Ok(moved)
    }

    async fn delete_dead_letter(&self, user_id: &str, message_id: &str) -> Result<()> {
        if self.delete_from_dlq(user_id, message_id).await? {
            Ok(())
        } else {
            Err(Error::NotFound { kind: "dead letter", id: message_id.into() })
        }
    }

    async fn purge_dead_letters(&self, user_id: &str) -> Result<usize> {
        let seen = self.walk_own_dead_letters(user_id).await?;
        for s in &seen {
            self.delete_from_dlq(user_id, &s.letter.message_id).await?;
        }
        Ok(seen.len())
    }

    async fn depth(&self) -> Result<QueueDepth> {
        Ok(QueueDepth { queued: self.count(&self.queue_url).await?, dead: self.count(&self.dlq_url).await? })
    }
}

impl SqsQueue {
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// The walk's letters whose body names `user_id` exactly.
    async fn walk_own_dead_letters(&self, user_id: &str) -> Result<Vec<Seen>> {
        let mut seen = self.walk_dead_letters().await?;
        seen.retain(|s| message_owner(&s.letter.body).as_deref() == Some(user_id));
        Ok(seen)
    }

    /// Receives from the DLQ until `message_id` turns up, deletes it if its body names
    /// `user_id`, and releases the rest.
    async fn delete_from_dlq(&self, user_id: &str, message_id: &str) -> Result<bool> {
        let mut held: Vec<Seen> = vec![];
        let mut found = false;
        loop {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(RECEIVE_MAX as i32)
                .visibility_timeout(WALK_VISIBILITY_SECS)
                .send()
                .await
                .map_err(|e| sdk_err("sqs ReceiveMessage", e))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let mut new = false;
            for m in messages {
                let receipt = m.receipt_handle.clone().unwrap_or_default();
                let own = m.body.as_deref().and_then(message_owner).as_deref() == Some(user_id);
                if m.message_id.as_deref() == Some(message_id) && own && !found {
                    self.client
                        .delete_message()
                        .queue_url(&self.dlq_url)
                        .receipt_handle(&receipt)
                        .send()
                        .await
                        .map_err(|e| sdk_err("sqs DeleteMessage", e))?;
                    found = true;
                } else if !held.iter().any(|h| Some(h.letter.message_id.as_str()) == m.message_id.as_deref())
                {
                    new = true;
                    held.push(Seen {
                        receipt,
                        letter: DeadLetter {
                            message_id: m.message_id.clone().unwrap_or_default(),
                            group_id: String::new(),
                            body: String::new(),
                            receive_count: 0,
                            last_error: None,
                            sent_at: DateTime::<Utc>::default(),
                        },
                    });
                }
            }
            if found || !new {
                break;
            }
        }
        self.release(&held).await?;
        Ok(found)
    }
}

fn receive_count(m: &aws_sdk_sqs::types::Message) -> u32 {
    m.attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn received(m: &aws_sdk_sqs::types::Message) -> ReceivedMessage {
    ReceivedMessage {
        message_id: m.message_id.clone().unwrap_or_default(),
        receipt: m.receipt_handle.clone().unwrap_or_default(),
        group_id: m
            .attributes
            .as_ref()
            .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
            .cloned()
            .unwrap_or_default(),
        body: m.body.clone().unwrap_or_default(),
        receive_count: receive_count(m),
    }
}

#[cfg(test)]
mod tests {
    use super::fit_dedup_id;

    #[test]
    fn long_dedup_ids_are_hashed_to_fit_and_stay_distinct() {
        assert_eq!(fit_dedup_id("alert-1:slack"), "alert-1:slack");
        let long = |n: usize| format!("{}:{}", "a".repeat(130), n);
        let (a, b) = (fit_dedup_id(&long(1)), fit_dedup_id(&long(2)));
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}

//! The delivery worker: receive, deduplicate, fetch the secret, send, record the attempt;
//! delete on success, else back off `min(300, 5 * 2^retry)` s until the third receive, after
//! which the queue moves the message to the DLQ. At-least-once: a crash before the delete
//! makes the message visible again after its visibility timeout.

use super::dedup;
use super::senders::{self, SendContext, SendError};
use crate::detect::DeliveryMessage;
use crate::error::Result;
use crate::local::queue::MAX_RECEIVES;
use crate::model::metric::Sample;
use crate::model::{DeliveryAttempt, DeliveryStatus, Integration};
use crate::ports::{AttemptRecord, ReceivedMessage};
use crate::services::{Services, count};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use std::collections::HashMap;
use std::time::Instant;
use tokio::sync::watch;

/// Messages per receive; SQS's ReceiveMessage returns at most 10, the local queue more.
pub const BATCH_SIZE: usize = 32;
/// Batches being delivered at once by one worker.
pub const BATCHES_IN_FLIGHT: usize = 4;

/// Longer than any send's timeout, so a live worker's message is not handed out twice.
pub const VISIBILITY_SECS: u64 = 60;

/// Backoff before retry number `retry` (0-based): 5, 10, 20, ... capped at 300 s.
pub fn backoff_secs(retry: u32) -> u64 {
    300u64.min(5u64.saturating_mul(1u64 << retry.min(16)))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Delivered,
    Suppressed,
    Retry {
        after_secs: u64,
    },
    DeadLettered,
    /// The body was not a delivery message; parked in the DLQ for a person to look at.
    Unreadable,
}

pub struct DeliveryWorker {
    s: Services,
    ctx: SendContext,
    visibility_secs: u64,
}

impl DeliveryWorker {
    pub fn new(s: Services) -> Self {
        let ctx = SendContext::new(s.allowed_hosts.clone());
        DeliveryWorker { s, ctx, visibility_secs: VISIBILITY_SECS }
    }

    /// How long a received message stays hidden before another receive may take it.
    pub fn with_visibility(mut self, secs: u64) -> Self {
        self.visibility_secs = secs;
        self
    }

    /// Receives up to `max` messages and delivers them as one batch.
    pub async fn run_once(&self, max: usize) -> Result<Vec<Verdict>> {
        let batch = self.s.queue.receive(max, self.visibility_secs).await?;
        self.process_batch(batch).await
    }

    /// Polls until `shutdown` flips, keeping up to [`BATCHES_IN_FLIGHT`] batches going so a
    /// slow endpoint holds back only its own group; batches in hand are finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut in_flight = FuturesUnordered::new();
        let mut idle = std::time::Duration::from_millis(10);
        loop {
            if *shutdown.borrow() {
                while let Some(r) = in_flight.next().await {
                    report(r);
                }
                return Ok(());
            }
            if in_flight.len() < BATCHES_IN_FLIGHT {
                match self.s.queue.receive(BATCH_SIZE, self.visibility_secs).await {
                    Ok(batch) if !batch.is_empty() => {
                        in_flight.push(self.process_batch(batch));
                        idle = std::time::Duration::from_millis(10);
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("delivery worker: {e}"),
                }
            }
            tokio::select! {
                Some(r) = in_flight.next(), if !in_flight.is_empty() => {
                    report(r);
                    idle = std::time::Duration::from_millis(10);
                    continue;
                }
                _ = tokio::time::sleep(idle) => {}
                _ = self.s.enqueued.notified() => {}
                _ = shutdown.changed() => {}
            }
            idle = (idle * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// Delivers one received message (a batch of one).
    pub async fn process(&self, m: ReceivedMessage) -> Result<Verdict> {
        Ok(self.process_batch(vec![m]).await?.remove(0))
    }

    /// One store round trip per step for the whole batch (conditional alert puts, dedup
    /// claims, attempts, deletes) and the sends in parallel: the stores, not the count of
    /// messages, set the cost. Verdicts come back in the batch's order.
    pub async fn process_batch(&self, batch: Vec<ReceivedMessage>) -> Result<Vec<Verdict>> {
        let s = &self.s;
        let mut verdicts: Vec<Option<Verdict>> = vec![None; batch.len()];
        let mut readable: Vec<(&ReceivedMessage, DeliveryMessage)> = vec![];
        for (i, m) in batch.iter().enumerate() {
            match serde_json::from_str::<DeliveryMessage>(&m.body) {
                Ok(msg) => readable.push((m, msg)),
                Err(e) => {
                    s.queue.retry_later(&m.receipt, 0, &format!("unreadable delivery message: {e}")).await?;
                    verdicts[i] = Some(Verdict::Unreadable);
                }
            }
        }
        if readable.is_empty() {
            return Ok(verdicts.into_iter().flatten().collect());
        }
        // The router stores the alert before enqueueing; the snapshot carried here is the
        // fallback for messages queued by older versions or by hand.
        let alerts: Vec<_> = readable.iter().map(|(_, msg)| msg.alert.clone()).collect();
        s.alerts.put_alerts_if_absent(&alerts).await?;
        let now = s.clock.now();
        let claims: Vec<_> = readable.iter().map(|(_, msg)| dedup::claim(msg, now)).collect();
        let mut holders = s.dedup.claim_many(&claims).await?;
        self.free_closed_holders(&readable, &claims, &mut holders).await?;
        let targets = self.targets(readable.iter().map(|(_, msg)| msg)).await;

        let outcomes = futures::future::join_all(readable.iter().zip(&holders).map(|((_, msg), holder)| {
            let target = &targets[&(msg.user_id.clone(), msg.integration_id.clone())];
            async move {
                if dedup::suppresses(holder.as_deref(), msg) {
                    return None;
                }
                let started = Instant::now();
                let result = match target {
                    // A panic in one send is that message's failure (retried, then dead-lettered),
                    // never the worker's end.
                    Ok((integration, secret)) => {
                        let send = senders::send(&self.ctx, integration, secret.as_deref(), &msg.alert);
                        match std::panic::AssertUnwindSafe(send).catch_unwind().await {
                            Ok(result) => result,
                            Err(_) => Err(SendError::new("the sender stopped on an internal error (a bug)")),
                        }
                    }
                    Err(e) => Err(e.clone()),
                };
                Some((result, started.elapsed().as_millis() as u64))
            }
        }))
        .await;

        let mut records = Vec::with_capacity(readable.len());
        let mut done = vec![];
        let mut retries = vec![];
        let mut released = vec![];
        for (((m, msg), outcome), claim) in readable.iter().zip(outcomes).zip(&claims) {
            let mut attempt = DeliveryAttempt {
                integration_id: msg.integration_id.clone(),
                attempt: m.receive_count,
                at: now,
                status: DeliveryStatus::Delivered,
                latency_ms: None,
                http_status: None,
                error: None,
                retry_in_secs: None,
            };
            let verdict = match outcome {
                None => {
                    attempt.status = DeliveryStatus::Suppressed;
                    done.push(m.receipt.clone());
                    Verdict::Suppressed
                }
                Some((Ok(sent), latency)) => {
                    attempt.latency_ms = Some(latency);
                    attempt.http_status = sent.http_status;
                    done.push(m.receipt.clone());
                    Verdict::Delivered
                }
                Some((Err(e), latency)) => {
                    attempt.latency_ms = Some(latency);
                    attempt.http_status = e.http_status;
                    attempt.error = Some(e.message.clone());
                    let last = m.receive_count >= MAX_RECEIVES;
                    attempt.status =
                        if last { DeliveryStatus::DeadLettered } else { DeliveryStatus::Retrying };
                    let after = backoff_secs(m.receive_count.saturating_sub(1))
                        .max(e.retry_after.unwrap_or(0).min(300));
                    attempt.retry_in_secs = (!last).then_some(after);
                    retries.push((m.receipt.clone(), after, e.message));
                    released.push(claim);
                    if last { Verdict::DeadLettered } else { Verdict::Retry { after_secs: after } }
                }
            };
            let index = batch.iter().position(|b| b.receipt == m.receipt).expect("message from this batch");
            verdicts[index] = Some(verdict);
            records.push(AttemptRecord {
                user_id: msg.user_id.clone(),
                alert_id: msg.alert.id.clone(),
                attempt,
            });
        }
        // Attempts first, then the delete: a crash in between redelivers (at-least-once)
        // rather than losing the record.
        s.alerts.record_attempts(&records).await?;
        for (r, (_, msg)) in records.iter().zip(&readable) {
            let kind = targets[&(msg.user_id.clone(), msg.integration_id.clone())]
                .as_ref()
                .ok()
                .map(|(i, _)| i.kind);
            let a = &r.attempt;
            let sample = Sample::delivery(
                now,
                &r.user_id,
                a.status,
                kind,
                a.latency_ms,
                &r.alert_id,
                &msg.alert.rule_id,
                a.error.as_deref(),
            );
            count(s, sample).await;
        }
        // An undelivered alert does not hold its incident's dedup key: the next alert of the
        // same incident is sent, not suppressed behind one that sits in the DLQ.
        for (key, holder, _) in &released {
            s.dedup.release(key, holder).await?;
        }
        s.queue.delete_batch(&done).await?;
        for (receipt, after, error) in retries {
            s.queue.retry_later(&receipt, after, &error).await?;
        }
        Ok(verdicts.into_iter().map(|v| v.expect("every message has a verdict")).collect())
    }

    /// A key held by an alert the analyst has closed (resolved, false positive) does not
    /// suppress a new alert of the incident: the incident is back and someone must hear of it.
    async fn free_closed_holders(
        &self,
        readable: &[(&ReceivedMessage, DeliveryMessage)],
        claims: &[(String, String, chrono::DateTime<chrono::Utc>)],
        holders: &mut [Option<String>],
    ) -> Result<()> {
        let s = &self.s;
        for (((_, msg), (key, mine, until)), holder) in readable.iter().zip(claims).zip(holders.iter_mut()) {
            let Some(held_by) = holder.clone().filter(|h| dedup::suppresses(Some(h), msg)) else { continue };
            let open = s.alerts.get_alert(&msg.user_id, &held_by).await?.is_some_and(|a| a.is_open());
            if !open {
                s.dedup.release(key, &held_by).await?;
                if s.dedup.insert_if_absent(key, mine, *until).await? {
                    *holder = None;
                }
            }
        }
        Ok(())
    }

    /// Each distinct integration of the batch, with its secret, looked up once.
    async fn targets<'a>(
        &self,
        msgs: impl Iterator<Item = &'a DeliveryMessage>,
    ) -> HashMap<(String, String), Target> {
        let mut out = HashMap::new();
        for msg in msgs {
            let key = (msg.user_id.clone(), msg.integration_id.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(key) {
                slot.insert(self.target(&msg.user_id, &msg.integration_id).await);
            }
        }
        out
    }

    async fn target(&self, user_id: &str, integration_id: &str) -> Target {
        let s = &self.s;
        let integration = s
            .integrations
            .get_integration(user_id, integration_id)
            .await
            .map_err(|e| SendError::new(e.to_string()))?
            .ok_or_else(|| SendError::new(format!("integration `{integration_id}` no longer exists")))?;
        let secret = match &integration.secret_ref {
            Some(name) => s.secrets.get_secret(name).await.map_err(|e| SendError::new(e.to_string()))?,
            None => None,
        };
        Ok((integration, secret))
    }
}

type Target = std::result::Result<(Integration, Option<String>), SendError>;

fn report(r: Result<Vec<Verdict>>) {
    if let Err(e) = r {
        eprintln!("delivery worker: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule() {
        let v: Vec<u64> = (0..8).map(backoff_secs).collect();
        assert_eq!(v, vec![5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff_secs(60), 300);
    }
}

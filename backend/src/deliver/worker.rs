//! The delivery worker: receive, deduplicate, fetch the secret, send, record the attempt;
//! delete on success, else back off `min(300, 5 * 2^retry)` s until the third receive, after
//! which the queue moves the message to the DLQ. At-least-once: a crash before the delete
//! makes the message visible again after its visibility timeout.

use super::dedup;
use super::senders::{self, SendContext, SendError};
use crate::detect::DeliveryMessage;
use crate::error::Result;
use crate::local::queue::MAX_RECEIVES;
use crate::model::{DeliveryAttempt, DeliveryStatus};
use crate::ports::ReceivedMessage;
use crate::services::Services;
use std::time::Instant;
use tokio::sync::watch;

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
        let ctx = SendContext { http: super::outbound::client(15), allowed_hosts: s.allowed_hosts.clone() };
        DeliveryWorker { s, ctx, visibility_secs: VISIBILITY_SECS }
    }

    /// How long a received message stays hidden before another receive may take it.
    pub fn with_visibility(mut self, secs: u64) -> Self {
        self.visibility_secs = secs;
        self
    }

    /// Receives up to `max` messages and delivers them concurrently (one per group at most).
    pub async fn run_once(&self, max: usize) -> Result<Vec<Verdict>> {
        let batch = self.s.queue.receive(max, self.visibility_secs).await?;
        let results = futures::future::join_all(batch.into_iter().map(|m| self.process(m))).await;
        results.into_iter().collect()
    }

    /// Polls until `shutdown` flips; a batch in hand is finished before returning.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut idle = std::time::Duration::from_millis(10);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let handled = match self.run_once(16).await {
                Ok(v) => v.len(),
                Err(e) => {
                    eprintln!("delivery worker: {e}");
                    0
                }
            };
            if handled > 0 {
                idle = std::time::Duration::from_millis(10);
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(idle) => {}
                _ = self.s.enqueued.notified() => {}
                _ = shutdown.changed() => {}
            }
            idle = (idle * 2).min(std::time::Duration::from_millis(500));
        }
    }

    pub async fn process(&self, m: ReceivedMessage) -> Result<Verdict> {
        let s = &self.s;
        let msg: DeliveryMessage = match serde_json::from_str(&m.body) {
            Ok(msg) => msg,
            Err(e) => {
                s.queue.retry_later(&m.receipt, 0, &format!("unreadable delivery message: {e}")).await?;
                return Ok(Verdict::Unreadable);
            }
        };
        let alert_id = msg.alert.id.clone();
        let user = msg.user_id.clone();
        // The router stores the alert after enqueueing; if it crashed in between, the
        // snapshot carried here puts it back.
        s.alerts.put_alert_if_absent(&msg.alert).await?;
        let now = s.clock.now();
        let mut attempt = DeliveryAttempt {
            integration_id: msg.integration_id.clone(),
            attempt: m.receive_count,
            at: now,
            status: DeliveryStatus::Delivered,
            latency_ms: None,
            http_status: None,
            error: None,
        };
        if dedup::is_duplicate(s.dedup.as_ref(), &msg, now).await? {
            attempt.status = DeliveryStatus::Suppressed;
            s.alerts.record_attempt(&user, &alert_id, &attempt).await?;
            s.queue.delete(&m.receipt).await?;
            return Ok(Verdict::Suppressed);
        }
        let started = Instant::now();
        let result = self.send(&msg).await;
        attempt.latency_ms = Some(started.elapsed().as_millis() as u64);
        match result {
            Ok(sent) => {
                attempt.http_status = sent.http_status;
                s.alerts.record_attempt(&user, &alert_id, &attempt).await?;
                s.queue.delete(&m.receipt).await?;
                Ok(Verdict::Delivered)
            }
            Err(e) => {
                attempt.http_status = e.http_status;
                attempt.error = Some(e.message.clone());
                let last = m.receive_count >= MAX_RECEIVES;
                attempt.status = if last { DeliveryStatus::DeadLettered } else { DeliveryStatus::Retrying };
                let after =
                    backoff_secs(m.receive_count.saturating_sub(1)).max(e.retry_after.unwrap_or(0).min(300));
                s.alerts.record_attempt(&user, &alert_id, &attempt).await?;
                s.queue.retry_later(&m.receipt, after, &e.message).await?;
                Ok(if last { Verdict::DeadLettered } else { Verdict::Retry { after_secs: after } })
            }
        }
    }

    async fn send(&self, msg: &DeliveryMessage) -> std::result::Result<senders::Sent, SendError> {
        let s = &self.s;
        let integration = s
            .integrations
            .get_integration(&msg.user_id, &msg.integration_id)
            .await
            .map_err(|e| SendError::new(e.to_string()))?
            .ok_or_else(|| {
                SendError::new(format!("integration `{}` no longer exists", msg.integration_id))
            })?;
        let secret = match &integration.secret_ref {
            Some(name) => s.secrets.get_secret(name).await.map_err(|e| SendError::new(e.to_string()))?,
            None => None,
        };
        senders::send(&self.ctx, &integration, secret.as_deref(), &msg.alert).await
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

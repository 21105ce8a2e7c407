//! A user's dead letters: from the queue with their failure reason (the queue's own note where
//! it keeps one, else the last failed attempt in alert history), or from alert history alone;
//! and redrive and discard, which note in history what became of each.

use crate::detect::DeliveryMessage;
use crate::error::Result;
use crate::model::{DeliveryAttempt, DeliveryStatus};
use crate::ports::{AlertQuery, DeadLetter};
use crate::services::Services;
use std::collections::BTreeMap;

pub async fn for_user(s: &Services, user: &str) -> Result<Vec<DeadLetter>> {
    let mut mine: Vec<DeadLetter> = s.queue.dead_letters(user).await?;
    for d in mine.iter_mut().filter(|d| d.last_error.is_none()) {
        let Ok(msg) = serde_json::from_str::<DeliveryMessage>(&d.body) else { continue };
        if msg.user_id != user {
            continue;
        }
        if let Some(alert) = s.alerts.get_alert(user, &msg.alert.id).await? {
            d.last_error = alert
                .attempts
                .iter()
                .rev()
                .filter(|a| a.integration_id == msg.integration_id && a.status != DeliveryStatus::Delivered)
                .find_map(|a| a.error.clone());
        }
    }
    Ok(mine)
}

/// The key of one (alert, integration) delivery in alert history: what [`from_history`]
/// lists as a letter's id.
pub fn history_key(alert_id: &str, integration_id: &str) -> String {
    format!("{alert_id}/{integration_id}")
}

/// The DLQ keeps messages 14 days; older dead letters are gone from it.
const DLQ_RETENTION_DAYS: i64 = 14;
/// Alerts read for the list at most (newest first).
const HISTORY_ALERTS: usize = 2_000;

/// The dead letters as alert history records them: each (alert, integration) of the last 14
/// days whose latest attempt is dead-lettered, newest first. No queue read at all (on SQS a
/// listing is a receive of every message), so the console can list them at every refresh.
/// Ids are [`history_key`]s; [`redrive`] and [`discard`] find the queue's messages for them.
pub async fn from_history(s: &Services, user: &str) -> Result<Vec<DeadLetter>> {
    let since = s.clock.now() - chrono::Duration::days(DLQ_RETENTION_DAYS);
    let q = AlertQuery { since: Some(since), limit: Some(HISTORY_ALERTS), ..Default::default() };
    let mut out = vec![];
    for mut alert in s.alerts.list_alerts(user, &q).await? {
        let attempts = std::mem::take(&mut alert.attempts);
        // Attempts are appended in order: the last one of an integration is its latest.
        let latest: BTreeMap<&str, &DeliveryAttempt> =
            attempts.iter().map(|a| (a.integration_id.as_str(), a)).collect();
        for (integration, a) in latest.into_iter().filter(|(_, a)| a.status == DeliveryStatus::DeadLettered) {
            let msg = DeliveryMessage {
                user_id: user.to_string(),
                integration_id: integration.to_string(),
                alert: alert.clone(),
                dedup_basis: alert.dedup_key.clone(),
                dedup_window_secs: 0,
            };
            out.push(DeadLetter {
                message_id: history_key(&alert.id, integration),
                group_id: crate::detect::router::group_id(user, integration),
                body: serde_json::to_string(&msg).map_err(|e| crate::Error::backend("dead letter", e))?,
                receive_count: a.attempt,
                last_error: a.error.clone(),
                sent_at: a.at,
            });
        }
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.sent_at));
    Ok(out)
}

/// The queue's letters that `keys` name, by queue id or by history key.
async fn named(
    s: &Services,
    user: &str,
    keys: &[String],
) -> Result<Vec<(DeadLetter, Option<DeliveryMessage>)>> {
    let mut out = vec![];
    for d in for_user(s, user).await? {
        let msg = serde_json::from_str::<DeliveryMessage>(&d.body).ok();
        let key = msg.as_ref().map(|m| history_key(&m.alert.id, &m.integration_id));
        if keys.contains(&d.message_id) || key.is_some_and(|k| keys.contains(&k)) {
            out.push((d, msg));
        }
    }
    Ok(out)
}

/// Notes in alert history what happened to a letter, so [`from_history`] stops listing it.
/// The note is `Suppressed`: it counts in no health figure, and unlike `Pending` it never makes
/// a later run of the rule send the alert again (the redriven message does that).
async fn note(s: &Services, user: &str, msg: &DeliveryMessage, why: &str) -> Result<()> {
    let attempt = DeliveryAttempt {
        integration_id: msg.integration_id.clone(),
        attempt: 0,
        at: s.clock.now(),
        status: DeliveryStatus::Suppressed,
        latency_ms: None,
        http_status: None,
        error: Some(why.to_string()),
        retry_in_secs: None,
    };
    s.alerts.record_attempt(user, &msg.alert.id, &attempt).await
}

/// Sends the named letters (queue ids or history keys) back to the queue; returns how many.
pub async fn redrive(s: &Services, user: &str, keys: &[String]) -> Result<usize> {
    let found = named(s, user, keys).await?;
    let ids: Vec<String> = found.iter().map(|(d, _)| d.message_id.clone()).collect();
    let moved = s.queue.redrive(user, &ids).await?;
    for msg in found.iter().filter_map(|(_, m)| m.as_ref()) {
        note(s, user, msg, "redriven from the dead-letter queue").await?;
    }
    Ok(moved)
}

/// Deletes one named letter for good.
pub async fn discard(s: &Services, user: &str, key: &str) -> Result<()> {
    let found = named(s, user, &[key.to_string()]).await?;
    let Some((d, msg)) = found.into_iter().next() else {
        return Err(crate::Error::NotFound { kind: "dead letter", id: key.to_string() });
    };
    s.queue.delete_dead_letter(user, &d.message_id).await?;
    if let Some(msg) = msg {
        note(s, user, &msg, "discarded from the dead-letter queue").await?;
    }
    Ok(())
}

//! Routing: an alert goes to each of the user's enabled integrations whose severity filter
//! admits it (and that the rule names, if it names any), as one FIFO message per integration
//! in group `{user_id}:{integration_id}`. Also resolves routing commands like "page the on-call".

use crate::error::{Error, Result};
use crate::model::metric::Sample;
use crate::model::{Alert, AlertEvent, DeliveryAttempt, DeliveryStatus, Integration, IntegrationKind, Rule};
use crate::ports::AttemptRecord;
use crate::services::{Services, count};
use serde::{Deserialize, Serialize};

/// What the delivery worker receives: the alert snapshot (so delivery never depends on a
/// store read succeeding) and how to deduplicate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub user_id: String,
    pub integration_id: String,
    pub alert: Alert,
    /// What identifies "the same alert again": the rule's dedup field values, else the summary.
    pub dedup_basis: String,
    pub dedup_window_secs: u64,
}

pub fn group_id(user_id: &str, integration_id: &str) -> String {
    format!("{user_id}:{integration_id}")
}

/// The alert's incident key (the rule's dedup field values), else its summary.
pub fn dedup_basis(rule: &Rule, alert: &Alert) -> String {
    if !alert.dedup_key.is_empty() {
        return alert.dedup_key.clone();
    }
    if rule.dedup.fields.is_empty() {
        return alert.summary.clone();
    }
    let mut values: Vec<String> = alert
        .sample_rows
        .iter()
        .map(|row| super::evidence::dedup_key(rule, row))
        .filter(|k| !k.is_empty())
        .collect();
    values.sort();
    values.dedup();
    values.join(",")
}

fn wanted_by_rule(rule: &Rule, i: &Integration) -> bool {
    rule.destinations.is_empty()
        || rule.destinations.iter().any(|d| {
            d == &i.id
                || d.eq_ignore_ascii_case(&i.name)
                || serde_json::to_value(i.kind).ok().and_then(|k| k.as_str().map(|k| k == d)).unwrap_or(false)
        })
}

/// Stores the alert, then enqueues it for each admitted integration; idempotent, so a run
/// retried after a crash or a failed call finishes what the first try started:
/// - a new alert is stored with a pending attempt per integration before any message is sent;
/// - an alert with new events folded in is stored, and sent again only as the rule's
///   `notify` says;
/// - the same alert again (a retried run) re-sends only what may not have gone out: the
///   integrations whose latest attempt is still pending.
///
/// Returns the number of messages sent.
pub async fn route_alert(s: &Services, rule: &Rule, alert: &mut Alert) -> Result<usize> {
    // A suppressed alert is stored with why, and goes nowhere.
    alert.suppressed = super::suppressions::holding(s, rule, alert).await?;
    let targets: Vec<Integration> = if alert.suppressed.is_some() {
        vec![]
    } else {
        s.integrations
            .list_integrations(&alert.user_id)
            .await?
            .into_iter()
            .filter(|i| i.admits(alert.severity) && wanted_by_rule(rule, i))
            .collect()
    };
    let basis = dedup_basis(rule, alert);
    let window = rule.dedup.window_secs;
    let now = s.clock.now();
    let Some(prev) = s.alerts.get_alert(&alert.user_id, &alert.id).await? else {
        alert.notified_count = alert.event_count;
        alert.attempts = pending(&targets, now);
        s.alerts.put_alert(alert).await?;
        return send_messages(s, alert, &targets, &basis, window, &notice_suffix(alert)).await;
    };
    let folded = alert.event_count != prev.event_count || alert.detected_until != prev.detected_until;
    if !folded {
        let waiting: Vec<Integration> =
            targets.into_iter().filter(|i| latest_is_pending(&prev, &i.id)).collect();
        *alert = prev;
        return send_messages(s, alert, &waiting, &basis, window, &notice_suffix(alert)).await;
    }
    // Triage is the analyst's: keep what is stored, not the copy the run read earlier.
    alert.status = prev.status;
    alert.assignee = prev.assignee.clone();
    alert.notes = prev.notes.clone();
    alert.classification = prev.classification;
    alert.classification_reason = prev.classification_reason.clone();
    let again = rule.notify.again(alert.event_count, prev.notified_count);
    if again {
        alert.notified_count = alert.event_count;
        alert
            .history
            .push(AlertEvent { at: now, what: format!("sent again at {} events", alert.event_count) });
    }
    alert.attempts = vec![];
    s.alerts.put_alert(alert).await?;
    // A notice again goes to every integration; otherwise only what an earlier try left pending.
    let to_send: Vec<Integration> = if again {
        add_pending(s, alert, &targets, now).await?;
        targets
    } else {
        targets.into_iter().filter(|i| latest_is_pending(&prev, &i.id)).collect()
    };
    alert.attempts = prev.attempts;
    if again {
        alert.attempts.extend(pending(&to_send, now));
    }
    send_messages(s, alert, &to_send, &basis, window, &notice_suffix(alert)).await
}

/// Sends an alert already stored to integrations an analyst chose (`:route slack`), whatever
/// their severity filter: the same queue, dedup and attempts as a rule's routing, the new
/// pending attempts added to the ones the alert has.
pub async fn route_to(
    s: &Services,
    rule: Option<&Rule>,
    alert: &mut Alert,
    targets: &[Integration],
) -> Result<usize> {
    let (basis, window) = match rule {
        Some(r) => (dedup_basis(r, alert), r.dedup.window_secs),
        None => (alert.summary.clone(), 0),
    };
    let now = s.clock.now();
    if s.alerts.put_alert_if_absent(alert).await? {
        alert.attempts.clear();
    }
    add_pending(s, alert, targets, now).await?;
    alert.attempts.extend(pending(targets, now));
    // A queue message id of its own: the FIFO queue drops a repeat of an id for five minutes,
    // and sending again is what the analyst asked for.
    let again = format!(":by-hand-{}", uuid::Uuid::new_v4().simple());
    send_messages(s, alert, targets, &basis, window, &again).await
}

/// Each notice of an alert (the first, and each `notify: every N` after it) has its own queue
/// message ids, so a retry of one notice is dropped as a repeat but a later notice is not.
fn notice_suffix(alert: &Alert) -> String {
    format!(":n{}", alert.notified_count)
}

fn latest_is_pending(alert: &Alert, integration_id: &str) -> bool {
    alert
        .attempts
        .iter()
        .rev()
        .find(|a| a.integration_id == integration_id)
        .is_some_and(|a| a.status == DeliveryStatus::Pending)
}

fn pending(targets: &[Integration], now: chrono::DateTime<chrono::Utc>) -> Vec<DeliveryAttempt> {
    targets
        .iter()
        .map(|i| DeliveryAttempt {
            integration_id: i.id.clone(),
            attempt: 0,
            at: now,
            status: DeliveryStatus::Pending,
            latency_ms: None,
            http_status: None,
            error: None,
            retry_in_secs: None,
        })
        .collect()
}

/// Pending attempts recorded on an alert that is already stored.
async fn add_pending(
    s: &Services,
    alert: &Alert,
    targets: &[Integration],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let records: Vec<AttemptRecord> = pending(targets, now)
        .into_iter()
        .map(|attempt| AttemptRecord { user_id: alert.user_id.clone(), alert_id: alert.id.clone(), attempt })
        .collect();
    s.alerts.record_attempts(&records).await
}

/// One FIFO message per target, each carrying the whole alert (so delivery never depends on a
/// store read), with a message id derived from the alert, so a resend is dropped as a repeat.
async fn send_messages(
    s: &Services,
    alert: &Alert,
    targets: &[Integration],
    basis: &str,
    dedup_window_secs: u64,
    message_suffix: &str,
) -> Result<usize> {
    for i in targets {
        let msg = DeliveryMessage {
            user_id: alert.user_id.clone(),
            integration_id: i.id.clone(),
            alert: Alert { attempts: vec![], ..alert.clone() },
            dedup_basis: basis.to_string(),
            dedup_window_secs,
        };
        let body = serde_json::to_string(&msg).map_err(|e| Error::backend("delivery message", e))?;
        s.queue
            .send(&group_id(&alert.user_id, &i.id), &format!("{}:{}{message_suffix}", alert.id, i.id), &body)
            .await?;
        let routed =
            Sample::alert_routed(s.clock.now(), &alert.user_id, alert.severity, i.kind, &alert.rule_id);
        count(s, routed).await;
    }
    if !targets.is_empty() {
        s.enqueued.notify_one();
    }
    Ok(targets.len())
}

/// Words that name an integration kind in a routing command.
const KIND_WORDS: [(IntegrationKind, &[&str]); 6] = [
    (IntegrationKind::Slack, &["slack", "channel"]),
    (IntegrationKind::Jira, &["jira", "ticket", "issue"]),
    (IntegrationKind::PagerDuty, &["pagerduty", "page", "pager", "on-call", "oncall", "on call"]),
    (IntegrationKind::Email, &["email", "e-mail", "mail"]),
    (IntegrationKind::Webhook, &["webhook", "hook"]),
    (IntegrationKind::File, &["file", "disk"]),
];

fn describe(list: &[Integration]) -> String {
    list.iter()
        .map(|i| {
            format!(
                "{} ({})",
                i.name,
                serde_json::to_value(i.kind)
                    .ok()
                    .and_then(|k| k.as_str().map(String::from))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resolves "send to slack", "create a jira ticket", "page the on-call", "send to secops-slack"
/// to integrations: a name mentioned wins; else the kinds mentioned. None or an ambiguous match
/// is an error that lists the choices.
pub fn resolve_route(command: &str, integrations: &[Integration]) -> Result<Vec<Integration>> {
    let text = command.to_ascii_lowercase();
    let enabled: Vec<Integration> = integrations.iter().filter(|i| i.enabled).cloned().collect();
    let named: Vec<Integration> = enabled
        .iter()
        .filter(|i| text.contains(&i.name.to_ascii_lowercase()) || text.contains(&i.id.to_ascii_lowercase()))
        .cloned()
        .collect();
    if !named.is_empty() {
        return Ok(named);
    }
    let has_word = |w: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '-').any(|t| t == w)
            || (w.contains(' ') && text.contains(w))
    };
    let kinds: Vec<IntegrationKind> =
        KIND_WORDS.iter().filter(|(_, words)| words.iter().any(|w| has_word(w))).map(|(k, _)| *k).collect();
    let matched: Vec<Integration> = enabled.iter().filter(|i| kinds.contains(&i.kind)).cloned().collect();
    let place = format!("route `{command}`");
    if matched.is_empty() {
        return Err(Error::invalid(
            place,
            format!("matches no integration; choices: {}", describe(&enabled)),
        ));
    }
    for kind in &kinds {
        let of_kind: Vec<&Integration> = matched.iter().filter(|i| i.kind == *kind).collect();
        if of_kind.len() > 1 {
            let list: Vec<Integration> = of_kind.into_iter().cloned().collect();
            return Err(Error::invalid(
                place,
                format!("matches several integrations; name one of: {}", describe(&list)),
            ));
        }
    }
    Ok(matched)
}

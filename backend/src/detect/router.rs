//! Routing: an alert goes to each of the user's enabled integrations whose severity filter
//! admits it (and that the rule names, if it names any), as one FIFO message per integration
//! in group `{user_id}:{integration_id}`. Also resolves routing commands like "page the on-call".

use crate::error::{Error, Result};
use crate::model::{Alert, DeliveryAttempt, DeliveryStatus, Integration, IntegrationKind, Rule};
use crate::services::Services;
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

/// The rule's dedup field values found in the alert's sample rows, sorted; else the summary.
pub fn dedup_basis(rule: &Rule, alert: &Alert) -> String {
    if rule.dedup.fields.is_empty() {
        return alert.summary.clone();
    }
    let mut values: Vec<String> = vec![];
    for field in &rule.dedup.fields {
        let wanted = field.to_ascii_lowercase();
        for row in &alert.sample_rows {
            if let Some(v) =
                row.as_object().and_then(|o| o.iter().find(|(k, _)| k.to_ascii_lowercase() == wanted))
            {
                let text = v.1.as_str().map(str::to_string).unwrap_or_else(|| v.1.to_string());
                values.push(format!("{wanted}={text}"));
            }
        }
    }
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

/// Enqueues the alert for each admitted integration, then records it with a pending attempt
/// per integration. Returns the number of messages sent.
pub async fn route_alert(s: &Services, rule: &Rule, alert: &mut Alert) -> Result<usize> {
    let targets: Vec<Integration> = s
        .integrations
        .list_integrations(&alert.user_id)
        .await?
        .into_iter()
        .filter(|i| i.admits(alert.severity) && wanted_by_rule(rule, i))
        .collect();
    alert.attempts.clear();
    enqueue(s, alert, &targets, dedup_basis(rule, alert), rule.dedup.window_secs, "").await
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
    // A queue message id of its own: the FIFO queue drops a repeat of an id for five minutes,
    // and sending again is what the analyst asked for.
    let again = format!(":by-hand-{}", uuid::Uuid::new_v4().simple());
    enqueue(s, alert, targets, basis, window, &again).await
}

/// One FIFO message per target, then the alert stored with a pending attempt per target.
async fn enqueue(
    s: &Services,
    alert: &mut Alert,
    targets: &[Integration],
    basis: String,
    dedup_window_secs: u64,
    message_suffix: &str,
) -> Result<usize> {
    let now = s.clock.now();
    alert.attempts.extend(targets.iter().map(|i| DeliveryAttempt {
        integration_id: i.id.clone(),
        attempt: 0,
        at: now,
        status: DeliveryStatus::Pending,
        latency_ms: None,
        http_status: None,
        error: None,
        retry_in_secs: None,
    }));
    // Messages first: each carries the whole alert, so a crash before the alert is stored
    // still delivers it (the worker stores the snapshot it carries).
    for i in targets {
        let msg = DeliveryMessage {
            user_id: alert.user_id.clone(),
            integration_id: i.id.clone(),
            alert: Alert { attempts: vec![], ..alert.clone() },
            dedup_basis: basis.clone(),
            dedup_window_secs,
        };
        let body = serde_json::to_string(&msg).map_err(|e| Error::backend("delivery message", e))?;
        s.queue
            .send(&group_id(&alert.user_id, &i.id), &format!("{}:{}{message_suffix}", alert.id, i.id), &body)
            .await?;
    }
    s.alerts.put_alert(alert).await?;
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

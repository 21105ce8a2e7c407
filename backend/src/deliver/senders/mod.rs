//! One sender per integration kind: config validation, the payload in the service's public
//! API shape, and the HTTP/SMTP/file call. Errors never carry the secret.

mod email;
mod file;
mod jira;
mod pagerduty;
mod slack;
mod webhook;

pub use jira::list_projects;

use crate::model::{Alert, Integration, IntegrationKind};
use serde_json::Value;

/// A successful send.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub http_status: Option<u16>,
    /// What the service answered that is worth keeping (Jira issue key, PagerDuty dedup key).
    pub reference: Option<String>,
}

/// A failed send; `retry_after` from a 429's Retry-After header.
#[derive(Debug, Clone, PartialEq)]
pub struct SendError {
    pub http_status: Option<u16>,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl SendError {
    pub fn new(message: impl Into<String>) -> Self {
        SendError { http_status: None, message: message.into(), retry_after: None }
    }
}

pub struct SendContext {
    pub http: reqwest::Client,
    pub allowed_hosts: Vec<String>,
}

fn text<'a>(config: &'a Value, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn need<'a>(config: &'a Value, key: &str, kind: &str) -> Result<&'a str, String> {
    text(config, key).ok_or_else(|| format!("{kind}: `{key}` is required"))
}

/// Checks the non-secret settings of an integration; the message names the key to fix.
pub fn validate(kind: IntegrationKind, config: &Value) -> Result<(), String> {
    match kind {
        IntegrationKind::Slack => Ok(()),
        IntegrationKind::Jira => {
            need(config, "base_url", "jira")?;
            need(config, "project_key", "jira")?;
            need(config, "email", "jira").map(|_| ())
        }
        IntegrationKind::PagerDuty => Ok(()),
        IntegrationKind::Email => email::validate(config),
        IntegrationKind::Webhook => need(config, "url", "webhook").map(|_| ()),
        IntegrationKind::File => need(config, "path", "file").map(|_| ()),
    }
}

/// Whether the kind needs a secret to send (Slack's webhook URL, a Jira token, ...).
pub fn needs_secret(kind: IntegrationKind) -> bool {
    matches!(kind, IntegrationKind::Slack | IntegrationKind::Jira | IntegrationKind::PagerDuty)
}

pub async fn send(
    ctx: &SendContext,
    integration: &Integration,
    secret: Option<&str>,
    alert: &Alert,
) -> Result<Sent, SendError> {
    validate(integration.kind, &integration.config).map_err(SendError::new)?;
    let secret_needed = || {
        secret.ok_or_else(|| {
            SendError::new(format!(
                "no secret stored for integration `{}`: set it up again",
                integration.name
            ))
        })
    };
    match integration.kind {
        IntegrationKind::Slack => slack::send(ctx, &integration.config, secret_needed()?, alert).await,
        IntegrationKind::Jira => jira::send(ctx, &integration.config, secret_needed()?, alert).await,
        IntegrationKind::PagerDuty => {
            pagerduty::send(ctx, &integration.config, secret_needed()?, alert).await
        }
        IntegrationKind::Email => email::send(&integration.config, secret, alert).await,
        IntegrationKind::Webhook => webhook::send(ctx, &integration.config, secret, alert).await,
        IntegrationKind::File => file::send(&integration.config, alert).await,
    }
}

/// Posts JSON to a checked URL and maps the answer: 2xx ok, 429 with Retry-After, else error.
pub(crate) async fn post_json(
    ctx: &SendContext,
    url: &str,
    body: &Value,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<(u16, String), SendError> {
    let checked = super::outbound::check_url(url, &ctx.allowed_hosts).await.map_err(SendError::new)?;
    let host = super::outbound::redact(url);
    let resp = build(ctx.http.post(checked).json(body)).send().await.map_err(|e| {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        SendError::new(format!("{host}: {what}"))
    })?;
    let status = resp.status().as_u16();
    let retry_after =
        resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let text = resp.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        Ok((status, text))
    } else {
        let snippet: String = text.chars().take(200).collect();
        Err(SendError {
            http_status: Some(status),
            message: format!("{host}: HTTP {status}: {snippet}"),
            retry_after,
        })
    }
}

/// A short human summary used by several senders.
pub(crate) fn headline(alert: &Alert) -> String {
    format!("[{}] {}", alert.severity.as_str().to_uppercase(), alert.summary)
}

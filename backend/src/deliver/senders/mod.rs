//! One sender per integration kind: config validation, the payload in the service's public
//! API shape, and the HTTP/SMTP/file call. Errors never carry the secret.

mod email;
mod file;
mod jira;
mod pagerduty;
mod slack;
mod webhook;

pub use jira::list_projects;
pub use webhook::{WebhookSecret, headers_of};

use super::outbound::{self, Lookup, PolicyResolver, SystemLookup};
use crate::model::{Alert, Integration, IntegrationKind};
use serde_json::Value;
use std::sync::Arc;

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

/// What a send needs: the policy's resolver (allow-list included) and the client that uses it.
pub struct SendContext {
    pub http: reqwest::Client,
    pub resolver: Arc<PolicyResolver>,
}

impl SendContext {
    /// The system resolver under the policy; `allowed_hosts` may be reached on restricted
    /// addresses and over plain http.
    pub fn new(allowed_hosts: Vec<String>) -> Self {
        Self::with_lookup(allowed_hosts, Arc::new(SystemLookup))
    }

    /// The same with another resolver (tests answer names with fixed addresses).
    pub fn with_lookup(allowed_hosts: Vec<String>, lookup: Arc<dyn Lookup>) -> Self {
        let resolver = Arc::new(PolicyResolver::new(lookup, allowed_hosts));
        SendContext { http: super::outbound::client(15, resolver.clone()), resolver }
    }
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
        // The URL is a secret (tokens ride in it): setup checks it, the send finds it.
        IntegrationKind::Webhook => Ok(()),
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
        IntegrationKind::Email => email::send(ctx, &integration.config, secret, alert).await,
        IntegrationKind::Webhook => webhook::send(ctx, &integration.config, secret, alert).await,
        IntegrationKind::File => file::send(&integration.config, alert).await,
    }
}

/// Sends a request built on a checked URL and maps the answer: 2xx is the response, 429
/// carries Retry-After, anything else is an error naming the status, never the remote's text
/// (errors are stored and shown).
pub(crate) async fn request(
    ctx: &SendContext,
    method: reqwest::Method,
    url: &str,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, SendError> {
    let checked = outbound::check_url(url, &ctx.resolver).map_err(SendError::new)?;
    let host = outbound::redact(url);
    let resp = build(ctx.http.request(method, checked))
        .send()
        .await
        .map_err(|e| SendError::new(format!("{host}: {}", outbound::describe(&e))))?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| s.min(86_400));
    if !status.is_success() {
        return Err(SendError {
            http_status: Some(status.as_u16()),
            message: format!("{host}: {}", outbound::status_text(status)),
            retry_after,
        });
    }
    Ok(resp)
}

/// A successful answer's status and body, read up to [`outbound::MAX_ANSWER_BYTES`].
pub(crate) async fn answer(url: &str, resp: reqwest::Response) -> Result<(u16, String), SendError> {
    let status = resp.status().as_u16();
    let body = outbound::read_capped(resp, outbound::MAX_ANSWER_BYTES).await.map_err(|e| SendError {
        http_status: Some(status),
        message: format!("{}: {e}", outbound::redact(url)),
        retry_after: None,
    })?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Posts JSON and reads the answer; see [`request`].
pub(crate) async fn post_json(
    ctx: &SendContext,
    url: &str,
    body: &Value,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<(u16, String), SendError> {
    answer(url, request(ctx, reqwest::Method::POST, url, |r| build(r.json(body))).await?).await
}

/// A short human summary used by several senders.
pub(crate) fn headline(alert: &Alert) -> String {
    format!("[{}] {}", alert.severity.as_str().to_uppercase(), alert.summary)
}

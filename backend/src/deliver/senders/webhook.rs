//! Generic webhook: method, headers with `${SECRET}` substituted, the alert as JSON, timeout.
//! The URL and the header values (tokens live there) are secrets: they sit in the secret
//! store as a [`WebhookSecret`]; the settings keep only the redacted endpoint and the header
//! names. An integration saved before that keeps `url`/`headers` in its settings and still
//! sends; saving it again moves them.

use super::{SendContext, SendError, Sent, text};
use crate::model::Alert;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a webhook keeps in the secret store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookSecret {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The value of `${SECRET}` in the headers.
    #[serde(default)]
    pub secret: Option<String>,
}

impl WebhookSecret {
    /// The stored form; `None` for a secret that is not one (a legacy `${SECRET}` value).
    pub fn parse(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok().filter(|w: &WebhookSecret| !w.url.is_empty())
    }

    /// The legacy layout: URL and headers in the settings, the secret as `${SECRET}`.
    pub fn from_settings(config: &Value, secret: Option<&str>) -> Option<Self> {
        let url = text(config, "url")?.to_string();
        let headers = headers_of(config);
        Some(WebhookSecret { url, headers, secret: secret.map(str::to_string) })
    }
}

/// The `headers` setting as name -> value.
pub fn headers_of(config: &Value) -> BTreeMap<String, String> {
    config
        .get("headers")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub fn payload(alert: &Alert) -> Value {
    json!({"source": "mantissa-log", "alert": alert})
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    secret: Option<&str>,
    alert: &Alert,
) -> Result<Sent, SendError> {
    let target = WebhookSecret::from_settings(config, secret)
        .or_else(|| secret.and_then(WebhookSecret::parse))
        .ok_or_else(|| SendError::new("webhook: no URL stored: set the integration up again with its URL"))?;
    let method = text(config, "method").unwrap_or("POST").to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| SendError::new(format!("webhook: `method` {method} is not an HTTP method")))?;
    let timeout = config.get("timeout_secs").and_then(Value::as_u64).unwrap_or(10).clamp(1, 300);
    let mut headers = vec![];
    for (name, raw) in &target.headers {
        if raw.contains("${SECRET}") && target.secret.is_none() {
            return Err(SendError::new(format!(
                "webhook: header `{name}` uses ${{SECRET}} but no secret is stored"
            )));
        }
        headers.push((name.clone(), raw.replace("${SECRET}", target.secret.as_deref().unwrap_or_default())));
    }
    let body = payload(alert);
    let resp = super::request(ctx, method, &target.url, |mut r| {
        r = r.timeout(Duration::from_secs(timeout)).json(&body);
        for (name, value) in headers {
            r = r.header(name, value);
        }
        r
    })
    .await?;
    // The answer's body is not needed and not read.
    Ok(Sent { http_status: Some(resp.status().as_u16()), reference: None })
}

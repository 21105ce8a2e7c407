//! Generic webhook: method, headers with `${SECRET}` substituted, the alert as JSON, timeout.

use super::{SendContext, SendError, Sent, need, text};
use crate::model::Alert;
use serde_json::{Value, json};
use std::time::Duration;

pub fn payload(alert: &Alert) -> Value {
    json!({"source": "mantissa-log", "alert": alert})
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    secret: Option<&str>,
    alert: &Alert,
) -> Result<Sent, SendError> {
    let url = need(config, "url", "webhook").map_err(SendError::new)?;
    let checked =
        crate::deliver::outbound::check_url(url, &ctx.allowed_hosts).await.map_err(SendError::new)?;
    let method = text(config, "method").unwrap_or("POST").to_ascii_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| SendError::new(format!("webhook: `method` {method} is not an HTTP method")))?;
    let timeout = config.get("timeout_secs").and_then(Value::as_u64).unwrap_or(10);
    let mut req =
        ctx.http.request(method, checked).timeout(Duration::from_secs(timeout)).json(&payload(alert));
    if let Some(headers) = config.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            let raw = value.as_str().unwrap_or_default();
            if raw.contains("${SECRET}") && secret.is_none() {
                return Err(SendError::new(format!(
                    "webhook: header `{name}` uses ${{SECRET}} but no secret is stored"
                )));
            }
            req = req.header(name, raw.replace("${SECRET}", secret.unwrap_or_default()));
        }
    }
    let host = crate::deliver::outbound::redact(url);
    let resp = req.send().await.map_err(|e| {
        SendError::new(format!(
            "{host}: {}",
            if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection refused or unreachable"
            } else {
                "request failed"
            }
        ))
    })?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        Ok(Sent { http_status: Some(status), reference: None })
    } else {
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Err(SendError { http_status: Some(status), message: format!("{host}: HTTP {status}"), retry_after })
    }
}

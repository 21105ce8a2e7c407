//! Email over SMTP (lettre): recipients, sender, TLS mode, and up to `max_rows` result rows.
//! The SMTP host passes the outbound address policy first, and the connection goes to the
//! address that was checked (TLS still verifies the host's name).

use super::{SendContext, SendError, Sent, headline, need, text};
use crate::model::Alert;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

pub(super) fn validate(config: &Value) -> Result<(), String> {
    need(config, "host", "email")?;
    let from = need(config, "from", "email")?;
    from.parse::<Mailbox>().map_err(|e| format!("email: `from` {from}: {e}"))?;
    let to = recipients(config)?;
    if to.is_empty() {
        return Err("email: `to` needs at least one address".into());
    }
    port(config)?;
    match text(config, "tls").unwrap_or("starttls") {
        "none" | "starttls" | "tls" => Ok(()),
        other => Err(format!("email: `tls` is `{other}`; use none, starttls or tls")),
    }
}

fn port(config: &Value) -> Result<u16, String> {
    match config.get("port") {
        None | Some(Value::Null) => Ok(587),
        Some(v) => v
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("email: `port` {v} is not a TCP port (1-65535)")),
    }
}

fn recipients(config: &Value) -> Result<Vec<Mailbox>, String> {
    let list = config.get("to").and_then(Value::as_array).cloned().unwrap_or_default();
    list.iter()
        .map(|v| {
            let s = v.as_str().unwrap_or_default();
            s.parse::<Mailbox>().map_err(|e| format!("email: `to` {s}: {e}"))
        })
        .collect()
}

pub fn body(alert: &Alert, max_rows: usize) -> String {
    let mut out = format!(
        "{}\n\nRule: {} ({})\nSeverity: {}\nMatches: {}\nWindow: {} - {}\n\nQuery:\n{}\n",
        alert.summary,
        alert.rule_name,
        alert.rule_id,
        alert.severity,
        alert.result_count,
        alert.window_start.to_rfc3339(),
        alert.window_end.to_rfc3339(),
        alert.query
    );
    if max_rows > 0 && !alert.sample_rows.is_empty() {
        out.push_str("\nFirst results:\n");
        for row in alert.sample_rows.iter().take(max_rows) {
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
    out
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    secret: Option<&str>,
    alert: &Alert,
) -> Result<Sent, SendError> {
    validate(config).map_err(SendError::new)?;
    let host = need(config, "host", "email").map_err(SendError::new)?.trim();
    let port = port(config).map_err(SendError::new)?;
    let ip = *ctx
        .resolver
        .checked(host)
        .await
        .map_err(|e| SendError::new(format!("email: {e}")))?
        .first()
        .ok_or_else(|| SendError::new(format!("email: `{host}` has no address")))?;
    let params = || TlsParameters::new(host.to_string()).map_err(|e| SendError::new(format!("email: {e}")));
    let tls = match text(config, "tls").unwrap_or("starttls") {
        "none" => Tls::None,
        "tls" => Tls::Wrapper(params()?),
        _ => Tls::Required(params()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ip.to_string())
        .port(port)
        .tls(tls)
        .timeout(Some(std::time::Duration::from_secs(15)));
    if let Some((user, pass)) = secret.and_then(|s| s.split_once(':')) {
        builder = builder.credentials(Credentials::new(user.to_string(), pass.to_string()));
    }
    let max_rows = config.get("max_rows").and_then(Value::as_u64).unwrap_or(5).min(100) as usize;
    let mut msg = Message::builder()
        .from(
            need(config, "from", "email")
                .map_err(SendError::new)?
                .parse()
                .map_err(|_| SendError::new("email: bad `from`"))?,
        )
        .subject(headline(alert))
        .header(ContentType::TEXT_PLAIN);
    for to in recipients(config).map_err(SendError::new)? {
        msg = msg.to(to);
    }
    let email = msg.body(body(alert, max_rows)).map_err(|e| SendError::new(format!("email: {e}")))?;
    let resp = builder
        .build()
        .send(email)
        .await
        .map_err(|e| SendError::new(format!("email: {host}:{port}: {}", smtp_failure(&e))))?;
    Ok(Sent { http_status: Some(resp.code().into()), reference: None })
}

/// What failed, by kind and reply code: the server's own reply text is not kept (errors are
/// stored and shown).
fn smtp_failure(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| format!(" (reply {c})")).unwrap_or_default();
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_tls() {
        "TLS failed"
    } else if e.is_permanent() {
        "the server refused the message"
    } else if e.is_transient() {
        "the server deferred the message"
    } else if e.is_response() {
        "unexpected answer from the server"
    } else if e.is_client() {
        "refused by the client"
    } else {
        "connection failed"
    };
    format!("{kind}{code}")
}

//! Slack incoming webhook with Block Kit; log text escaped for mrkdwn (&, <, >), `<!channel>`
//! on critical alerts.

use super::{SendContext, SendError, Sent, headline, post_json, text};
use crate::model::{Alert, Severity};
use serde_json::{Value, json};

/// Slack's mrkdwn control characters; without this a log value like `<!everyone>` would ping.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max - 1).collect::<String>() + "…" }
}

pub fn payload(config: &Value, alert: &Alert) -> Value {
    let critical = alert.severity == Severity::Critical;
    let mention = text(config, "mention").unwrap_or("<!channel>");
    let sev = alert.severity.as_str().to_uppercase();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&format!("{sev}: {}", alert.rule_name), 150)}}),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Severity:*\n{sev}")},
            {"type": "mrkdwn", "text": format!("*Rule:*\n{}", escape(&alert.rule_name))},
            {"type": "mrkdwn", "text": format!("*Matches:*\n{}", alert.result_count)},
            {"type": "mrkdwn", "text": format!("*Rule ID:*\n`{}`", escape(&alert.rule_id))},
        ]}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&format!("*Query:*\n```{}```", escape(&alert.query)), 3000)}}),
    ];
    if let Some(row) = alert.sample_rows.first() {
        let sample = cut(&escape(&row.to_string()), 2900);
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*First match:*\n```{sample}```")}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}> · alert `{}`", alert.created_at.timestamp(), alert.created_at.to_rfc3339(), alert.id
    )}]}));
    let mut text = escape(&headline(alert));
    if critical {
        text = format!("{mention} {text}");
        blocks.insert(1, json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("{mention} critical alert")}}));
    }
    json!({"text": text, "blocks": blocks})
}

/// Slack answers `ok`, else an error code (`invalid_payload`, `channel_is_archived`); only a
/// code of that shape is kept in the error, never free text from the remote.
fn not_ok(body: &str) -> String {
    let code = body.trim();
    if !code.is_empty() && code.len() <= 60 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        format!("slack answered `{code}` instead of `ok`")
    } else {
        "slack answered something other than `ok`".into()
    }
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    webhook_url: &str,
    alert: &Alert,
) -> Result<Sent, SendError> {
    let (status, body) = post_json(ctx, webhook_url, &payload(config, alert), |r| r).await?;
    if body.trim() != "ok" {
        return Err(SendError { http_status: Some(status), message: not_ok(&body), retry_after: None });
    }
    Ok(Sent { http_status: Some(status), reference: None })
}

//! Jira Cloud REST v3: create an issue (priority from severity, labels, ADF description) with
//! basic auth (email + API token); list projects for setup.

use super::{SendContext, SendError, Sent, headline, need, post_json, text};
use crate::model::{Alert, Severity};
use serde_json::{Value, json};

pub fn priority(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Highest",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Lowest",
    }
}

fn label(s: &str) -> String {
    s.chars().map(|c| if c.is_whitespace() { '-' } else { c }).collect()
}

fn paragraph(text: &str) -> Value {
    json!({"type": "paragraph", "content": [{"type": "text", "text": text}]})
}

/// Atlassian Document Format: summary, rule, matches, the query as a code block, a sample.
pub fn description(alert: &Alert) -> Value {
    let mut content = vec![
        paragraph(&alert.summary),
        paragraph(&format!("Rule: {} ({})", alert.rule_name, alert.rule_id)),
        paragraph(&format!(
            "Window: {} to {}",
            alert.window_start.to_rfc3339(),
            alert.window_end.to_rfc3339()
        )),
        json!({"type": "codeBlock", "attrs": {"language": "sql"}, "content": [{"type": "text", "text": alert.query}]}),
    ];
    if let Some(row) = alert.sample_rows.first() {
        content.push(json!({"type": "codeBlock", "attrs": {"language": "json"}, "content": [{"type": "text", "text": row.to_string()}]}));
    }
    json!({"type": "doc", "version": 1, "content": content})
}

pub fn payload(config: &Value, alert: &Alert) -> Value {
    let mut labels = vec!["mantissa-log".to_string(), format!("severity-{}", alert.severity)];
    if let Some(extra) = config.get("labels").and_then(Value::as_array) {
        labels.extend(extra.iter().filter_map(Value::as_str).map(label));
    }
    json!({"fields": {
        "project": {"key": text(config, "project_key").unwrap_or_default()},
        "issuetype": {"name": text(config, "issue_type").unwrap_or("Task")},
        "summary": headline(alert).chars().take(255).collect::<String>(),
        "priority": {"name": priority(alert.severity)},
        "labels": labels,
        "description": description(alert),
    }})
}

pub(super) async fn send(
    ctx: &SendContext,
    config: &Value,
    token: &str,
    alert: &Alert,
) -> Result<Sent, SendError> {
    let base = need(config, "base_url", "jira").map_err(SendError::new)?.trim_end_matches('/');
    let email = need(config, "email", "jira").map_err(SendError::new)?.to_string();
    let url = format!("{base}/rest/api/3/issue");
    let token = token.to_string();
    let (status, body) =
        post_json(ctx, &url, &payload(config, alert), |r| r.basic_auth(email, Some(token))).await?;
    let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    Ok(Sent {
        http_status: Some(status),
        reference: answer.get("key").and_then(Value::as_str).map(String::from),
    })
}

/// `(key, name)` of the projects the credentials can see, for the setup form.
pub async fn list_projects(
    ctx: &SendContext,
    config: &Value,
    token: &str,
) -> Result<Vec<(String, String)>, SendError> {
    let base = need(config, "base_url", "jira").map_err(SendError::new)?.trim_end_matches('/');
    let email = need(config, "email", "jira").map_err(SendError::new)?;
    let url = format!("{base}/rest/api/3/project/search");
    let listing = |e: SendError| SendError { message: format!("jira: listing projects: {}", e.message), ..e };
    let resp = super::request(ctx, reqwest::Method::GET, &url, |r| r.basic_auth(email, Some(token)))
        .await
        .map_err(listing)?;
    let (_, body) = super::answer(&url, resp).await.map_err(listing)?;
    let v: Value = serde_json::from_str(&body).map_err(|_| SendError::new("jira: unexpected answer"))?;
    Ok(v.get("values")
        .and_then(Value::as_array)
        .map(|vals| {
            vals.iter()
                .filter_map(|p| {
                    Some((p.get("key")?.as_str()?.to_string(), p.get("name")?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default())
}

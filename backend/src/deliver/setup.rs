//! Setting up an integration: its settings and secret checked, the secret put in the secret
//! store (the integration keeps only the secret's name), a test send before saving, the Jira
//! projects the credentials can see, and deleting it with its secret. A webhook's URL and
//! header values are secrets too (tokens ride in them): they go to the secret store, and its
//! settings keep the redacted endpoint and the header names. The console's forms call these.

use crate::deliver::outbound;
use crate::deliver::senders::{self, SendContext, WebhookSecret, headers_of};
use crate::model::{Alert, Integration, IntegrationKind};
use crate::services::Services;
use crate::{Error, Result};

/// The secret store's name for an integration's secret (Secrets Manager allows `/` in names).
pub fn secret_name(user_id: &str, integration_id: &str) -> String {
    format!("mantissa-log/users/{user_id}/integrations/{integration_id}")
}

/// What the secret of a kind is, for the form's label and errors.
pub fn secret_label(kind: IntegrationKind) -> Option<&'static str> {
    match kind {
        IntegrationKind::Slack => Some("incoming webhook URL"),
        IntegrationKind::Jira => Some("API token"),
        IntegrationKind::PagerDuty => Some("Events API v2 routing key"),
        IntegrationKind::Email => Some("SMTP login as user:password (optional)"),
        IntegrationKind::Webhook => Some("value for ${SECRET} in headers (optional)"),
        IntegrationKind::File => None,
    }
}

/// Checks a secret's shape before it is stored; the message never repeats the secret.
pub fn check_secret(kind: IntegrationKind, secret: &str) -> std::result::Result<(), String> {
    let secret = secret.trim();
    match kind {
        IntegrationKind::Slack => match reqwest::Url::parse(secret) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
            _ => {
                Err("slack: the secret is the incoming webhook URL (https://hooks.slack.com/services/...)"
                    .into())
            }
        },
        IntegrationKind::PagerDuty
            if secret.len() < 20 || !secret.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Err("pagerduty: the routing key is the 32-character integration key of an Events API v2 service"
                .into())
        }
        IntegrationKind::Email if !secret.is_empty() && !secret.contains(':') => {
            Err("email: write the SMTP login as user:password".into())
        }
        _ => Ok(()),
    }
}

/// The whole setup checked: settings, and a secret where the kind needs one (a new `secret`,
/// else the one already stored under `integration.secret_ref`).
pub fn check(integration: &Integration, secret: Option<&str>) -> std::result::Result<(), String> {
    if integration.name.trim().is_empty() {
        return Err("name: give the integration a name".into());
    }
    senders::validate(integration.kind, &integration.config)?;
    match secret.filter(|s| !s.trim().is_empty()) {
        Some(s) => check_secret(integration.kind, s),
        None if senders::needs_secret(integration.kind) && integration.secret_ref.is_none() => {
            Err(format!("secret: {} is required", secret_label(integration.kind).unwrap_or("a secret")))
        }
        None => Ok(()),
    }
}

/// Saves the integration; a new secret goes to the secret store first, so a stored
/// integration never names a secret that is not there.
pub async fn save(s: &Services, integration: Integration, secret: Option<&str>) -> Result<Integration> {
    let place = format!("integration `{}`", integration.name);
    check(&integration, secret).map_err(|e| Error::invalid(place, e))?;
    let (mut integration, secret) = effective(s, integration, secret).await?;
    let new_secret = match integration.kind {
        // The merged URL, headers and token: stored whether or not one of them was typed.
        IntegrationKind::Webhook => secret,
        _ => secret.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
    };
    if let Some(secret) = new_secret {
        let name = secret_name(&integration.user_id, &integration.id);
        s.secrets.put_secret(&name, &secret).await?;
        integration.secret_ref = Some(name);
    }
    s.integrations.put_integration(&integration).await?;
    Ok(integration)
}

/// Deletes the integration and then its secret (a crash in between leaves an unused secret,
/// never an integration naming a secret that is gone).
pub async fn delete(s: &Services, user_id: &str, id: &str) -> Result<()> {
    let found = s.integrations.get_integration(user_id, id).await?;
    s.integrations.delete_integration(user_id, id).await?;
    let mut names = vec![secret_name(user_id, id)];
    if let Some(r) = found.and_then(|i| i.secret_ref)
        && !names.contains(&r)
    {
        names.push(r);
    }
    for name in names {
        s.secrets.delete_secret(&name).await?;
    }
    Ok(())
}

/// The integration as it will be stored and the secret to send with: for a webhook, the URL
/// and header values typed (else the stored ones) and the `${SECRET}` value merged into one
/// [`WebhookSecret`], the settings left with the endpoint's host and the header names; for
/// the other kinds, the typed secret (else none: the stored one stays).
async fn effective(
    s: &Services,
    mut integration: Integration,
    typed: Option<&str>,
) -> Result<(Integration, Option<String>)> {
    let typed = typed.map(str::trim).filter(|t| !t.is_empty());
    if integration.kind != IntegrationKind::Webhook {
        return Ok((integration, typed.map(str::to_string)));
    }
    let stored = stored_webhook(s, &integration).await?;
    let config = integration.config.as_object_mut().ok_or_else(|| {
        Error::invalid(format!("integration `{}`", integration.name), "settings must be a JSON object")
    })?;
    let typed_url = config.remove("url").and_then(|v| v.as_str().map(str::trim).map(str::to_string));
    let typed_headers = config.remove("headers");
    let url = typed_url.filter(|u| !u.is_empty()).or_else(|| stored.as_ref().map(|w| w.url.clone()));
    let Some(url) = url else {
        return Err(Error::invalid(
            format!("integration `{}`", integration.name),
            "webhook: `url` is required",
        ));
    };
    let headers = match typed_headers {
        Some(h) => headers_of(&serde_json::json!({ "headers": h })),
        None => stored.as_ref().map(|w| w.headers.clone()).unwrap_or_default(),
    };
    let secret = typed.map(str::to_string).or_else(|| stored.and_then(|w| w.secret));
    config.insert("endpoint".into(), outbound::redact(&url).into());
    config.insert("header_names".into(), headers.keys().cloned().collect::<Vec<_>>().into());
    let merged = WebhookSecret { url, headers, secret };
    let text = serde_json::to_string(&merged).map_err(|e| Error::backend("webhook secret", e))?;
    Ok((integration, Some(text)))
}

/// What is stored for a webhook: the secret store's [`WebhookSecret`], or, for one saved
/// before URLs were secrets, the URL and headers of its stored settings and its secret.
async fn stored_webhook(s: &Services, integration: &Integration) -> Result<Option<WebhookSecret>> {
    let secret = match &integration.secret_ref {
        Some(r) => s.secrets.get_secret(r).await?,
        None => None,
    };
    if let Some(w) = secret.as_deref().and_then(WebhookSecret::parse) {
        return Ok(Some(w));
    }
    let old = s.integrations.get_integration(&integration.user_id, &integration.id).await?;
    Ok(old.and_then(|o| WebhookSecret::from_settings(&o.config, secret.as_deref())))
}

/// The secret to use: the one typed in the form, else the stored one.
async fn secret_for(s: &Services, integration: &Integration, typed: Option<&str>) -> Result<Option<String>> {
    if let Some(t) = typed.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(Some(t.to_string()));
    }
    match &integration.secret_ref {
        Some(r) => s.secrets.get_secret(r).await,
        None => Ok(None),
    }
}

/// Sends `alert` through an integration as set up (saved or not); the HTTP status on success.
pub async fn send_now(
    s: &Services,
    integration: &Integration,
    secret: Option<&str>,
    alert: &Alert,
) -> Result<Option<u16>> {
    let place = format!("test send to `{}`", integration.name);
    check(integration, secret).map_err(|e| Error::invalid(place.clone(), e))?;
    let (integration, secret) = match integration.kind {
        IntegrationKind::Webhook => effective(s, integration.clone(), secret).await?,
        _ => (integration.clone(), secret_for(s, integration, secret).await?),
    };
    let ctx = SendContext::new(s.allowed_hosts.clone());
    match senders::send(&ctx, &integration, secret.as_deref(), alert).await {
        Ok(sent) => Ok(sent.http_status),
        Err(e) => Err(Error::invalid(place, e.message)),
    }
}

/// `(key, name)` of the Jira projects the form's credentials can see.
pub async fn jira_projects(
    s: &Services,
    integration: &Integration,
    token: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let place = "jira projects";
    let token = secret_for(s, integration, token)
        .await?
        .ok_or_else(|| Error::invalid(place, "enter the API token first"))?;
    let ctx = SendContext::new(s.allowed_hosts.clone());
    senders::list_projects(&ctx, &integration.config, &token)
        .await
        .map_err(|e| Error::invalid(place, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use serde_json::json;

    fn webhook(config: serde_json::Value) -> Integration {
        Integration {
            id: "hook".into(),
            user_id: "u".into(),
            kind: IntegrationKind::Webhook,
            name: "hook".into(),
            enabled: true,
            min_severity: Severity::Info,
            config,
            secret_ref: None,
            created_at: chrono::Utc::now(),
        }
    }

    /// A webhook's URL and header values are secrets: the stored settings keep the endpoint's
    /// host and the header names; an edit that leaves them empty keeps the stored ones; deleting
    /// the integration deletes its secret.
    #[tokio::test]
    async fn webhook_tokens_live_in_the_secret_store_and_go_with_the_integration() {
        let dir = tempfile::TempDir::new().unwrap();
        let s = Services::local(dir.path()).await.unwrap();
        let typed = webhook(json!({
            "url": "https://hooks.example.com/T0/tok3n?key=k3y",
            "headers": {"Authorization": "Bearer ${SECRET}", "X-Api-Key": "h3ader"},
            "method": "POST",
        }));
        let saved = save(&s, typed, Some("s3cret")).await.unwrap();
        let stored = s.integrations.get_integration("u", "hook").await.unwrap().unwrap();
        let settings = stored.config.to_string();
        for token in ["tok3n", "k3y", "h3ader", "s3cret", "Bearer"] {
            assert!(!settings.contains(token), "{token} in the settings: {settings}");
        }
        assert_eq!(stored.config["endpoint"], "https://hooks.example.com/…");
        assert_eq!(stored.config["header_names"], json!(["Authorization", "X-Api-Key"]));
        let name = saved.secret_ref.clone().unwrap();
        let secret = WebhookSecret::parse(&s.secrets.get_secret(&name).await.unwrap().unwrap()).unwrap();
        assert_eq!(secret.url, "https://hooks.example.com/T0/tok3n?key=k3y");
        assert_eq!(secret.headers["X-Api-Key"], "h3ader");
        assert_eq!(secret.secret.as_deref(), Some("s3cret"));
        // Changed without retyping the URL, headers or secret: all kept; the method changes.
        let mut edit = webhook(json!({"method": "PUT"}));
        edit.secret_ref = saved.secret_ref.clone();
        save(&s, edit, None).await.unwrap();
        let kept = WebhookSecret::parse(&s.secrets.get_secret(&name).await.unwrap().unwrap()).unwrap();
        assert_eq!(kept, secret);
        assert_eq!(
            s.integrations.get_integration("u", "hook").await.unwrap().unwrap().config["method"],
            "PUT"
        );
        // A new webhook without a URL is refused with the field to fill.
        let mut other = webhook(json!({}));
        other.id = "other".into();
        let e = save(&s, other, None).await.unwrap_err().to_string();
        assert!(e.contains("`url` is required"), "{e}");
        delete(&s, "u", "hook").await.unwrap();
        assert!(s.integrations.get_integration("u", "hook").await.unwrap().is_none());
        assert_eq!(s.secrets.get_secret(&name).await.unwrap(), None, "the secret went with it");
    }

    /// An integration saved before URLs were secrets (URL and headers in its settings) still
    /// sends, and saving it again moves them to the secret store.
    #[tokio::test]
    async fn a_legacy_webhook_moves_its_url_on_the_next_save() {
        let dir = tempfile::TempDir::new().unwrap();
        let s = Services::local(dir.path()).await.unwrap();
        let legacy =
            webhook(json!({"url": "https://hooks.example.com/legacy-t0ken", "headers": {"X-K": "v"}}));
        s.integrations.put_integration(&legacy).await.unwrap();
        let mut edit = webhook(json!({"timeout_secs": 3}));
        edit.secret_ref = None;
        let saved = save(&s, edit, None).await.unwrap();
        let stored = s.integrations.get_integration("u", "hook").await.unwrap().unwrap();
        assert!(!stored.config.to_string().contains("legacy-t0ken"), "{}", stored.config);
        let secret = s.secrets.get_secret(saved.secret_ref.as_deref().unwrap()).await.unwrap().unwrap();
        let secret = WebhookSecret::parse(&secret).unwrap();
        assert_eq!(
            (secret.url.as_str(), secret.headers["X-K"].as_str()),
            ("https://hooks.example.com/legacy-t0ken", "v")
        );
    }
}

//! Setting up an integration: its settings and secret checked, the secret put in the secret
//! store (the integration keeps only the secret's name), a test send before saving, and the
//! Jira projects the credentials can see. The console's setup forms call these.

use crate::deliver::outbound;
use crate::deliver::senders::{self, SendContext};
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
pub async fn save(s: &Services, mut integration: Integration, secret: Option<&str>) -> Result<Integration> {
    check(&integration, secret)
        .map_err(|e| Error::invalid(format!("integration `{}`", integration.name), e))?;
    if let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) {
        let name = secret_name(&integration.user_id, &integration.id);
        s.secrets.put_secret(&name, secret).await?;
        integration.secret_ref = Some(name);
    }
    s.integrations.put_integration(&integration).await?;
    Ok(integration)
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
    let secret = secret_for(s, integration, secret).await?;
    let ctx = SendContext { http: outbound::client(15), allowed_hosts: s.allowed_hosts.clone() };
    match senders::send(&ctx, integration, secret.as_deref(), alert).await {
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
    let ctx = SendContext { http: outbound::client(15), allowed_hosts: s.allowed_hosts.clone() };
    senders::list_projects(&ctx, &integration.config, &token)
        .await
        .map_err(|e| Error::invalid(place, e.message))
}

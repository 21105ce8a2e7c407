//! Sends a test alert through one integration now, outside the queue, so an analyst can check
//! a setup (the CLI's `integrations test` and the console's test-send share it).

use crate::deliver::outbound;
use crate::deliver::senders::{self, SendContext};
use crate::model::Alert;
use crate::services::Services;
use crate::{Error, Result};

/// The HTTP status the endpoint answered (none for the file sink).
pub async fn test_send(s: &Services, user: &str, integration_id: &str) -> Result<Option<u16>> {
    let Some(i) = s.integrations.get_integration(user, integration_id).await? else {
        return Err(Error::NotFound { kind: "integration", id: integration_id.into() });
    };
    let secret = match &i.secret_ref {
        Some(r) => s.secrets.get_secret(r).await?,
        None => None,
    };
    let ctx = SendContext { http: outbound::client(15), allowed_hosts: s.allowed_hosts.clone() };
    match senders::send(&ctx, &i, secret.as_deref(), &test_alert(user)).await {
        Ok(sent) => Ok(sent.http_status),
        Err(e) => Err(Error::invalid(format!("test send to {integration_id}"), e.message)),
    }
}

fn test_alert(user: &str) -> Alert {
    let now = chrono::Utc::now();
    Alert {
        rule_id: "test".into(),
        rule_name: "Mantissa Log test alert".into(),
        summary: "Test alert from Mantissa Log: delivery works".into(),
        description: "Sent as a test from Mantissa Log.".into(),
        ..Alert::by_hand(format!("test-{}", now.timestamp()), user, now)
    }
}

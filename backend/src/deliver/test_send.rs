//! Sends a test alert through one integration now, outside the queue, so an analyst can check
//! a setup (the CLI's `integrations test` and the console's test-send share it).

use crate::deliver::setup;
use crate::model::{Alert, Integration};
use crate::services::Services;
use crate::{Error, Result};

/// The HTTP status the endpoint answered (none for the file sink).
pub async fn test_send(s: &Services, user: &str, integration_id: &str) -> Result<Option<u16>> {
    let Some(i) = s.integrations.get_integration(user, integration_id).await? else {
        return Err(Error::NotFound { kind: "integration", id: integration_id.into() });
    };
    test_setup(s, &i, None).await
}

/// A test alert through an integration as a setup form holds it, saved or not: `secret` is
/// the one typed there, else the stored one is used.
pub async fn test_setup(
    s: &Services,
    integration: &Integration,
    secret: Option<&str>,
) -> Result<Option<u16>> {
    setup::send_now(s, integration, secret, &test_alert(&integration.user_id)).await
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

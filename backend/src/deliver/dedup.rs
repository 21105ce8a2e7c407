//! Dedup keys. The seed hashed `rule_name|severity|summary` and checked, then wrote: a second
//! integration was suppressed by the first, two workers could both pass, a retry suppressed
//! itself, and the summary (which holds the count) rarely repeated. Here the key holds the
//! user and integration, the insert is atomic, the stored value is the alert id (so a retry
//! recognises itself), and rules may key on result fields instead of the summary.

use crate::detect::DeliveryMessage;
use crate::error::Result;
use crate::ports::DedupCache;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

pub fn key(msg: &DeliveryMessage) -> String {
    let a = &msg.alert;
    let digest = Sha256::new()
        .chain_update(format!(
            "{}|{}|{}|{}|{}",
            msg.user_id, msg.integration_id, a.rule_name, a.severity, msg.dedup_basis
        ))
        .finalize();
    hex::encode(digest)
}

/// True when this message should be suppressed: a different alert with the same key is
/// live in the window. A retry of the same alert is never suppressed.
pub async fn is_duplicate(cache: &dyn DedupCache, msg: &DeliveryMessage, now: DateTime<Utc>) -> Result<bool> {
    let key = key(msg);
    let expires = now + Duration::seconds(msg.dedup_window_secs as i64);
    if cache.insert_if_absent(&key, &msg.alert.id, expires).await? {
        return Ok(false);
    }
    Ok(cache.get(&key).await?.is_some_and(|holder| holder != msg.alert.id))
}

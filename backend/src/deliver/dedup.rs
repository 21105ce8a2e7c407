//! Dedup keys. The seed hashed `rule_name|severity|summary` and checked, then wrote: a second
//! integration was suppressed by the first, two workers could both pass, a retry suppressed
//! itself, and the summary (which holds the count) rarely repeated. Here the key holds the
//! user and integration, the insert is atomic, the stored value is the alert id (so a retry
//! recognises itself), and rules may key on result fields instead of the summary.

use crate::detect::DeliveryMessage;
use crate::model::MAX_DEDUP_WINDOW_SECS;
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

/// The dedup claim for a message: its key, held by its alert id until the window ends. A
/// message's window is capped at the longest a rule may ask for (30 days), whatever its body says.
pub fn claim(msg: &DeliveryMessage, now: DateTime<Utc>) -> (String, String, DateTime<Utc>) {
    let secs = msg.dedup_window_secs.min(MAX_DEDUP_WINDOW_SECS) as i64;
    let until = Duration::try_seconds(secs).and_then(|d| now.checked_add_signed(d)).unwrap_or(now);
    (key(msg), msg.alert.id.clone(), until)
}

/// True when the claim found a different alert live under the key. A retry of the same
/// alert finds itself and is never suppressed.
pub fn suppresses(holder: Option<&str>, msg: &DeliveryMessage) -> bool {
    holder.is_some_and(|h| h != msg.alert.id)
}

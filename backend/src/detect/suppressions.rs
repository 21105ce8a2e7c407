//! The user's suppressions, kept as one list in the settings store (`suppressions`), and the
//! check the router makes before delivering: an alert a live suppression holds is stored with
//! why and by whom, and no message goes out. Expired entries stay listed a week, then go.

use crate::error::Result;
use crate::model::suppression::{SuppressedBy, Suppression};
use crate::model::{Alert, Rule};
use crate::services::Services;
use chrono::Duration;

const KEY: &str = "suppressions";
/// How long an expired suppression stays in the list, for the record.
const KEPT_AFTER_EXPIRY_DAYS: i64 = 7;

pub async fn list(s: &Services, user_id: &str) -> Result<Vec<Suppression>> {
    Ok(match s.settings.get_setting(user_id, KEY).await? {
        // An unreadable list is no suppression: alerts are delivered rather than lost.
        Some(v) => serde_json::from_value(v).unwrap_or_default(),
        None => vec![],
    })
}

async fn store(s: &Services, user_id: &str, mut all: Vec<Suppression>) -> Result<()> {
    let now = s.clock.now();
    all.retain(|x| x.until + Duration::days(KEPT_AFTER_EXPIRY_DAYS) > now);
    let value = serde_json::to_value(&all).map_err(|e| crate::Error::backend("suppressions", e))?;
    s.settings.put_setting(user_id, KEY, &value).await
}

pub async fn add(s: &Services, user_id: &str, suppression: Suppression) -> Result<()> {
    let mut all = list(s, user_id).await?;
    all.retain(|x| x.id != suppression.id);
    all.push(suppression);
    store(s, user_id, all).await
}

/// Ends a suppression now (it stays listed as expired); false when there is none by that id.
pub async fn lift(s: &Services, user_id: &str, id: &str) -> Result<bool> {
    let now = s.clock.now();
    let mut all = list(s, user_id).await?;
    let Some(found) = all.iter_mut().find(|x| x.id == id && x.is_live(now)) else { return Ok(false) };
    found.until = now;
    store(s, user_id, all).await?;
    Ok(true)
}

/// The suppression holding `alert` back now, if any: the user's list, then the rule file's.
pub async fn holding(s: &Services, rule: &Rule, alert: &Alert) -> Result<Option<SuppressedBy>> {
    let now = s.clock.now();
    let stored = list(s, &alert.user_id).await?;
    Ok(stored.iter().chain(&rule.suppress).find(|x| x.holds(alert, now)).map(Suppression::stamp))
}

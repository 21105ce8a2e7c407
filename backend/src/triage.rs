//! An analyst's changes to alerts, stored: the triage fields (status, assignee, classification,
//! notes) laid onto the stored alert, so a detection run's new events folded in meanwhile are
//! kept, and one activity-log entry per field changed per alert, with who and when.

use crate::error::Result;
use crate::model::{Alert, changes};
use crate::services::Services;

/// Stores the triage of `alerts` as `who` did it; returns the entries logged.
pub async fn save(s: &Services, user_id: &str, who: &str, alerts: &[Alert]) -> Result<usize> {
    let now = s.clock.now();
    let mut log = vec![];
    for changed in alerts {
        let stored = s.alerts.get_alert(user_id, &changed.id).await?;
        let entries = changes(stored.as_ref(), changed, who, now);
        if entries.is_empty() {
            continue;
        }
        let mut alert = stored.unwrap_or_else(|| changed.clone());
        alert.status = changed.status;
        alert.assignee = changed.assignee.clone();
        alert.classification = changed.classification;
        alert.classification_reason = changed.classification_reason.clone();
        alert.notes = changed.notes.clone();
        // The store keeps attempts apart; an update carries none.
        alert.attempts.clear();
        s.alerts.put_alert(&alert).await?;
        log.extend(entries);
    }
    s.activity.append_activity(user_id, &log).await?;
    Ok(log.len())
}

//! A user's dead letters with their failure reason: the queue's own note where it keeps one
//! (the embedded queue), else the last failed attempt in alert history (SQS keeps no note).

use crate::detect::DeliveryMessage;
use crate::error::Result;
use crate::model::DeliveryStatus;
use crate::ports::DeadLetter;
use crate::services::Services;

pub async fn for_user(s: &Services, user: &str) -> Result<Vec<DeadLetter>> {
    let mut mine: Vec<DeadLetter> = s.queue.dead_letters(user).await?;
    for d in mine.iter_mut().filter(|d| d.last_error.is_none()) {
        let Ok(msg) = serde_json::from_str::<DeliveryMessage>(&d.body) else { continue };
        if msg.user_id != user {
            continue;
        }
        if let Some(alert) = s.alerts.get_alert(user, &msg.alert.id).await? {
            d.last_error = alert
                .attempts
                .iter()
                .rev()
                .filter(|a| a.integration_id == msg.integration_id && a.status != DeliveryStatus::Delivered)
                .find_map(|a| a.error.clone());
        }
    }
    Ok(mine)
}

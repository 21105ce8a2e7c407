//! Reusable drawing pieces: the Arrow results grid, text overlays, pickers and inputs.

pub mod grid;
pub mod input;
pub mod picker;
pub mod popup;
pub mod sql_colors;

use mantissa_backend::model::{Alert, DeliveryStatus};

/// `slack: delivered, webhook: retrying 2/3`: the newest attempt per integration.
pub fn delivery_summary(alert: &Alert) -> String {
    let mut latest: Vec<(&str, String)> = vec![];
    for a in &alert.attempts {
        let text = match a.status {
            DeliveryStatus::Pending => "pending".to_string(),
            DeliveryStatus::Delivered => "delivered".into(),
            DeliveryStatus::Retrying => format!("retrying {}/3", a.attempt),
            DeliveryStatus::Failed => "failed".into(),
            DeliveryStatus::DeadLettered => "DLQ".into(),
            DeliveryStatus::Suppressed => "suppressed".into(),
        };
        match latest.iter_mut().find(|(i, _)| *i == a.integration_id) {
            Some(slot) => slot.1 = text,
            None => latest.push((&a.integration_id, text)),
        }
    }
    latest.iter().map(|(i, t)| format!("{i}: {t}")).collect::<Vec<_>>().join(", ")
}

//! Reusable drawing pieces: the Arrow results grid, text overlays, pickers and inputs.

pub mod form;
pub mod grid;
pub mod highlight;
pub mod input;
pub mod list;
pub mod picker;
pub mod popup;
pub mod sql_colors;
pub mod text;
pub mod text_edit;

use crate::config::theme::Theme;
use mantissa_backend::model::{Alert, DeliveryStatus};
use mantissa_backend::text::neutralize;
use ratatui::text::{Line, Span};

/// The newest attempt per integration, in first-attempt order.
fn latest_attempts(alert: &Alert) -> Vec<(&str, DeliveryStatus, u32)> {
    let mut latest: Vec<(&str, DeliveryStatus, u32)> = vec![];
    for a in &alert.attempts {
        match latest.iter_mut().find(|(i, ..)| *i == a.integration_id) {
            Some(slot) => (slot.1, slot.2) = (a.status, a.attempt),
            None => latest.push((&a.integration_id, a.status, a.attempt)),
        }
    }
    latest
}

/// What a delivery state is called: in full, or in a few letters for narrow terminals.
fn state_word(status: DeliveryStatus, attempt: u32, short: bool) -> String {
    match (status, short) {
        (DeliveryStatus::Pending, false) => "pending".into(),
        (DeliveryStatus::Pending, true) => "wait".into(),
        (DeliveryStatus::Delivered, false) => "delivered".into(),
        (DeliveryStatus::Delivered, true) => "ok".into(),
        (DeliveryStatus::Retrying, false) => format!("retrying {attempt}/3"),
        (DeliveryStatus::Retrying, true) => format!("r{attempt}/3"),
        (DeliveryStatus::Failed, false) => "failed".into(),
        (DeliveryStatus::Failed, true) => "fail".into(),
        (DeliveryStatus::DeadLettered, _) => "DLQ".into(),
        (DeliveryStatus::Suppressed, false) => "suppressed".into(),
        (DeliveryStatus::Suppressed, true) => "dup".into(),
    }
}

/// `slack: delivered, webhook: retrying 2/3`: the newest attempt per integration.
pub fn delivery_summary(alert: &Alert) -> String {
    latest_attempts(alert)
        .iter()
        .map(|(i, status, attempt)| format!("{i}: {}", state_word(*status, *attempt, false)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The delivery cell of the alerts list, each state in its health colour; `short` words and
/// names cut to 14 characters where the terminal is narrow (`soc-webhook r2/3`).
pub fn delivery_line(alert: &Alert, theme: &Theme, short: bool) -> Line<'static> {
    let mut spans = vec![];
    for (n, (integration, status, attempt)) in latest_attempts(alert).into_iter().enumerate() {
        if n > 0 {
            spans.push(Span::raw(if short { " " } else { ", " }));
        }
        let name = neutralize(integration);
        let name = match name.chars().count() {
            c if short && c > 14 => format!("{}…", name.chars().take(13).collect::<String>()),
            _ => name.into_owned(),
        };
        let style = match status {
            DeliveryStatus::Delivered => theme.ok(),
            DeliveryStatus::Pending | DeliveryStatus::Retrying => theme.warning(),
            DeliveryStatus::Failed | DeliveryStatus::DeadLettered => theme.error(),
            DeliveryStatus::Suppressed => theme.muted(),
        };
        spans.push(Span::raw(if short { format!("{name} ") } else { format!("{name}: ") }));
        spans.push(Span::styled(state_word(status, attempt, short), style));
    }
    Line::from(spans)
}

//! The detection Lambda: EventBridge fires it with the target input `{"rule_id", "user_id"}`
//! (or an event whose `detail` carries them); it runs the rule and routes its alert to SQS.

use crate::detect::{Fired, fire};
use crate::error::{Error, Result};
use crate::services::Services;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DetectionInput {
    pub rule_id: String,
    pub user_id: String,
}

/// The rule to run: the target's constant input, or an EventBridge event's `detail`.
pub fn parse_input(event: &serde_json::Value) -> Result<DetectionInput> {
    let from = |v: &serde_json::Value| serde_json::from_value::<DetectionInput>(v.clone()).ok();
    from(event).or_else(|| event.get("detail").and_then(from)).ok_or_else(|| {
        Error::invalid(
            "detection event",
            "expected {\"rule_id\", \"user_id\"} as the EventBridge target input (or in `detail`)",
        )
    })
}

pub async fn handle(s: &Services, event: serde_json::Value) -> Result<Fired> {
    let input = parse_input(&event)?;
    let rule = s.rules.get_rule(&input.user_id, &input.rule_id).await?.ok_or_else(|| Error::NotFound {
        kind: "rule",
        id: format!("{}/{}", input.user_id, input.rule_id),
    })?;
    if !rule.enabled {
        tracing::info!(rule_id = %rule.id, user_id = %input.user_id, "rule disabled; not run");
        return Ok(Fired::new(&rule.id, s.clock.now(), None));
    }
    let fired = fire(s, &input.user_id, &rule, s.clock.now()).await;
    match &fired.error {
        // Returned as the invocation's error, so EventBridge's async retry runs it again (the
        // same window, the same alert ids: nothing doubles).
        Some(e) => {
            tracing::warn!(rule_id = %fired.rule_id, error = %e, "detection run failed");
            Err(Error::backend("detection run", format!("rule {}: {e}", fired.rule_id)))
        }
        None => {
            tracing::info!(rule_id = %fired.rule_id, alerts = ?fired.alert_ids, "detection run");
            Ok(fired)
        }
    }
}

//! Integration health: per integration over the last 24 hours, attempts, delivered, failed,
//! success rate, state (>= 95 % healthy, >= 80 % degraded, else unhealthy; none: unknown),
//! p50/p95 latency and the last error.

use crate::error::Result;
use crate::model::{DeliveryAttempt, DeliveryStatus, HealthState, HealthStatus};
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};

/// The setting the computed health is stored under.
pub const HEALTH_SETTING: &str = "integration_health";

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Health of one integration from its attempts (pending and suppressed ones do not count).
pub fn compute(integration_id: &str, attempts: &[&DeliveryAttempt], now: DateTime<Utc>) -> HealthStatus {
    let counted: Vec<&&DeliveryAttempt> = attempts
        .iter()
        .filter(|a| !matches!(a.status, DeliveryStatus::Pending | DeliveryStatus::Suppressed))
        .collect();
    let delivered = counted.iter().filter(|a| a.status == DeliveryStatus::Delivered).count() as u64;
    let total = counted.len() as u64;
    let rate = (total > 0).then(|| delivered as f64 / total as f64);
    let mut latencies: Vec<u64> = counted.iter().filter_map(|a| a.latency_ms).collect();
    latencies.sort_unstable();
    let last_error = counted.iter().rev().find_map(|a| a.error.clone());
    HealthStatus {
        integration_id: integration_id.to_string(),
        attempts: total,
        delivered,
        failed: total - delivered,
        success_rate: rate,
        state: HealthState::from_rate(rate),
        p50_latency_ms: percentile(&latencies, 50.0),
        p95_latency_ms: percentile(&latencies, 95.0),
        last_error,
        computed_at: now,
    }
}

/// The health last stored (by the health Lambda on AWS, `serve` locally); none before the
/// first computation.
pub async fn stored(s: &Services, user: &str) -> Result<Vec<HealthStatus>> {
    let Some(value) = s.settings.get_setting(user, HEALTH_SETTING).await? else { return Ok(vec![]) };
    serde_json::from_value(value).map_err(|e| crate::Error::backend("stored integration_health", e))
}

/// Health of each of the user's integrations, stored in settings as `integration_health`.
pub async fn refresh(s: &Services, user: &str) -> Result<Vec<HealthStatus>> {
    let now = s.clock.now();
    let attempts = s.alerts.attempts_since(user, now - Duration::hours(24)).await?;
    let mut out = vec![];
    for i in s.integrations.list_integrations(user).await? {
        let mine: Vec<&DeliveryAttempt> = attempts.iter().filter(|a| a.integration_id == i.id).collect();
        out.push(compute(&i.id, &mine, now));
    }
    let value = serde_json::to_value(&out).map_err(|e| crate::Error::backend("health", e))?;
    s.settings.put_setting(user, HEALTH_SETTING, &value).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: DeliveryStatus, latency: u64) -> DeliveryAttempt {
        DeliveryAttempt {
            integration_id: "i".into(),
            attempt: 1,
            at: Utc::now(),
            status,
            latency_ms: Some(latency),
            http_status: None,
            error: (status != DeliveryStatus::Delivered).then(|| format!("failed after {latency}")),
            retry_in_secs: None,
        }
    }

    #[test]
    fn rates_states_and_latency() {
        let mut v: Vec<DeliveryAttempt> =
            (1..=19).map(|i| attempt(DeliveryStatus::Delivered, i * 10)).collect();
        v.push(attempt(DeliveryStatus::Retrying, 1000));
        v.push(attempt(DeliveryStatus::Pending, 0));
        v.push(attempt(DeliveryStatus::Suppressed, 0));
        let refs: Vec<&DeliveryAttempt> = v.iter().collect();
        let h = compute("i", &refs, Utc::now());
        assert_eq!((h.attempts, h.delivered, h.failed), (20, 19, 1));
        assert_eq!(h.success_rate, Some(0.95));
        assert_eq!(h.state, HealthState::Healthy);
        assert_eq!(h.p50_latency_ms, Some(100));
        assert_eq!(h.p95_latency_ms, Some(190));
        assert_eq!(h.last_error.as_deref(), Some("failed after 1000"));

        let bad: Vec<DeliveryAttempt> = (0..5).map(|_| attempt(DeliveryStatus::Failed, 5)).collect();
        let refs: Vec<&DeliveryAttempt> = bad.iter().collect();
        assert_eq!(compute("i", &refs, Utc::now()).state, HealthState::Unhealthy);
        assert_eq!(compute("i", &[], Utc::now()).state, HealthState::Unknown);
    }
}

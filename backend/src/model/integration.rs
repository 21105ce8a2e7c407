//! Integrations (where alerts go) and their delivery health.

use super::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationKind {
    Slack,
    Jira,
    PagerDuty,
    Email,
    Webhook,
    File,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Integration {
    pub id: String,
    pub user_id: String,
    pub kind: IntegrationKind,
    pub name: String,
    pub enabled: bool,
    /// Alerts below this severity are not sent here.
    pub min_severity: Severity,
    /// Non-secret settings (project key, channel, URL host...); secrets live in the SecretStore.
    pub config: serde_json::Value,
    /// Name of the secret in the SecretStore, never the secret itself.
    pub secret_ref: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Integration {
    pub fn admits(&self, severity: Severity) -> bool {
        self.enabled && severity >= self.min_severity
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Healthy,
    Degraded,
    Unhealthy,
    Unknown,
}

impl HealthState {
    /// >= 95 % healthy, >= 80 % degraded, else unhealthy; no attempts: unknown.
    pub fn from_rate(success_rate: Option<f64>) -> Self {
        match success_rate {
            None => HealthState::Unknown,
            Some(r) if r >= 0.95 => HealthState::Healthy,
            Some(r) if r >= 0.80 => HealthState::Degraded,
            Some(_) => HealthState::Unhealthy,
        }
    }
}

/// Delivery health of one integration over the last 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthStatus {
    pub integration_id: String,
    pub attempts: u64,
    pub delivered: u64,
    pub failed: u64,
    pub success_rate: Option<f64>,
    pub state: HealthState,
    pub p50_latency_ms: Option<u64>,
    pub p95_latency_ms: Option<u64>,
    pub last_error: Option<String>,
    pub computed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_thresholds() {
        assert_eq!(HealthState::from_rate(None), HealthState::Unknown);
        assert_eq!(HealthState::from_rate(Some(1.0)), HealthState::Healthy);
        assert_eq!(HealthState::from_rate(Some(0.95)), HealthState::Healthy);
        assert_eq!(HealthState::from_rate(Some(0.949)), HealthState::Degraded);
        assert_eq!(HealthState::from_rate(Some(0.80)), HealthState::Degraded);
        assert_eq!(HealthState::from_rate(Some(0.79)), HealthState::Unhealthy);
    }
}

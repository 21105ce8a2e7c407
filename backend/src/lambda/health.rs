//! The health monitor Lambda (scheduled): integration health over 24 h for every user with
//! integrations, stored in user settings, plus the queue and DLQ depth.

use crate::deliver::health;
use crate::error::Result;
use crate::model::HealthState;
use crate::services::Services;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct HealthReport {
    pub users: usize,
    pub integrations: usize,
    pub unhealthy: Vec<String>,
    pub queued: u64,
    pub dead_letters: u64,
}

pub async fn handle(s: &Services) -> Result<HealthReport> {
    let users = s.integrations.integration_users().await?;
    let mut report =
        HealthReport { users: users.len(), integrations: 0, unhealthy: vec![], queued: 0, dead_letters: 0 };
    for user in &users {
        for h in health::refresh(s, user).await? {
            report.integrations += 1;
            if h.state == HealthState::Unhealthy {
                report.unhealthy.push(format!("{user}/{}", h.integration_id));
            }
        }
    }
    let depth = s.queue.depth().await?;
    (report.queued, report.dead_letters) = (depth.queued, depth.dead);
    tracing::info!(
        users = report.users,
        integrations = report.integrations,
        unhealthy = report.unhealthy.len(),
        queued = report.queued,
        dead_letters = report.dead_letters,
        "health"
    );
    Ok(report)
}

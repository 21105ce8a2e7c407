//! Query jobs as the console sees them: state and live statistics, including what the same
//! scan would cost on Athena.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueryId(pub String);

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum QueryState {
    Queued,
    Running,
    Succeeded,
    Failed(String),
    Cancelled,
}

impl QueryState {
    pub fn is_terminal(&self) -> bool {
        matches!(self, QueryState::Succeeded | QueryState::Failed(_) | QueryState::Cancelled)
    }

    pub fn label(&self) -> &'static str {
        match self {
            QueryState::Queued => "QUEUED",
            QueryState::Running => "RUNNING",
            QueryState::Succeeded => "SUCCEEDED",
            QueryState::Failed(_) => "FAILED",
            QueryState::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryStats {
    pub elapsed_ms: u64,
    pub queue_ms: u64,
    pub bytes_scanned: u64,
    pub rows: u64,
    /// Data files the plan reads after partition pruning (the embedded lake knows; Athena
    /// does not say).
    pub files_scanned: Option<u64>,
}

impl QueryStats {
    pub fn estimated_cost_usd(&self) -> f64 {
        athena_cost_usd(self.bytes_scanned)
    }
}

/// Athena's price for a scan: USD 5 per TB (2^40 bytes), rounded up to whole megabytes, with
/// a 10 MB minimum per query.
pub fn athena_cost_usd(bytes_scanned: u64) -> f64 {
    const MB: u64 = 1 << 20;
    const MB_PER_TB: f64 = (1u64 << 20) as f64;
    let mb = bytes_scanned.div_ceil(MB).max(10);
    mb as f64 * 5.0 / MB_PER_TB
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStatus {
    pub id: QueryId,
    pub state: QueryState,
    pub stats: QueryStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_has_ten_megabyte_minimum() {
        let ten_mb = 10.0 * 5.0 / (1u64 << 20) as f64;
        assert_eq!(athena_cost_usd(0), ten_mb);
        assert_eq!(athena_cost_usd(1), ten_mb);
        assert_eq!(athena_cost_usd(10 << 20), ten_mb);
        // One byte over 10 MB rounds up to 11 MB.
        assert_eq!(athena_cost_usd((10 << 20) + 1), 11.0 * 5.0 / (1u64 << 20) as f64);
        assert_eq!(athena_cost_usd(1 << 40), 5.0);
    }

    #[test]
    fn terminal_states() {
        assert!(!QueryState::Running.is_terminal());
        assert!(QueryState::Failed("x".into()).is_terminal());
        assert!(QueryState::Cancelled.is_terminal());
    }
}

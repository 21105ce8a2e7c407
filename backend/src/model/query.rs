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

    /// `38.3 KB scanned`; a query the engine answered from the files' statistics (a plain
    /// `count(*)`, a `max`) reads no data at all, and says so rather than a bare `0 B`.
    pub fn scanned(&self) -> String {
        match (self.bytes_scanned, self.files_scanned) {
            (0, Some(0)) if self.rows > 0 => "0 B scanned (answered from file statistics)".into(),
            (bytes, _) => format!("{} scanned", human_bytes(bytes)),
        }
    }
}

/// `38.3 KB`, `1.20 GB`: bytes for people, in powers of 1024.
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 40 => format!("{:.2} TB", b as f64 / (1u64 << 40) as f64),
        b if b >= 1 << 30 => format!("{:.2} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
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
    fn a_query_answered_from_statistics_says_so() {
        let mut s =
            QueryStats { elapsed_ms: 1, queue_ms: 0, bytes_scanned: 0, rows: 1, files_scanned: Some(0) };
        assert_eq!(s.scanned(), "0 B scanned (answered from file statistics)");
        s.rows = 0;
        assert_eq!(s.scanned(), "0 B scanned");
        (s.bytes_scanned, s.files_scanned) = (39_219, Some(1));
        assert_eq!(s.scanned(), "38.3 KB scanned");
        assert_eq!(human_bytes(3 << 30), "3.00 GB");
    }

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

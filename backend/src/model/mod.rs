//! The domain: rules, alerts, cases, integrations, query statistics, schedules and the lake's
//! table schemas. Free of SQLite and AWS SDK types; adapters translate at the edge.

mod activity;
mod alert;
mod case;
mod integration;
pub mod metric;
mod query;
mod rule;
pub mod schedule;
pub mod settings;
mod severity;
pub mod suppression;
pub mod tables;
pub mod window;

pub use activity::{Activity, ActivityKind, Classification, changes, judgement_text, status_name};
pub use alert::{Alert, AlertEvent, AlertStatus, DeliveryAttempt, DeliveryStatus, MAX_SAMPLE_ROWS};
pub use case::{Case, CaseStatus, MAX_CASE_ALERTS, MAX_TITLE_CHARS, case_changes};
pub use integration::{HealthState, HealthStatus, Integration, IntegrationKind};
pub use query::{QueryId, QueryState, QueryStats, QueryStatus, athena_cost_usd, human_bytes};
pub use rule::{
    DEFAULT_DEDUP_WINDOW_SECS, DedupSpec, MAX_DEDUP_WINDOW_SECS, MAX_NOTIFY_EVERY, MAX_THRESHOLD, Notify,
    Rule, RunStatus, Threshold, ThresholdKind,
};
pub use schedule::Schedule;
pub use severity::Severity;
pub use tables::Table;
pub use window::RunWindow;

/// Every record belongs to one user; stores take it on every call.
pub type UserId = String;

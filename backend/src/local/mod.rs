//! The embedded backend: DataFusion over a local Parquet lake, SQLite for state, in-process
//! queue, secrets file and scheduler. What `cargo run --release` uses.

pub mod bloom_prune;
pub mod dialect;
pub mod distinct_rule;
pub mod lake;
pub mod lock;
pub mod private;
pub mod query_engine;
pub mod queue;
pub mod secrets;
pub mod store;
pub mod udf;

pub use lake::Lake;
pub use lock::SchedulerLock;
pub use query_engine::LocalQueryEngine;
pub use secrets::FileSecretStore;
pub use store::Db;

/// What every DataFusion session of ours gets on top of DataFusion's own: Trino's functions
/// and the plan rules (the local lake, the S3 lake, the planning session of rule checks).
pub fn extend_session(ctx: &datafusion::prelude::SessionContext) {
    udf::register_trino_functions(ctx);
    ctx.add_optimizer_rule(std::sync::Arc::new(distinct_rule::DistinctBesideCount));
}

//! The embedded backend: DataFusion over a local Parquet lake, SQLite for state, in-process
//! queue, secrets file and scheduler. What `cargo run --release` uses.

pub mod bloom_prune;
pub mod dialect;
pub mod dict_count;
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

/// A DataFusion session of ours: DataFusion's own with Trino's functions and the plan rules
/// (the local lake, the S3 lake, the planning session of rule checks).
pub fn new_session(
    config: datafusion::prelude::SessionConfig,
    runtime: std::sync::Arc<datafusion::execution::runtime_env::RuntimeEnv>,
) -> datafusion::prelude::SessionContext {
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rule(std::sync::Arc::new(dict_count::DictionaryCount))
        .build();
    let ctx = datafusion::prelude::SessionContext::new_with_state(state);
    udf::register_trino_functions(&ctx);
    ctx.add_optimizer_rule(std::sync::Arc::new(distinct_rule::DistinctBesideCount));
    ctx
}

/// The file scan `plan` is, when it is DataFusion's scan of files (what the plan rules and the
/// query statistics look into).
pub fn file_scan(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Option<&datafusion::datasource::physical_plan::FileScanConfig> {
    let plan: &dyn std::any::Any = plan.as_ref();
    let source: &dyn std::any::Any =
        plan.downcast_ref::<datafusion::datasource::source::DataSourceExec>()?.data_source().as_ref();
    source.downcast_ref()
}

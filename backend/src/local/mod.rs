//! The embedded backend: DataFusion over a local Parquet lake, SQLite for state, in-process
//! queue, secrets file and scheduler. What `cargo run --release` uses.

pub mod dialect;
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

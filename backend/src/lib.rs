//! Mantissa Log's backend: the domain model, the ports, the embedded (local) backend, log
//! ingest and demo data. The console, the CLI and the Lambdas all call into this crate.

/// The allocator of every program built on this crate (console, Lambdas, tests, benches): the
/// lake bench measured glibc's malloc at a quarter of a 90-day scan's time, in many small
/// allocations freed across threads; mimalloc is what DataFusion's own CLI uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod assist;
pub mod aws;
pub mod cases;
pub mod clock;
pub mod deliver;
pub mod demo;
pub mod detect;
pub mod error;
pub mod ingest;
pub mod lambda;
pub mod local;
pub mod model;
pub mod ports;
pub mod query;
pub mod rules;
pub mod services;
pub mod settings;
pub mod sql_problem;
pub mod text;
pub mod timeline;
pub mod triage;

pub use error::{Error, Result};

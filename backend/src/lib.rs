//! Mantissa Log's backend: the domain model, the ports, the embedded (local) backend, log
//! ingest and demo data. The console, the CLI and the Lambdas all call into this crate.

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

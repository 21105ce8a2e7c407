//! Delivery: the worker that takes routed alerts off the queue, deduplicates, sends through
//! the integration, records every attempt and retries with backoff into the DLQ; integration
//! health over 24 hours; the outbound URL policy.

pub mod dead_letters;
pub mod dedup;
pub mod health;
pub mod outbound;
pub mod senders;
pub mod setup;
pub mod test_send;
pub mod worker;

pub use worker::{DeliveryWorker, Verdict, backoff_secs};

//! Sigma import: every modifier, condition form, aggregation and correlation, the errors,
//! and the sample rules. One test binary, so the crate links once.

mod aggregation;
mod common;
mod conditions;
mod correlation;
mod errors;
mod modifiers;
mod samples;
mod sliding;

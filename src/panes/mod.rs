//! The six panes. Each is a [`Component`]: it takes the actions the keymap names, applies job
//! replies, and draws itself without changing; the frame around them is `app::frame`.

pub mod alerts;
pub mod cases;
mod coverage;
mod detail;
pub mod dlq;
mod hunt;
pub mod integrations;
pub mod ledger;
pub mod query;
pub mod rule_editor;
pub mod rules;
pub mod setup;

pub use crate::component::{Component, Pane};

#[cfg(test)]
mod tests;

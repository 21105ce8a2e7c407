//! The Mantissa Log console and command-line tools as a library, so the binary, the
//! end-to-end tests and the console benchmark drive the same code.

pub mod app;
pub mod cli;
pub mod commands;
pub mod component;
pub mod config;
pub mod export;
pub mod panes;
pub mod widgets;

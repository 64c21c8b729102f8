//! # scaikey
//!
//! The ScaiKey server: reads configuration ([`settings`]), wires the persistence, crypto and HTTP
//! adapters to the application services ([`server`]), and runs `serve`, `migrate` or `openapi`.
//! The library half exists so the testkit can start the same server in-process.
//!
//! Depends on every other ScaiKey crate; nothing depends on it but the testkit.

pub mod server;
pub mod settings;

pub use server::{Started, start};
pub use settings::Settings;

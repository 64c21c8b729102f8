//! # scaikey-http
//!
//! The actix-web adapter: routes for the admin API, auth and well-known documents; extractors
//! that turn a bearer token into a [`scaikey_domain::principal::Principal`], parse JSON bodies and
//! list queries into the contract's 422 shape; the one mapping of service errors to HTTP; and the
//! OpenAPI document; Prometheus metrics (`metrics`).
//!
//! May depend on `scaikey-app` (services) and `scaikey-domain` (types); never on persistence or
//! crypto adapters, which reach it only as trait objects inside the services.

pub mod audit_writes;
pub mod cors;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;

pub use routes::configure;
/// The wire types (moved to their own crate, shared with the MCP server).
pub use scaikey_dto as dto;
pub use state::AppState;

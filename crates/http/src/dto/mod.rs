//! Wire types (serde + OpenAPI schemas). Domain types stay free of serde; these convert.

pub mod apps;
pub mod audit;
pub mod auth;
pub mod common;
pub mod federation;
pub mod keys;
pub mod partners;
pub mod schema;
pub mod tenants;
pub mod users;

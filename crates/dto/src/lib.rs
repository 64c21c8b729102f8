//! # scaikey-dto
//!
//! ScaiKey's wire types: the JSON shapes of its resources (serde + OpenAPI schemas), shared by
//! the inbound adapters that speak JSON — the REST API (`scaikey-http`) and the MCP server
//! (`scaikey-mcp`) — so a user is the same document in both. Domain types stay free of serde;
//! these convert. No rule lives here.
//!
//! May depend on the domain and app crates (for their types), serde and utoipa.

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

/// `Option<Option<T>>` for PATCH fields: absent → `None`, `null` → `Some(None)`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

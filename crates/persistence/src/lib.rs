//! # scaikey-persistence
//!
//! The PostgreSQL adapter: diesel + diesel-async implementations of the repository ports of
//! `scaikey-app`, a deadpool connection pool, and the migrations of `migrations/` embedded in the
//! binary. Every write method runs its change and its audit record in one transaction.
//!
//! May depend on `scaikey-domain`, `scaikey-app`, diesel and tokio; never on the HTTP layer.

mod applications;
mod audit;
mod audit_log;
mod auth;
mod batches;
mod cutoffs;
mod db;
mod error;
mod federated;
mod federation;
mod grants;
mod groups;
mod keys;
mod list_page;
mod mail_links;
mod mfa;
mod partners;
mod passkeys;
mod prepared;
mod registrations;
mod rotations;
pub mod schema;
mod sessions;
mod tenants;
mod users;
mod uuid_ids;
mod visible;

pub use audit_log::AuditWriter;
pub use db::{Database, DbConfig, MIGRATIONS, ensure_database, migrate, redact, split_db_url};

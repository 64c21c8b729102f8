//! # scaikey-app
//!
//! Application services (one per resource family) and the **port traits** they drive:
//! repositories, clock, ID generator, password hasher and token signer/verifier. A service
//! checks access with the domain's rules, validates with the domain's constructors, and hands a
//! whole write (the change and its audit record) to one repository call, which adapters run in
//! one database transaction.
//!
//! May depend on `scaikey-domain` and small pure crates; never on a web framework or database
//! driver. Services are unit-tested with `mockall` mocks of the ports (feature `mock`).

pub mod account;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod built_in;
pub mod client_cache;
pub mod console;
pub mod context;
pub mod error;
pub mod federation;
pub mod groups;
pub mod keys;
pub mod mail_links;
pub mod mcp;
pub mod mfa;
pub mod oauth;
pub mod oidc;
pub mod page;
pub mod partners;
pub mod ports;
pub mod refusals;
pub mod registrations;
pub mod revocation;
mod sealed;
pub mod sessions;
mod sync;
pub mod tenants;
pub mod throttle;
pub mod users;

#[cfg(test)]
mod test_support;

pub use context::RequestContext;
pub use error::{AppError, RepoError};

//! Port traits: what the services need from the outside world, one module per area, all
//! re-exported here. Adapters implement them (`scaikey-persistence`, `scaikey-crypto`,
//! `scaikey-mail`, `scaikey-upstream`, `scaikey-saml`); tests use the `mockall` mocks generated
//! here. What every repository port keeps unless a method's doc says otherwise:
//! - a write and its audit record run in one transaction: both are stored or neither;
//! - "live" means not soft-deleted; `None` or `false` means no live record had the ID, and
//!   nothing was written;
//! - errors: `Unavailable` when the database cannot be reached (the API answers 503),
//!   `Duplicate(field)` on a unique clash, `MissingReference(field)` when a referenced record is
//!   not live, `Unknown` for anything else (a 500);
//! - a repository decides no rule of the contract: it stores what a service decided and reads
//!   the facts a domain rule needs, under the locks that keep those facts true until it writes.

pub mod cimd;
pub mod federation;
pub mod keys;
pub mod mail;
pub mod mfa;
pub mod oidc;
pub mod passkeys;

mod applications;
mod audit;
mod auth;
mod directory;
mod providers;
mod system;
mod tenancy;

pub use applications::*;
pub use audit::*;
pub use auth::*;
pub use directory::*;
pub use providers::*;
pub use system::*;
pub use tenancy::*;

pub use ulid;

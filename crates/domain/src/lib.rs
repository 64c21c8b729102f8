//! # scaikey-domain
//!
//! The pure core of ScaiKey: typed IDs, principals and roles, the access rules (contract §5),
//! input validation, tenant settings and password policy, partner limits, and the registration
//! request state machine (contract §6).
//!
//! **Architecture invariant:** this crate does no I/O. It depends only on small pure crates
//! (`ulid`, `chrono`, `serde_json` for settings values, `validator` for e-mail syntax, `thiserror`)
//! and never on an async runtime, a database driver or a web framework. CI checks this with
//! `cargo tree`. Its types are not serializable on purpose: wire formats live in the HTTP adapter.
//!
//! ```
//! use scaikey_domain::access::{can, Action, Decision, Target, Owner};
//! use scaikey_domain::principal::{Principal, UserPrincipal};
//! use scaikey_domain::role::{Role, Roles};
//! use scaikey_domain::id::{TenantId, UserId, SessionId};
//!
//! let tenant = TenantId::generate_from(ulid::Ulid::from_parts(1, 1));
//! let admin = Principal::User(UserPrincipal {
//!     user_id: UserId::generate_from(ulid::Ulid::from_parts(1, 2)),
//!     session_id: SessionId::generate_from(ulid::Ulid::from_parts(1, 3)),
//!     tenant_id: Some(tenant),
//!     partner_id: None,
//!     roles: Roles::from_iter([Role::TenantAdmin]),
//! });
//! // A tenant admin reads its own tenant but may not change the tenant record.
//! let own = Owner::Tenant { tenant, partner: None };
//! assert_eq!(can(&admin, Action::Read, Target::TenantRecord(&own)), Decision::Allow);
//! assert!(can(&admin, Action::Write, Target::TenantRecord(&own)).is_forbidden());
//! ```

pub mod access;
pub mod application;
pub mod audit;
pub mod cimd;
pub mod client_ip;
pub mod dcr;
pub mod delegation;
pub mod federated;
pub mod federation;
pub mod group;
pub mod id;
pub mod limits;
pub mod mail_link;
pub mod mcp;
pub mod mfa;
pub mod oauth_scope;
pub mod oidc;
pub mod partner;
pub mod password;
pub mod principal;
pub mod registration;
pub mod role;
pub mod scope;
pub mod status;
pub mod tenant;
pub mod throttle;
pub mod token_cutoff;
pub mod user;
pub mod validation;

#[cfg(test)]
mod test_fixtures;

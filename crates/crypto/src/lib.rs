//! # scaikey-crypto
//!
//! Cryptography adapters for the ports of `scaikey-app`:
//! - [`jwt::JwtCodec`]: access tokens as JWTs (ES256 by default, RS256 by config) with a `kid`,
//!   and the JWKS document;
//! - [`keys`]: signing key generation and their sealed storage form;
//! - [`keyring::Keyring`]: the process's current keys (reloaded when they change in the database),
//!   signing, verification, the JWKS and rotation;
//! - [`master::MasterKey`]: AES-256-GCM envelope for secrets at rest;
//! - [`password::Argon2Hasher`]: Argon2id at the OWASP parameters on hashing threads of its own;
//! - [`passkeys::WebauthnCeremonies`]: the WebAuthn relying party of passkeys (`webauthn-rs`).
//!
//! May depend on `scaikey-domain`, `scaikey-app` and crypto crates (ring, jsonwebtoken, argon2,
//! rsa, webauthn-rs); never on the HTTP layer or the database driver.

pub mod jwt;
pub mod keyring;
pub mod keys;
pub mod master;
pub mod passkeys;
pub mod password;
pub mod secrets;

//! # scaikey-verifier
//!
//! Accept ScaiKey access tokens in a service of your own. A token is an RFC 9068 JWT signed by
//! one of the keys ScaiKey publishes at `/.well-known/jwks.json`; this crate checks it (`typ`,
//! an allowed `alg` matching the key, the signature, `iss`, `aud` = your service's resource,
//! `exp`/`nbf` with a small leeway) and hands you the domain's [`Principal`] with the granted
//! scopes, tenant and `act` chain, so your service then asks
//! [`scaikey_domain::access::can`] or checks its own scopes.
//!
//! - [`verify`] with a [`KeySet`] and a [`Policy`]: pure, no I/O (ScaiKey itself verifies its
//!   tokens this way).
//! - `Verifier` (feature `remote`): finds the JWKS by discovery, caches it, fetches it again on
//!   an unknown `kid` (at most once per interval, so forged tokens cannot flood the issuer) and
//!   keeps keys through rotations; optionally asks RFC 7662 introspection so revoked tokens are
//!   refused at once.
//! - `actix::Bearer` (feature `actix`): an actix-web extractor.
//! - `tower::VerifyLayer` (feature `tower`): a tower layer for axum, tonic or hyper.
//! - [`VerifyError`]: every refusal with its RFC 6750 status and `WWW-Authenticate` challenge.
//!
//! Depends on `scaikey-domain` (for [`Principal`]) and `jsonwebtoken`; the features add reqwest
//! and tokio, actix-web, or tower. It never depends on the rest of ScaiKey.
//!
//! ## With a running ScaiKey
//!
//! ```no_run
//! # #[cfg(feature = "remote")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use scaikey_verifier::Verifier;
//! // The issuer as ScaiKey's discovery names it, and the resource this service answers to
//! // (an application asks for it with `resource=` and must list it in `allowed_resources`).
//! let verifier = Verifier::builder("https://id.example.com", "https://reports.example.com").discover().await?;
//! let token = verifier.verify_header(Some("Bearer eyJ...")).await?;
//! token.require_scopes(&["reports:read"])?;
//! # Ok(()) }
//! ```
//!
//! ## The checks, offline
//!
//! ```
//! use scaikey_domain::access::{can, Action, Decision, Owner, Target};
//! use scaikey_verifier::{KeySet, Policy, VerifyError, verify};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = serde_json::json!({"keys": [{
//!     "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "k1",
//!     "x": "nTPyP836ULnDUaBvkwaOtXztDFkz75_4QtNqWs68-9E",
//!     "y": "hYKF3CUce6_unSWQooqLv3xeecvwrblSYX24sMV02tM",
//! }]});
//! let keys = KeySet::from_jwks(&jwks)?;
//! let policy = Policy::new("https://id.example.com", "https://reports.example.com");
//! # let token = sample::token("https://reports.example.com", 300);
//! # let foreign = sample::token("https://billing.example.com", 300);
//! # let expired = sample::token("https://reports.example.com", -60);
//!
//! // A tenant admin's token for this service, with the scope `reports:read`.
//! let t = verify(&keys, &policy, &token)?;
//! assert!(t.has_scope("reports:read"));
//! assert!(t.require_scopes(&["reports:write"]).is_err());
//! let tenant = t.tenant_id.expect("a tenant user");
//! let own = Owner::Tenant { tenant, partner: None };
//! assert_eq!(can(&t.principal, Action::Read, Target::Owned(&own)), Decision::Allow);
//!
//! // Tokens for another service, expired or tampered with are refused, each with its challenge.
//! assert_eq!(verify(&keys, &policy, &foreign), Err(VerifyError::WrongAudience));
//! let e = verify(&keys, &policy, &expired).unwrap_err();
//! assert_eq!(e.challenge(None), r#"Bearer error="invalid_token", error_description="the token has expired""#);
//! let mut tampered = token.clone();
//! tampered.insert(token.find('.').unwrap() + 2, 'x');
//! assert_eq!(verify(&keys, &policy, &tampered), Err(VerifyError::Invalid));
//! # Ok(())
//! # }
//! #
//! # mod sample {
//! #     use base64::Engine;
//! #     const KEY: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaoYsr+lyUSsht3OgPprHtV/RPqqC1Fi/1czPYKph/AGhRANCAASdM/I/zfpQucNRoG+TBo61fO0MWTPvn/hC02pazrz70YWChdwlHHuv7p0lkKKKi798XnnL8K25UmF9uLDFdNrT";
//! #     pub fn token(aud: &str, expires_in: i64) -> String {
//! #         let der = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap();
//! #         let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
//! #         h.typ = Some("at+jwt".into());
//! #         h.kid = Some("k1".into());
//! #         let now = chrono::Utc::now().timestamp();
//! #         let claims = serde_json::json!({
//! #             "iss": "https://id.example.com", "aud": aud, "sub": "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV",
//! #             "sid": "ses_01ARZ3NDEKTSV4RRFFQ69G5FAW", "tenant_id": "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAX",
//! #             "roles": ["tenant_admin"], "scope": "openid reports:read", "client_id": "ck_reports",
//! #             "iat": now, "exp": now + expires_in, "jti": "01ARZ3NDEKTSV4RRFFQ69G5FAY",
//! #         });
//! #         let jwt = jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_ec_der(&der)).unwrap();
//! #         // ScaiKey signs with the low `s` only (see `es256`); do as it does.
//! #         let (head, sig) = jwt.rsplit_once('.').unwrap();
//! #         let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
//! #         let mut raw = b64.decode(sig).unwrap();
//! #         scaikey_verifier::es256::normalize(&mut raw);
//! #         format!("{head}.{}", b64.encode(raw))
//! #     }
//! # }
//! ```
//!
//! See `docs/integrating-a-service.md` in the ScaiKey repository for the set-up on the ScaiKey
//! side (the application, `allowed_resources`, scopes) and the examples in `examples/`.

mod error;
pub mod es256;
mod keys;
mod token;

#[cfg(feature = "remote")]
mod remote;

#[cfg(feature = "actix")]
pub mod actix;

#[cfg(feature = "tower")]
pub mod tower;

pub use error::VerifyError;
pub use keys::{KeySet, KeySetError};
#[cfg(feature = "remote")]
pub use remote::{DEFAULT_MAX_KEY_AGE, DEFAULT_MIN_REFRESH, SetupError, Verifier, VerifierBuilder};
pub use scaikey_domain::principal::Principal;
pub use token::{Actor, DEFAULT_LEEWAY_SECONDS, Policy, Verified, verify};

/// The token of an `Authorization` header value; see [`Verifier::verify_header`].
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, VerifyError> {
    let Some(value) = authorization else { return Err(VerifyError::Missing) };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(VerifyError::Missing);
    }
    let token = rest.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(VerifyError::MalformedHeader);
    }
    Ok(token)
}

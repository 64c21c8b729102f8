//! Verifying one access token against a [`KeySet`] and a [`Policy`].

use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use scaikey_domain::id::{AgentId, ApplicationId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::oidc::signing_key::SigningAlg;
use scaikey_domain::principal::{AgentPrincipal, ClientPrincipal, Principal, UserPrincipal};
use scaikey_domain::role::Roles;
use scaikey_domain::scope::ScopeLevel;
use serde::Deserialize;

use crate::error::VerifyError;
use crate::keys::KeySet;

/// Seconds of clock skew tolerated on `exp` and `nbf` by default.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 5;

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The issuer (`iss`), exactly as in the issuer's discovery document.
    pub issuer: String,
    /// The audience this service answers to (`aud`): its resource indicator, or `scaikey` for
    /// ScaiKey's own APIs. `None` accepts any audience (introspection-like uses only).
    pub audience: Option<String>,
    /// The algorithms accepted (default both `ES256` and `RS256`); a token of any other is
    /// refused before its key is looked up.
    pub algorithms: Vec<SigningAlg>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
}

impl Policy {
    /// Tokens of `issuer` for `audience`, both algorithms, the default leeway.
    #[must_use]
    pub fn new(issuer: &str, audience: &str) -> Policy {
        Policy {
            issuer: issuer.to_string(),
            audience: Some(audience.to_string()),
            algorithms: SigningAlg::ALL.to_vec(),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
        }
    }
}

/// An actor of RFC 8693 token exchange (`act`): who acts for the subject, and whom that actor
/// acted for in turn.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Actor {
    /// The acting party's subject.
    pub sub: String,
    /// Its OAuth client, if named.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The actor before it, for delegation chains.
    #[serde(default)]
    pub act: Option<Box<Actor>>,
}

/// A verified ScaiKey access token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Who the token speaks for, ready for `scaikey_domain::access::can`.
    pub principal: Principal,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The audience it was issued for.
    pub audience: String,
    /// The OAuth client it was issued to: the application a user signed in to, or the client
    /// of a `client_credentials` token. `None` for a user's token from ScaiKey's own login.
    pub client_id: Option<String>,
    /// The tenant of the user or application (`None` at platform level).
    pub tenant_id: Option<TenantId>,
    /// Its partner.
    pub partner_id: Option<PartnerId>,
    /// Who acts for the subject (token exchange), outermost first.
    pub act: Option<Actor>,
    /// Token ID.
    pub jti: String,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

impl Verified {
    /// `true` if the token carries `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// `Ok` if the token carries every one of `scopes`, else
    /// [`VerifyError::InsufficientScope`] naming them (a 403 `insufficient_scope` challenge).
    pub fn require_scopes(&self, scopes: &[&str]) -> Result<(), VerifyError> {
        if scopes.iter().all(|s| self.has_scope(s)) {
            Ok(())
        } else {
            Err(VerifyError::InsufficientScope(scopes.join(" ")))
        }
    }

    /// The user, for a user's token.
    #[must_use]
    pub fn user(&self) -> Option<&UserPrincipal> {
        match &self.principal {
            Principal::User(u) => Some(u),
            Principal::Client(_) | Principal::Agent(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    jti: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    partner_id: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    scope_level: Option<String>,
    #[serde(default)]
    act: Option<Actor>,
    #[serde(default)]
    agent_id: Option<String>,
}

const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

fn jose(a: SigningAlg) -> Algorithm {
    match a {
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::Rs256 => Algorithm::RS256,
    }
}

fn parse<T: std::str::FromStr>(v: Option<&str>) -> Result<Option<T>, VerifyError> {
    v.map(|s| s.parse::<T>().map_err(|_| VerifyError::Invalid)).transpose()
}

fn time(secs: i64) -> Result<DateTime<Utc>, VerifyError> {
    DateTime::from_timestamp(secs, 0).ok_or(VerifyError::Invalid)
}

/// Verifies `jwt` as an RFC 9068 access token of `policy.issuer` for `policy.audience`: the
/// header's `typ` is `at+jwt`, its `alg` is allowed and is the algorithm of the key named by
/// `kid`, the signature holds, `iss`/`aud` match, `exp`/`nbf` hold within the leeway; then the
/// claims become a [`Verified`].
pub fn verify(keys: &KeySet, policy: &Policy, jwt: &str) -> Result<Verified, VerifyError> {
    let header = decode_header(jwt).map_err(|_| VerifyError::Invalid)?;
    if !header.typ.as_deref().is_some_and(|t| ACCESS_TOKEN_TYPES.iter().any(|a| t.eq_ignore_ascii_case(a))) {
        return Err(VerifyError::Invalid);
    }
    let Some(alg) = policy.algorithms.iter().copied().find(|a| jose(*a) == header.alg) else {
        return Err(VerifyError::Invalid);
    };
    let kid = header.kid.ok_or(VerifyError::Invalid)?;
    let key = keys.get(&kid).ok_or(VerifyError::UnknownKey)?;
    if key.alg != alg {
        return Err(VerifyError::Invalid);
    }
    // One token, one spelling: the high-`s` twin of a valid ES256 signature is refused.
    if alg == SigningAlg::Es256 {
        let sig = jwt.rsplit('.').next().unwrap_or_default();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).map_err(|_| VerifyError::Invalid)?;
        if !crate::es256::is_low_s(&raw) {
            return Err(VerifyError::Invalid);
        }
    }
    let mut validation = Validation::new(jose(alg));
    validation.leeway = policy.leeway_seconds;
    validation.validate_nbf = true;
    validation.set_issuer(&[&policy.issuer]);
    match &policy.audience {
        Some(a) => validation.set_audience(&[a]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let c = decode::<Claims>(jwt, &key.key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => VerifyError::Expired,
            ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
            ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
            ErrorKind::InvalidAudience => VerifyError::WrongAudience,
            _ => VerifyError::Invalid,
        })?
        .claims;
    into_verified(c)
}

fn into_verified(c: Claims) -> Result<Verified, VerifyError> {
    let scopes: Vec<String> = c.scope.split_whitespace().map(str::to_string).collect();
    let tenant_id = parse::<TenantId>(c.tenant_id.as_deref())?;
    let partner_id = parse::<PartnerId>(c.partner_id.as_deref())?;
    let audience = match c.aud {
        Audience::One(a) => a,
        Audience::Many(mut all) if all.len() == 1 => all.remove(0),
        // ScaiKey issues one audience per token (RFC 8707); more is not one of its tokens.
        Audience::Many(_) => return Err(VerifyError::Invalid),
    };
    // A session ID makes a user's token, an agent ID an agent's; without either it is a client's.
    let principal = if let Some(agent) = c.agent_id.as_deref() {
        Principal::Agent(AgentPrincipal {
            agent_id: agent.parse::<AgentId>().map_err(|_| VerifyError::Invalid)?,
            client_id: c.client_id.clone().ok_or(VerifyError::Invalid)?,
            tenant_id: tenant_id.ok_or(VerifyError::Invalid)?,
            partner_id,
            scopes: scopes.clone(),
        })
    } else if let Some(sid) = c.sid.as_deref() {
        Principal::User(UserPrincipal {
            user_id: c.sub.parse::<UserId>().map_err(|_| VerifyError::Invalid)?,
            session_id: sid.parse::<SessionId>().map_err(|_| VerifyError::Invalid)?,
            tenant_id,
            partner_id,
            roles: Roles::parse_all(c.roles.iter().flatten().map(String::as_str)).map_err(|_| VerifyError::Invalid)?,
        })
    } else {
        Principal::Client(ClientPrincipal {
            app_id: parse::<ApplicationId>(c.app_id.as_deref())?.ok_or(VerifyError::Invalid)?,
            client_id: c.client_id.clone().ok_or(VerifyError::Invalid)?,
            scope_level: c.scope_level.as_deref().and_then(ScopeLevel::parse).ok_or(VerifyError::Invalid)?,
            tenant_id,
            partner_id,
            scopes: scopes.clone(),
        })
    };
    Ok(Verified {
        principal,
        scopes,
        audience,
        client_id: c.client_id,
        tenant_id,
        partner_id,
        act: c.act,
        jti: c.jti,
        issued_at: time(c.iat)?,
        expires_at: time(c.exp)?,
    })
}

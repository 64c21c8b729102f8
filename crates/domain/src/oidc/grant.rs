//! The life of authorization codes and refresh tokens (contract §8, RFC 9700 §2.2.2, §4.14).
//!
//! - A code lives [`CODE_TTL_SECONDS`] and is used once. Its second use fails and revokes what
//!   the first one issued (RFC 6749 §4.1.2: the code was stolen, or the client is broken).
//! - A refresh token rotates on each use. Within the reuse grace the token just replaced may be
//!   used once more (two tabs refreshing at once) and gets a new pair; any other reuse revokes
//!   the whole family, since an attacker and the client now both hold it.
//! - A refresh token is bound to the SSO session and dies with it, unless `offline_access` was
//!   granted: then its family is its own "offline session" ([`binding`]), which outlives the SSO
//!   session and ends only with the user's password reset, suspension, deletion, MFA disable,
//!   a consent withdrawal or an explicit revocation.

use chrono::{DateTime, Duration, Utc};

use crate::oidc::pkce::{self, CodeChallenge};

/// Seconds an authorization code may be redeemed.
pub const CODE_TTL_SECONDS: i64 = 60;
/// Default grace for a replaced refresh token (`SCAIKEY_REFRESH_REUSE_GRACE_SECONDS`).
pub const DEFAULT_REFRESH_GRACE_SECONDS: i64 = 5;
/// Default refresh-token lifetime without `offline_access`: bounded by the SSO session anyway.
pub const DEFAULT_REFRESH_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// The scope that lets a refresh token outlive the SSO session (OIDC Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// What a refresh token of a grant is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<S> {
    /// The SSO session it was issued in: it dies with it.
    Session(S),
    /// Nothing but the user (`offline_access`).
    Offline,
}

/// The binding of refresh tokens granted `scopes` in `session`.
///
/// ```
/// use scaikey_domain::oidc::grant::{binding, Binding};
/// assert_eq!(binding(&["openid".to_string()], 7), Binding::Session(7));
/// assert_eq!(binding(&["openid".to_string(), "offline_access".to_string()], 7), Binding::Offline);
/// ```
pub fn binding<S>(scopes: &[String], session: S) -> Binding<S> {
    if scopes.iter().any(|s| s == OFFLINE_ACCESS) { Binding::Offline } else { Binding::Session(session) }
}

/// What the token endpoint knows of a stored code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// PKCE challenge of the authorization request.
    pub code_challenge: Option<CodeChallenge>,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// When it was redeemed, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

/// Why a code is refused (`invalid_grant` unless said otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Redeemed before: revoke what it issued.
    Reused,
    /// Older than [`CODE_TTL_SECONDS`].
    Expired,
    /// Issued to another client.
    OtherClient,
    /// `redirect_uri` differs from the authorization request's.
    RedirectMismatch,
    /// The PKCE verifier does not prove the challenge (or one side is missing).
    PkceFailed,
}

impl CodeRefusal {
    /// A sentence for `error_description`.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            CodeRefusal::Reused => "The authorization code was already used",
            CodeRefusal::Expired => "The authorization code has expired",
            CodeRefusal::OtherClient => "The authorization code was issued to another client",
            CodeRefusal::RedirectMismatch => "redirect_uri does not match the authorization request",
            CodeRefusal::PkceFailed => "code_verifier does not match the code_challenge",
        }
    }
}

/// Decides whether `client_id` may redeem `code` now with `redirect_uri` and `verifier`.
pub fn redeem(
    code: &CodeGrant,
    now: DateTime<Utc>,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), CodeRefusal> {
    if code.used_at.is_some() {
        return Err(CodeRefusal::Reused);
    }
    if now - code.issued_at > Duration::seconds(CODE_TTL_SECONDS) {
        return Err(CodeRefusal::Expired);
    }
    if code.client_id != client_id {
        return Err(CodeRefusal::OtherClient);
    }
    if redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(CodeRefusal::RedirectMismatch);
    }
    if !pkce::proves(code.code_challenge.as_ref(), verifier) {
        return Err(CodeRefusal::PkceFailed);
    }
    Ok(())
}

/// What the token endpoint knows of a stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// Revoked (logout, password reset, reuse detection…).
    pub revoked: bool,
    /// When a newer token replaced it.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Whether its one use within the grace was already spent.
    pub grace_used: bool,
}

/// What to do with a refresh request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshUse {
    /// The current token: issue a new pair and mark this one rotated.
    Rotate,
    /// The token just replaced, within the grace, for the first time: issue a new pair too.
    GraceReuse,
}

/// Why a refresh token is refused (`invalid_grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Replaced and used again outside the grace (or twice within it): revoke the family.
    ReuseDetected,
    /// Revoked or expired.
    Inactive,
    /// Issued to another client.
    OtherClient,
}

impl RefreshRefusal {
    /// A sentence for `error_description`.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            RefreshRefusal::ReuseDetected => "The refresh token was already used",
            RefreshRefusal::Inactive => "The refresh token is no longer valid",
            RefreshRefusal::OtherClient => "The refresh token was issued to another client",
        }
    }
}

/// Decides a refresh request for `token` by `client_id` at `now` with the reuse `grace`.
///
/// ```
/// use chrono::{Duration, Utc};
/// use scaikey_domain::oidc::grant::{refresh, RefreshGrant, RefreshRefusal, RefreshUse};
/// let now = Utc::now();
/// let mut t = RefreshGrant { client_id: "ck_a".into(), expires_at: now + Duration::days(1), revoked: false, rotated_at: None, grace_used: false };
/// assert_eq!(refresh(&t, now, "ck_a", Duration::seconds(5)), Ok(RefreshUse::Rotate));
/// t.rotated_at = Some(now - Duration::seconds(60));
/// assert_eq!(refresh(&t, now, "ck_a", Duration::seconds(5)), Err(RefreshRefusal::ReuseDetected));
/// ```
pub fn refresh(
    token: &RefreshGrant,
    now: DateTime<Utc>,
    client_id: &str,
    grace: Duration,
) -> Result<RefreshUse, RefreshRefusal> {
    if token.client_id != client_id {
        return Err(RefreshRefusal::OtherClient);
    }
    if token.revoked || token.expires_at <= now {
        return Err(RefreshRefusal::Inactive);
    }
    match token.rotated_at {
        None => Ok(RefreshUse::Rotate),
        Some(at) if !token.grace_used && now - at <= grace => Ok(RefreshUse::GraceReuse),
        Some(_) => Err(RefreshRefusal::ReuseDetected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::t0;

    const V: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn code() -> CodeGrant {
        CodeGrant {
            client_id: "ck_a".into(),
            redirect_uri: "https://a.example/cb".into(),
            code_challenge: pkce::challenge(Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), Some("S256"), true)
                .unwrap_or_default(),
            issued_at: t0(),
            used_at: None,
        }
    }

    #[test]
    fn code_table() {
        let at = |s: i64| t0() + Duration::seconds(s);
        let ok = code();
        let used = CodeGrant { used_at: Some(at(1)), ..code() };
        type Case<'a> = (&'a CodeGrant, i64, &'a str, Option<&'a str>, Option<&'a str>, Result<(), CodeRefusal>);
        let cases: [Case; 8] = [
            (&ok, 0, "ck_a", Some("https://a.example/cb"), Some(V), Ok(())),
            (&ok, 60, "ck_a", Some("https://a.example/cb"), Some(V), Ok(())),
            (&ok, 61, "ck_a", Some("https://a.example/cb"), Some(V), Err(CodeRefusal::Expired)),
            (&used, 2, "ck_a", Some("https://a.example/cb"), Some(V), Err(CodeRefusal::Reused)),
            (&ok, 1, "ck_b", Some("https://a.example/cb"), Some(V), Err(CodeRefusal::OtherClient)),
            (&ok, 1, "ck_a", Some("https://a.example/cb/"), Some(V), Err(CodeRefusal::RedirectMismatch)),
            (&ok, 1, "ck_a", None, Some(V), Err(CodeRefusal::RedirectMismatch)),
            (&ok, 1, "ck_a", Some("https://a.example/cb"), None, Err(CodeRefusal::PkceFailed)),
        ];
        for (c, s, client, redirect, verifier, want) in cases {
            assert_eq!(redeem(c, at(s), client, redirect, verifier), want, "{s} {client} {redirect:?} {verifier:?}");
        }
        let plain = CodeGrant { code_challenge: None, ..code() };
        assert_eq!(redeem(&plain, at(1), "ck_a", Some("https://a.example/cb"), None), Ok(()));
        assert_eq!(redeem(&plain, at(1), "ck_a", Some("https://a.example/cb"), Some(V)), Err(CodeRefusal::PkceFailed));
    }

    #[test]
    fn refresh_table() {
        let grace = Duration::seconds(5);
        let at = |s: i64| t0() + Duration::seconds(s);
        let live = RefreshGrant {
            client_id: "ck_a".into(),
            expires_at: at(3600),
            revoked: false,
            rotated_at: None,
            grace_used: false,
        };
        let rotated = RefreshGrant { rotated_at: Some(at(10)), ..live.clone() };
        let spent = RefreshGrant { grace_used: true, ..rotated.clone() };
        let cases: [(&RefreshGrant, i64, &str, Result<RefreshUse, RefreshRefusal>); 9] = [
            (&live, 0, "ck_a", Ok(RefreshUse::Rotate)),
            (&live, 0, "ck_b", Err(RefreshRefusal::OtherClient)),
            (&live, 3600, "ck_a", Err(RefreshRefusal::Inactive)),
            (&RefreshGrant { revoked: true, ..live.clone() }, 0, "ck_a", Err(RefreshRefusal::Inactive)),
            (&rotated, 12, "ck_a", Ok(RefreshUse::GraceReuse)),
            (&rotated, 15, "ck_a", Ok(RefreshUse::GraceReuse)),
            (&rotated, 16, "ck_a", Err(RefreshRefusal::ReuseDetected)),
            (&spent, 11, "ck_a", Err(RefreshRefusal::ReuseDetected)),
            (&rotated, 12, "ck_b", Err(RefreshRefusal::OtherClient)),
        ];
        for (t, s, client, want) in cases {
            assert_eq!(refresh(t, at(s), client, grace), want, "{t:?} at {s}");
        }
    }
}

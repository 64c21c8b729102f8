//! Why a token is refused, and the RFC 6750 answer for each reason.

/// Why a request's bearer token is refused.
///
/// [`VerifyError::status`] and [`VerifyError::challenge`] give the RFC 6750 answer: 401 with
/// `error="invalid_token"` for a bad token, 401 without an error code when none was sent, 403
/// `insufficient_scope` when the token lacks a scope, 400 `invalid_request` for a malformed
/// `Authorization` header, 503 when the issuer's keys or introspection cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No bearer token was sent.
    #[error("a bearer token is required")]
    Missing,
    /// The `Authorization` header says `Bearer` but carries no usable token.
    #[error("the Authorization header is malformed")]
    MalformedHeader,
    /// Not a JWT, not an access token (`typ`), an algorithm outside the allow-list, a bad
    /// signature, or claims that are not ScaiKey's.
    #[error("the token is invalid")]
    Invalid,
    /// Signed by a key the issuer does not (or no longer) publish.
    #[error("the token is signed by an unknown key")]
    UnknownKey,
    /// Past `exp` (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// Before `nbf` (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token is from another issuer")]
    WrongIssuer,
    /// `aud` names another resource.
    #[error("the token is not meant for this service")]
    WrongAudience,
    /// Introspection says the token is no longer active (revoked session, suspended user,
    /// disabled client).
    #[error("the token has been revoked")]
    Revoked,
    /// The token is valid but lacks these scopes.
    #[error("the token lacks the scope {0}")]
    InsufficientScope(String),
    /// The issuer's keys or its introspection endpoint could not be reached or read.
    #[error("the token cannot be checked now: {0}")]
    Unavailable(String),
}

impl VerifyError {
    /// The HTTP status to answer with.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            VerifyError::MalformedHeader => 400,
            VerifyError::InsufficientScope(_) => 403,
            VerifyError::Unavailable(_) => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 `error` code, if the answer carries one.
    #[must_use]
    pub const fn error_code(&self) -> Option<&'static str> {
        match self {
            VerifyError::Missing | VerifyError::Unavailable(_) => None,
            VerifyError::MalformedHeader => Some("invalid_request"),
            VerifyError::InsufficientScope(_) => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }

    /// The `WWW-Authenticate` value, e.g.
    /// `Bearer realm="reports", error="invalid_token", error_description="the token has expired"`.
    /// `realm` is optional; quotes and backslashes in it are dropped.
    #[must_use]
    pub fn challenge(&self, realm: Option<&str>) -> String {
        let quoted = |s: &str| s.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect::<String>();
        let mut params = Vec::new();
        if let Some(r) = realm {
            params.push(format!("realm=\"{}\"", quoted(r)));
        }
        if let Some(code) = self.error_code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{}\"", quoted(&self.to_string())));
        }
        if let VerifyError::InsufficientScope(scope) = self {
            params.push(format!("scope=\"{}\"", quoted(scope)));
        }
        if params.is_empty() { "Bearer".to_string() } else { format!("Bearer {}", params.join(", ")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750() {
        assert_eq!(VerifyError::Missing.challenge(Some("reports")), "Bearer realm=\"reports\"");
        assert_eq!(VerifyError::Missing.challenge(None), "Bearer");
        assert_eq!(VerifyError::Missing.status(), 401);
        assert_eq!(
            VerifyError::Expired.challenge(None),
            "Bearer error=\"invalid_token\", error_description=\"the token has expired\""
        );
        let scope = VerifyError::InsufficientScope("reports:write".into());
        assert_eq!(scope.status(), 403);
        assert!(scope.challenge(Some("a\"b")).starts_with("Bearer realm=\"ab\", error=\"insufficient_scope\""));
        assert!(scope.challenge(None).ends_with("scope=\"reports:write\""));
        assert_eq!(
            (VerifyError::MalformedHeader.status(), VerifyError::MalformedHeader.error_code()),
            (400, Some("invalid_request"))
        );
        assert_eq!(VerifyError::Unavailable("down".into()).status(), 503);
        for e in [VerifyError::Invalid, VerifyError::UnknownKey, VerifyError::WrongAudience, VerifyError::Revoked] {
            assert_eq!((e.status(), e.error_code()), (401, Some("invalid_token")), "{e:?}");
        }
    }
}

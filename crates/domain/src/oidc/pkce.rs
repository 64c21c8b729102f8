//! PKCE (RFC 7636) as OAuth 2.1 wants it: `S256` only (`plain` is refused), required for public
//! clients and honoured for every client: once a code was issued with a challenge, the token
//! request must prove it, and a code issued without one cannot be redeemed with a verifier.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Shortest code verifier (RFC 7636 §4.1).
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest code verifier.
pub const MAX_VERIFIER_LEN: usize = 128;

/// A checked `S256` code challenge (43 base64url characters: a SHA-256 digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// The challenge as sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a stored challenge (it was checked when the code was issued).
    #[must_use]
    pub fn from_stored(s: String) -> CodeChallenge {
        CodeChallenge(s)
    }
}

/// Why the PKCE parameters of an authorization request are refused (`invalid_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceRefusal {
    /// A public client sent no challenge.
    Required,
    /// `code_challenge_method` other than `S256` (`plain` included).
    UnsupportedMethod,
    /// Not 43 base64url characters.
    MalformedChallenge,
}

impl PkceRefusal {
    /// A sentence for `error_description`.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            PkceRefusal::Required => "PKCE is required: send code_challenge with code_challenge_method=S256",
            PkceRefusal::UnsupportedMethod => "Only code_challenge_method=S256 is supported",
            PkceRefusal::MalformedChallenge => "code_challenge must be 43 base64url characters (S256)",
        }
    }
}

/// Checks the PKCE parameters of an authorization request. A missing method means `plain` in
/// RFC 7636, which OAuth 2.1 refuses, so a challenge needs `S256` spelled out.
///
/// ```
/// use scaikey_domain::oidc::pkce::{challenge, PkceRefusal};
/// let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// assert!(challenge(Some(c), Some("S256"), true).unwrap().is_some());
/// assert_eq!(challenge(None, None, true), Err(PkceRefusal::Required));
/// assert_eq!(challenge(None, None, false), Ok(None));
/// assert_eq!(challenge(Some(c), Some("plain"), false), Err(PkceRefusal::UnsupportedMethod));
/// ```
pub fn challenge(
    code_challenge: Option<&str>,
    method: Option<&str>,
    public_client: bool,
) -> Result<Option<CodeChallenge>, PkceRefusal> {
    match (code_challenge, method) {
        (None, None) if public_client => Err(PkceRefusal::Required),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(PkceRefusal::MalformedChallenge),
        (Some(_), m) if m != Some("S256") => Err(PkceRefusal::UnsupportedMethod),
        (Some(c), _) => {
            let well_formed = c.len() == 43
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && URL_SAFE_NO_PAD.decode(c).is_ok_and(|d| d.len() == 32);
            if well_formed { Ok(Some(CodeChallenge(c.to_string()))) } else { Err(PkceRefusal::MalformedChallenge) }
        }
    }
}

/// `true` for a verifier of RFC 7636 §4.1's shape: 43–128 of `A-Z a-z 0-9 - . _ ~`.
#[must_use]
pub fn verifier_well_formed(v: &str) -> bool {
    (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether the token request's `code_verifier` redeems a code issued with `challenge`. A code
/// issued without a challenge refuses a verifier too (no downgrade, no injection of a PKCE-less
/// code into a PKCE client's flow).
///
/// ```
/// use scaikey_domain::oidc::pkce::{challenge, proves};
/// // RFC 7636 Appendix B.
/// let c = challenge(Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), Some("S256"), true).unwrap();
/// assert!(proves(c.as_ref(), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")));
/// assert!(!proves(c.as_ref(), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK")));
/// assert!(!proves(c.as_ref(), None));
/// assert!(proves(None, None));
/// ```
#[must_use]
pub fn proves(challenge: Option<&CodeChallenge>, verifier: Option<&str>) -> bool {
    match (challenge, verifier) {
        (None, None) => true,
        (Some(c), Some(v)) if verifier_well_formed(v) => {
            let digest = Sha256::digest(v.as_bytes());
            constant_time_eq(URL_SAFE_NO_PAD.encode(digest).as_bytes(), c.0.as_bytes())
        }
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const V: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn authorization_request_table() {
        type Case<'a> = (Option<&'a str>, Option<&'a str>, bool, Result<bool, PkceRefusal>);
        let table: [Case; 10] = [
            (Some(C), Some("S256"), true, Ok(true)),
            (Some(C), Some("S256"), false, Ok(true)),
            (None, None, false, Ok(false)),
            (None, None, true, Err(PkceRefusal::Required)),
            (Some(C), None, true, Err(PkceRefusal::UnsupportedMethod)),
            (Some(C), Some("plain"), true, Err(PkceRefusal::UnsupportedMethod)),
            (Some(C), Some("s256"), true, Err(PkceRefusal::UnsupportedMethod)),
            (None, Some("S256"), true, Err(PkceRefusal::MalformedChallenge)),
            (Some("short"), Some("S256"), true, Err(PkceRefusal::MalformedChallenge)),
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
                Some("S256"),
                true,
                Err(PkceRefusal::MalformedChallenge),
            ),
        ];
        for (c, m, public, want) in table {
            assert_eq!(challenge(c, m, public).map(|x| x.is_some()), want, "{c:?} {m:?} {public}");
        }
    }

    #[test]
    fn verifier_table() {
        let c = challenge(Some(C), Some("S256"), true).unwrap();
        assert!(proves(c.as_ref(), Some(V)));
        for bad in [
            "",
            "dBjftJeZ4CVP",
            &"a".repeat(129),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX!",
            V.get(1..).unwrap_or(""),
        ] {
            assert!(!proves(c.as_ref(), Some(bad)), "{bad}");
        }
        // No downgrade: a PKCE code needs its verifier, a plain code takes none.
        assert!(!proves(c.as_ref(), None));
        assert!(!proves(None, Some(V)));
        assert!(verifier_well_formed(&"~".repeat(43)) && !verifier_well_formed(&"~".repeat(42)));
    }
}

//! Second factors (contract §10): TOTP codes (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) and
//! the rule that a code is never accepted twice, recovery codes, and the tenant policy that
//! decides who must enrol and which methods are offered.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use scaikey_domain::mfa::{Totp, accept_step};
//!
//! // RFC 6238 Appendix B: the SHA-1 secret "12345678901234567890" at T = 59 s.
//! let totp = Totp::new(b"12345678901234567890".to_vec()).unwrap();
//! let at = Utc.timestamp_opt(59, 0).unwrap();
//! let step = totp.matching_step("287082", at).unwrap();
//! assert!(accept_step(step, None));
//! // The same code again, or an older one, is a replay.
//! assert!(!accept_step(step, Some(step)));
//! ```

use chrono::{DateTime, Utc};
use serde_json::Value;
use totp_rs::{Algorithm, TOTP};

/// Seconds per TOTP step.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: usize = 6;
/// Steps accepted either side of the current one (clock drift).
pub const TOTP_SKEW: i64 = 1;
/// Length of a new TOTP secret (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_BYTES: usize = 20;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Random bytes behind one recovery code (80 bits: 16 base32 characters).
pub const RECOVERY_CODE_BYTES: usize = 10;

/// A kind of second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// A TOTP authenticator app.
    Totp,
    /// A passkey / security key.
    Webauthn,
}

impl Method {
    /// Its name in settings and in the user resource.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Webauthn => "webauthn",
        }
    }

    /// Parses a stored or configured name; other methods of the settings (`sms`, `email`) are
    /// not second factors ScaiKey offers.
    #[must_use]
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "totp" => Some(Method::Totp),
            "webauthn" => Some(Method::Webauthn),
            _ => None,
        }
    }
}

/// A user's TOTP generator.
pub struct Totp(TOTP);

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Totp(…)")
    }
}

impl Totp {
    /// A generator over a raw secret; `None` below 128 bits.
    #[must_use]
    pub fn new(secret: Vec<u8>) -> Option<Totp> {
        (secret.len() >= 16)
            .then(|| Totp(TOTP::new_unchecked(Algorithm::SHA1, TOTP_DIGITS, 1, TOTP_STEP_SECONDS, secret)))
    }

    /// The step counter of a time.
    #[must_use]
    pub fn step_of(at: DateTime<Utc>) -> i64 {
        at.timestamp().div_euclid(TOTP_STEP_SECONDS.cast_signed())
    }

    /// The code of a step.
    #[must_use]
    pub fn code_at_step(&self, step: i64) -> String {
        self.0.generate(step.max(0).cast_unsigned() * TOTP_STEP_SECONDS)
    }

    /// The step within ±[`TOTP_SKEW`] of `now` whose code is `input` (spaces ignored), if any.
    /// Every candidate is compared in constant time.
    #[must_use]
    pub fn matching_step(&self, input: &str, now: DateTime<Utc>) -> Option<i64> {
        let input: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if input.len() != TOTP_DIGITS || !input.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let current = Totp::step_of(now);
        let mut found = None;
        for step in (current - TOTP_SKEW)..=(current + TOTP_SKEW) {
            if constant_eq(self.code_at_step(step).as_bytes(), input.as_bytes()) {
                found = found.or(Some(step));
            }
        }
        found
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A matched step is accepted only if it is later than the last accepted one: a code (or an
/// earlier one of the same window) cannot be used twice.
#[must_use]
pub fn accept_step(matched: i64, last_used: Option<i64>) -> bool {
    last_used.is_none_or(|last| matched > last)
}

/// Base32 (RFC 4648, no padding) of a secret, as authenticator apps expect it.
#[must_use]
pub fn base32(bytes: &[u8]) -> String {
    match totp_rs::Secret::Raw(bytes.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => String::new(),
    }
}

/// The `otpauth://` URI of Google's Key URI format: the issuer's name and the account in the
/// label, the secret, and the parameters ScaiKey checks with.
#[must_use]
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer),
    )
}

/// A recovery code as shown: 16 base32 characters from random bytes, in groups of four.
#[must_use]
pub fn recovery_code(random: &[u8]) -> String {
    let plain = base32(random).to_lowercase();
    let mut out = String::new();
    for (i, c) in plain.chars().take(16).enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

/// A typed recovery code as stored (lower case, without spaces and dashes), so `ABCD EFGH…`
/// and `abcd-efgh-…` are the same code. `None` when it cannot be one.
#[must_use]
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let s: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    (s.len() == 16 && s.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))).then_some(s)
}

/// What a tenant asks of its users' second factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    /// `settings.mfa_required`.
    pub required: bool,
    /// The methods offered for enrolment: `settings.mfa_methods` among those ScaiKey offers
    /// (both when the tenant names none).
    pub offered: Vec<Method>,
}

impl MfaPolicy {
    /// The policy of a tenant's settings document (platform users: `Value::Null`).
    #[must_use]
    pub fn of(settings: &Value) -> MfaPolicy {
        let required = settings.get("mfa_required").and_then(Value::as_bool).unwrap_or(false);
        let offered = match settings.get("mfa_methods").and_then(Value::as_array) {
            Some(list) => {
                let mut m: Vec<Method> = list.iter().filter_map(Value::as_str).filter_map(Method::parse).collect();
                m.sort();
                m.dedup();
                m
            }
            None => vec![Method::Totp, Method::Webauthn],
        };
        // A tenant that requires a second factor but names only methods ScaiKey does not
        // offer (sms, email) still gets one its users can enrol: TOTP.
        let offered = if offered.is_empty() && required { vec![Method::Totp] } else { offered };
        MfaPolicy { required, offered }
    }

    /// Whether `m` may be enrolled.
    #[must_use]
    pub fn offers(&self, m: Method) -> bool {
        self.offered.contains(&m)
    }
}

/// How long a passkey ceremony's challenge may be answered (WebAuthn's recommended timeout).
pub const PASSKEY_CHALLENGE_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);
/// Longest name a person gives a passkey.
pub const PASSKEY_NAME_MAX: usize = 64;

/// The name of a new passkey: one line, 1 to [`PASSKEY_NAME_MAX`] characters (empty: "Passkey").
///
/// # Errors
/// Too long, or holding control characters.
pub fn passkey_name(value: &str) -> Result<String, crate::validation::FieldError> {
    if value.trim().is_empty() {
        return Ok("Passkey".into());
    }
    crate::validation::text("name", value, PASSKEY_NAME_MAX)
}

/// Whether a factor may be removed, given the methods the user would have left: not while the
/// tenant requires a second factor and none would be left.
#[must_use]
pub fn may_remove(policy: &MfaPolicy, left_after: &[Method]) -> bool {
    !policy.required || !left_after.is_empty()
}

/// What a login needs after the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// Nothing: no factor enrolled and none required.
    None,
    /// A code or key of the enrolled methods (always asked once enrolled, whatever the
    /// tenant offers now).
    Verify(Vec<Method>),
    /// The tenant requires one and the user has none: enrol (one of `offered`) first.
    Enrol(Vec<Method>),
}

/// The step after a correct password.
#[must_use]
pub fn second_factor(policy: &MfaPolicy, enrolled: &[Method]) -> SecondFactor {
    if !enrolled.is_empty() {
        let mut m = enrolled.to_vec();
        m.sort();
        m.dedup();
        SecondFactor::Verify(m)
    } else if policy.required {
        SecondFactor::Enrol(policy.offered.clone())
    } else {
        SecondFactor::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    #[test]
    fn passkey_names_and_removal() {
        assert_eq!(passkey_name("  Laptop ☕ ").unwrap(), "Laptop ☕");
        assert_eq!(passkey_name("").unwrap(), "Passkey");
        assert!(passkey_name(&"x".repeat(65)).is_err());
        assert!(passkey_name("a\u{7}b").is_err());
        let required = MfaPolicy::of(&json!({"mfa_required": true}));
        assert!(!may_remove(&required, &[]));
        assert!(may_remove(&required, &[Method::Totp]));
        assert!(may_remove(&MfaPolicy::of(&json!({})), &[]));
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        // Appendix B, 8 digits there; the last 6 digits are the 6-digit code.
        let t = Totp::new(b"12345678901234567890".to_vec()).unwrap();
        for (time, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(t.code_at_step(Totp::step_of(at(time))), code8[2..], "T={time}");
        }
    }

    #[test]
    fn one_step_either_side_matches_and_two_do_not() {
        let t = Totp::new(vec![7; 20]).unwrap();
        let now = at(1_800_000_015);
        let s = Totp::step_of(now);
        assert_eq!(t.matching_step(&t.code_at_step(s - 1), now), Some(s - 1));
        assert_eq!(t.matching_step(&t.code_at_step(s + 1), now), Some(s + 1));
        let far = t.code_at_step(s - 2);
        if ![s - 1, s, s + 1].iter().any(|x| t.code_at_step(*x) == far) {
            assert_eq!(t.matching_step(&far, now), None);
        }
        let current = t.code_at_step(s);
        assert_eq!(t.matching_step(&format!("{} {}", &current[..3], &current[3..]), now), Some(s));
        assert_eq!(t.matching_step("12345", now), None);
        assert_eq!(t.matching_step("abcdef", now), None);
        assert!(Totp::new(vec![1; 15]).is_none());
    }

    #[test]
    fn a_code_is_accepted_once_and_never_an_older_one() {
        assert!(accept_step(10, None));
        assert!(accept_step(11, Some(10)));
        assert!(!accept_step(10, Some(10)));
        assert!(!accept_step(9, Some(10)));
    }

    #[test]
    fn base32_and_the_otpauth_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        let uri = otpauth_uri("Acme Co", "ana+1@acme.example", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Co:ana%2B1%40acme.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let c = recovery_code(&[0xAB; RECOVERY_CODE_BYTES]);
        assert_eq!(c.len(), 19);
        assert_eq!(c.matches('-').count(), 3);
        let stored = normalize_recovery_code(&c).unwrap();
        assert_eq!(normalize_recovery_code(&c.to_uppercase().replace('-', " ")), Some(stored));
        assert_eq!(normalize_recovery_code("too-short"), None);
        assert_eq!(normalize_recovery_code("0000-0000-0000-0000"), None);
    }

    #[test]
    fn tenant_policy_and_the_step_after_the_password() {
        let none = MfaPolicy::of(&Value::Null);
        assert!(!none.required);
        assert_eq!(none.offered, [Method::Totp, Method::Webauthn]);
        assert_eq!(second_factor(&none, &[]), SecondFactor::None);
        assert_eq!(second_factor(&none, &[Method::Totp]), SecondFactor::Verify(vec![Method::Totp]));

        let strict = MfaPolicy::of(&json!({"mfa_required": true, "mfa_methods": ["webauthn", "sms"]}));
        assert_eq!(strict.offered, [Method::Webauthn]);
        assert!(!strict.offers(Method::Totp));
        assert_eq!(second_factor(&strict, &[]), SecondFactor::Enrol(vec![Method::Webauthn]));
        // An enrolled factor is asked even when the tenant stopped offering it.
        assert_eq!(second_factor(&strict, &[Method::Totp]), SecondFactor::Verify(vec![Method::Totp]));

        let sms_only = MfaPolicy::of(&json!({"mfa_required": true, "mfa_methods": ["sms"]}));
        assert_eq!(sms_only.offered, [Method::Totp]);
        let optional_sms = MfaPolicy::of(&json!({"mfa_methods": ["sms"]}));
        assert!(optional_sms.offered.is_empty());
    }
}

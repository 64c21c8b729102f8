//! Password policy (tenant `settings.password_policy`) and the check a new password must pass.

use serde_json::Value;

/// Shortest minimum length a tenant may configure.
pub const MIN_POLICY_LENGTH: u64 = 1;
/// Longest minimum length a tenant may configure (and longest password accepted).
pub const MAX_PASSWORD_LEN: usize = 256;

/// What a password must contain. The default asks for 8 characters and nothing else (NIST
/// SP 800-63B discourages composition rules; tenants may still require them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: usize,
    /// At least one upper-case letter.
    pub require_uppercase: bool,
    /// At least one lower-case letter.
    pub require_lowercase: bool,
    /// At least one digit.
    pub require_digit: bool,
    /// At least one character that is neither letter nor digit.
    pub require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            require_uppercase: false,
            require_lowercase: false,
            require_digit: false,
            require_symbol: false,
        }
    }
}

/// The rule a password broke; its `Display` names the rule for the 422 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// Too short.
    #[error("Password must be at least {0} characters long (min_length)")]
    TooShort(usize),
    /// Too long.
    #[error("Password must be at most {MAX_PASSWORD_LEN} characters long")]
    TooLong,
    /// No upper-case letter.
    #[error("Password must contain an upper-case letter (require_uppercase)")]
    NoUppercase,
    /// No lower-case letter.
    #[error("Password must contain a lower-case letter (require_lowercase)")]
    NoLowercase,
    /// No digit.
    #[error("Password must contain a digit (require_digit)")]
    NoDigit,
    /// No symbol.
    #[error("Password must contain a symbol (require_symbol)")]
    NoSymbol,
}

impl PasswordPolicy {
    /// Reads the policy from tenant settings, falling back to defaults for absent keys.
    /// Settings are validated on write, so ill-typed values do not occur; they fall back too.
    #[must_use]
    pub fn from_settings(settings: &Value) -> PasswordPolicy {
        let d = PasswordPolicy::default();
        let Some(p) = settings.get("password_policy") else { return d };
        let flag = |k: &str, dflt: bool| p.get(k).and_then(Value::as_bool).unwrap_or(dflt);
        PasswordPolicy {
            min_length: p
                .get("min_length")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(d.min_length),
            require_uppercase: flag("require_uppercase", d.require_uppercase),
            require_lowercase: flag("require_lowercase", d.require_lowercase),
            require_digit: flag("require_digit", d.require_digit),
            require_symbol: flag("require_symbol", d.require_symbol),
        }
    }

    /// Checks `password`, returning the first rule it breaks.
    ///
    /// ```
    /// use scaikey_domain::password::{PasswordPolicy, PolicyViolation};
    /// let p = PasswordPolicy { require_digit: true, ..PasswordPolicy::default() };
    /// assert_eq!(p.check("short"), Err(PolicyViolation::TooShort(8)));
    /// assert_eq!(p.check("long enough"), Err(PolicyViolation::NoDigit));
    /// assert!(p.check("long enough 1").is_ok());
    /// ```
    pub fn check(&self, password: &str) -> Result<(), PolicyViolation> {
        self.first_violation(password)
    }

    /// The policy in words, for a form's hint.
    ///
    /// ```
    /// use scaikey_domain::password::PasswordPolicy;
    /// let p = PasswordPolicy { min_length: 12, require_digit: true, require_symbol: true, ..PasswordPolicy::default() };
    /// assert_eq!(p.describe(), "at least 12 characters, with a digit and a symbol");
    /// assert_eq!(PasswordPolicy::default().describe(), "at least 8 characters");
    /// ```
    #[must_use]
    pub fn describe(&self) -> String {
        let mut with = Vec::new();
        for (on, what) in [
            (self.require_uppercase, "an upper-case letter"),
            (self.require_lowercase, "a lower-case letter"),
            (self.require_digit, "a digit"),
            (self.require_symbol, "a symbol"),
        ] {
            if on {
                with.push(what);
            }
        }
        let base = format!("at least {} characters", self.min_length);
        match with.split_last() {
            None => base,
            Some((last, [])) => format!("{base}, with {last}"),
            Some((last, rest)) => format!("{base}, with {} and {last}", rest.join(", ")),
        }
    }

    fn first_violation(&self, password: &str) -> Result<(), PolicyViolation> {
        let len = password.chars().count();
        if len < self.min_length {
            return Err(PolicyViolation::TooShort(self.min_length));
        }
        if len > MAX_PASSWORD_LEN {
            return Err(PolicyViolation::TooLong);
        }
        let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
        if self.require_uppercase && !has(|c| c.is_uppercase()) {
            return Err(PolicyViolation::NoUppercase);
        }
        if self.require_lowercase && !has(|c| c.is_lowercase()) {
            return Err(PolicyViolation::NoLowercase);
        }
        if self.require_digit && !has(|c| c.is_ascii_digit()) {
            return Err(PolicyViolation::NoDigit);
        }
        if self.require_symbol && !has(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            return Err(PolicyViolation::NoSymbol);
        }
        Ok(())
    }
}

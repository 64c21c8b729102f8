//! Field validation shared by every resource: one [`FieldError`] per problem, collected into
//! [`ValidationErrors`] so a caller sees all of them at once (contract §3, 422 shape).

use std::fmt;

use validator::ValidateEmail;

/// Longest name or free-text field we accept.
pub const MAX_NAME_LEN: usize = 255;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 4096;
/// Longest e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest slug.
pub const MAX_SLUG_LEN: usize = 63;
/// Largest value of a resource limit.
pub const MAX_LIMIT: i64 = i32::MAX as i64;

/// One problem with one input field. `loc` is relative to the input (the HTTP adapter puts
/// `body`, `query` or `path` in front).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path to the field, e.g. `["settings", "password_policy", "min_length"]`.
    pub loc: Vec<String>,
    /// A sentence for a person.
    pub msg: String,
    /// A stable machine-readable kind, e.g. `missing`, `string_too_long`, `enum`.
    pub kind: &'static str,
}

impl FieldError {
    /// An error at a top-level field.
    pub fn new(field: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Self { loc: vec![field.to_string()], msg: msg.into(), kind }
    }

    /// An error at a nested path.
    pub fn at(loc: &[&str], kind: &'static str, msg: impl Into<String>) -> Self {
        Self { loc: loc.iter().map(|s| (*s).to_string()).collect(), msg: msg.into(), kind }
    }

    /// A required field that is absent.
    pub fn missing(field: &str) -> Self {
        Self::new(field, "missing", "Field required")
    }

    /// Puts `prefix` in front of the location.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.loc.insert(0, prefix.to_string());
        self
    }
}

/// All problems found in one input; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// No problem yet.
    #[must_use]
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// One problem.
    #[must_use]
    pub fn single(e: FieldError) -> Self {
        Self(vec![e])
    }

    /// Records a problem.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Keeps the value of `r`, recording its error.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// `true` when nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems.
    #[must_use]
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.loc.join("."), e.msg)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Text that can be stored: PostgreSQL `text` and `jsonb` cannot hold NUL, so every string,
/// key and parameter is refused with this error where it enters (a 422, never a failed write).
///
/// ```
/// use scaikey_domain::validation::storable;
/// assert!(storable(&["name"], "Acme").is_ok());
/// assert_eq!(storable(&["custom_attributes", "k"], "a\0b").unwrap_err().loc, ["custom_attributes", "k"]);
/// ```
pub fn storable(loc: &[&str], s: &str) -> Result<(), FieldError> {
    if s.contains('\0') {
        return Err(FieldError::at(loc, "string_nul", "Text must not contain NUL (\\u0000) characters"));
    }
    Ok(())
}

/// Largest magnitude of a number in a stored JSON document. PostgreSQL keeps any numeric, but
/// writes numbers near `f64::MAX` back as 309 plain digits that no longer read as a JSON
/// double: a tenant stored with one could not be read (a 500 the fuzzer found).
pub const MAX_STORED_NUMBER: f64 = 1e300;

/// A JSON number that survives storage and reading back (see [`MAX_STORED_NUMBER`]).
///
/// ```
/// use scaikey_domain::validation::storable_number;
/// assert!(storable_number(&["branding", "x"], &serde_json::Number::from_f64(1e300).unwrap()).is_ok());
/// assert!(storable_number(&["branding", "x"], &serde_json::Number::from_f64(1.7976931348623155e308).unwrap()).is_err());
/// assert!(storable_number(&["n"], &serde_json::Number::from(u64::MAX)).is_ok());
/// ```
pub fn storable_number(loc: &[&str], n: &serde_json::Number) -> Result<(), FieldError> {
    if n.as_f64().is_some_and(|x| !x.is_finite() || x.abs() > MAX_STORED_NUMBER) {
        return Err(FieldError::at(loc, "number_too_large", "Numbers must be at most 1e300 in magnitude"));
    }
    Ok(())
}

/// The first number in a JSON document that would not survive storage ([`storable_number`]),
/// reported under `field`.
pub fn storable_document(field: &str, value: &serde_json::Value) -> Result<(), FieldError> {
    match value {
        serde_json::Value::Number(n) => storable_number(&[field], n),
        serde_json::Value::Array(items) => items.iter().try_for_each(|i| storable_document(field, i)),
        serde_json::Value::Object(m) => m.values().try_for_each(|i| storable_document(field, i)),
        _ => Ok(()),
    }
}

/// A required one-line text: trimmed, non-empty, at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "string_too_short", "String should have at least 1 character"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, "string_too_long", format!("String should have at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "value_error", "Control characters are not allowed"));
    }
    Ok(v.to_string())
}

/// An optional multi-line text (descriptions): at most `max` characters; empty becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(FieldError::new(field, "string_too_long", format!("String should have at most {max} characters")));
    }
    Ok(Some(v.to_string()))
}

/// A URL-safe identifier: lower-case ASCII letters, digits and single hyphens, starting and ending
/// with a letter or digit, 1 to 63 characters.
///
/// ```
/// use scaikey_domain::validation::slug;
/// assert_eq!(slug("slug", "acme-eu").unwrap(), "acme-eu");
/// assert!(slug("slug", "Acme").is_err());
/// assert!(slug("slug", "-acme").is_err());
/// ```
pub fn slug(field: &str, value: &str) -> Result<String, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            "string_pattern_mismatch",
            "Slug must be 1-63 lower-case letters, digits or single hyphens, starting and ending with a letter or digit",
        )
    };
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if value.is_empty() || value.len() > MAX_SLUG_LEN || value.contains("--") {
        return Err(bad());
    }
    if !value.chars().all(|c| ok_char(c) || c == '-') {
        return Err(bad());
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// Derives a slug from a name: `"Acme EU  GmbH"` → `"acme-eu-gmbh"`. May return an empty
/// string when the name has no ASCII letter or digit; callers validate the result.
#[must_use]
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= MAX_SLUG_LEN {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// An e-mail address: trimmed, at most 254 characters, syntactically valid (HTML5 rules).
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.len() > MAX_EMAIL_LEN {
        return Err(FieldError::new(field, "string_too_long", "E-mail address is too long"));
    }
    if !v.validate_email() {
        return Err(FieldError::new(field, "value_error", "Value is not a valid email address"));
    }
    Ok(v.to_string())
}

/// A resource limit: `None` means unlimited, otherwise 0 to 2³¹−1.
pub fn limit(field: &str, value: Option<i64>) -> Result<Option<i32>, FieldError> {
    match value {
        None => Ok(None),
        Some(v) if (0..=MAX_LIMIT).contains(&v) => Ok(i32::try_from(v).ok()),
        Some(_) => Err(FieldError::new(
            field,
            "greater_than_equal",
            format!("Limit must be between 0 and {MAX_LIMIT}, or null for unlimited"),
        )),
    }
}

/// Parses one of a fixed set of wire names.
pub fn one_of<T: Copy>(field: &str, value: &str, all: &[T], name: impl Fn(T) -> &'static str) -> Result<T, FieldError> {
    all.iter().copied().find(|v| name(*v) == value).ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|v| format!("'{}'", name(*v))).collect();
        FieldError::new(field, "enum", format!("Input should be {}", names.join(", ")))
    })
}

/// Parses an ID of the expected kind.
pub fn id<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, FieldError> {
    value.parse().map_err(|_| FieldError::new(field, "value_error", "Not a valid ID of this kind"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_trims_and_bounds() {
        assert_eq!(text("name", "  Acme ", 10).unwrap(), "Acme");
        assert_eq!(text("name", "   ", 10).unwrap_err().kind, "string_too_short");
        assert_eq!(text("name", &"x".repeat(11), 10).unwrap_err().kind, "string_too_long");
        assert_eq!(text("name", "a\u{0}b", 10).unwrap_err().kind, "value_error");
        // Characters, not bytes.
        assert!(text("name", &"é".repeat(10), 10).is_ok());
    }

    #[test]
    fn slugs() {
        for good in ["a", "acme", "acme-eu-2", "0a"] {
            assert!(slug("s", good).is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "a b", "ä", long.as_str()] {
            assert!(slug("s", bad).is_err(), "{bad}");
        }
        assert_eq!(slugify("  Acme EU -- GmbH! "), "acme-eu-gmbh");
        assert_eq!(slugify("Ünïcode"), "n-code");
        assert_eq!(slugify("!!!"), "");
        assert!(slug("s", &slugify(&"Long name ".repeat(20))).is_ok());
    }

    #[test]
    fn emails_and_limits() {
        assert_eq!(email("e", " a@b.example ").unwrap(), "a@b.example");
        assert!(email("e", "not-an-email").is_err());
        assert!(email("e", &format!("{}@b.example", "a".repeat(260))).is_err());
        assert_eq!(limit("l", None).unwrap(), None);
        assert_eq!(limit("l", Some(0)).unwrap(), Some(0));
        assert!(limit("l", Some(-1)).is_err());
        assert!(limit("l", Some(MAX_LIMIT + 1)).is_err());
    }

    #[test]
    fn errors_collect_and_prefix() {
        let mut errs = ValidationErrors::new();
        assert!(errs.take(text("name", "ok", 5)).is_some());
        assert!(errs.take(text("slug", "", 5)).is_none());
        errs.push(FieldError::missing("email"));
        let e = errs.into_result().unwrap_err();
        assert_eq!(e.errors().len(), 2);
        assert_eq!(e.errors()[0].clone().under("body").loc, vec!["body", "slug"]);
    }
}

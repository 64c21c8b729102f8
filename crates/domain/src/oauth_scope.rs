//! OAuth scopes and resource indicators (contract §7).
//!
//! A scope is any RFC 6749 §3.3 scope-token: 1–128 characters from `%x21 / %x23-5B / %x5D-7E`
//! (printable ASCII without space, `"` or `\`). Applications name their own (`reports:read`,
//! `orders.write`). Reserved names keep the meaning ScaiKey gives them: the OpenID Connect
//! scopes, and `admin:read`/`admin:write`, which make platform tokens and so belong only to
//! `GLOBAL` `SERVICE` applications (checked in [`crate::application`]).
//!
//! A resource indicator (RFC 8707 §2) is an absolute URI without a fragment; it becomes the
//! `aud` of the tokens issued for it.

use crate::principal::{ADMIN_READ_SCOPE, ADMIN_WRITE_SCOPE};
use crate::validation::{FieldError, ValidationErrors};

/// Longest scope-token.
pub const MAX_SCOPE_LEN: usize = 128;
/// Most scopes (or resources) in one list.
pub const MAX_SCOPES: usize = 200;
/// Longest resource indicator.
pub const MAX_RESOURCE_LEN: usize = 2048;

/// The OpenID Connect scopes, reserved with their standard meaning.
pub const OIDC_SCOPES: [&str; 8] =
    ["openid", "profile", "email", "phone", "address", "offline_access", "groups", "roles"];
/// The admin scopes of platform tokens.
pub const ADMIN_SCOPES: [&str; 2] = [ADMIN_READ_SCOPE, ADMIN_WRITE_SCOPE];

/// The `aud` of tokens meant for ScaiKey's own APIs.
pub const SCAIKEY_AUDIENCE: &str = "scaikey";

/// `true` for a name whose meaning ScaiKey fixes.
#[must_use]
pub fn is_reserved(scope: &str) -> bool {
    OIDC_SCOPES.contains(&scope) || ADMIN_SCOPES.contains(&scope)
}

/// `true` for `admin:read` and `admin:write`.
#[must_use]
pub fn is_admin_scope(scope: &str) -> bool {
    ADMIN_SCOPES.contains(&scope)
}

/// Checks one scope-token; the error is a sentence for a person.
///
/// ```
/// use scaikey_domain::oauth_scope::scope_token;
/// assert!(scope_token("reports:read").is_ok());
/// assert!(scope_token("https://api.example.com/orders.write").is_ok());
/// assert!(scope_token("two words").is_err());
/// assert!(scope_token("").is_err());
/// ```
pub fn scope_token(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("A scope has at least 1 character".into());
    }
    if s.len() > MAX_SCOPE_LEN {
        return Err(format!("A scope has at most {MAX_SCOPE_LEN} characters"));
    }
    match s.chars().find(|&c| !is_scope_char(c)) {
        None => Ok(()),
        Some(' ') => Err("A scope contains no space".into()),
        Some(c @ ('"' | '\\')) => Err(format!("A scope contains no {c}")),
        Some(c) => Err(format!("A scope is printable ASCII; {:?} is not allowed", c)),
    }
}

/// RFC 6749 §3.3: `NQCHAR = %x21 / %x23-5B / %x5D-7E`.
const fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Checks a list of scopes (at most [`MAX_SCOPES`], no duplicates), one error per bad entry
/// at `field.<index>`; the list when every entry is good.
pub fn scope_list(errs: &mut ValidationErrors, field: &str, items: &[String]) -> Option<Vec<String>> {
    list(errs, field, items, MAX_SCOPES, scope_token).then(|| items.to_vec())
}

/// Checks one resource indicator (RFC 8707 §2: an absolute URI without a fragment).
///
/// ```
/// use scaikey_domain::oauth_scope::resource_indicator;
/// assert!(resource_indicator("https://api.example.com").is_ok());
/// assert!(resource_indicator("urn:example:orders").is_ok());
/// assert!(resource_indicator("/relative").is_err());
/// assert!(resource_indicator("https://api.example.com/#x").is_err());
/// ```
pub fn resource_indicator(s: &str) -> Result<(), String> {
    if s.len() > MAX_RESOURCE_LEN {
        return Err(format!("A resource has at most {MAX_RESOURCE_LEN} characters"));
    }
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) || s.contains('\\') {
        return Err("A resource is an absolute URI".into());
    }
    let u = url::Url::parse(s).map_err(|_| "A resource is an absolute URI".to_string())?;
    if u.fragment().is_some() || s.contains('#') {
        return Err("A resource has no fragment".into());
    }
    // `url` accepts `https:host`; a network resource must spell its authority.
    if u.is_special() && !s[u.scheme().len()..].starts_with("://") {
        return Err("A resource is an absolute URI".into());
    }
    Ok(())
}

/// Checks a list of resource indicators, one error per bad entry at `field.<index>`; the list
/// when every entry is good.
pub fn resource_list(errs: &mut ValidationErrors, field: &str, items: &[String]) -> Option<Vec<String>> {
    list(errs, field, items, MAX_SCOPES, resource_indicator).then(|| items.to_vec())
}

fn list(
    errs: &mut ValidationErrors,
    field: &str,
    items: &[String],
    max: usize,
    check: impl Fn(&str) -> Result<(), String>,
) -> bool {
    if items.len() > max {
        errs.push(FieldError::new(field, "too_long", format!("At most {max} entries")));
        return false;
    }
    let before = errs.errors().len();
    for (i, item) in items.iter().enumerate() {
        let at = [field, &i.to_string()];
        if let Err(msg) = check(item) {
            errs.push(FieldError::at(&at, "value_error", msg));
        } else if items[..i].contains(item) {
            errs.push(FieldError::at(&at, "value_error", "Duplicate entry"));
        }
    }
    errs.errors().len() == before
}

/// Why a requested `scope` parameter cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRefusal {
    /// Not a scope-token at all.
    Malformed(String),
    /// A well-formed scope the client may not have.
    NotAllowed(String),
}

impl ScopeRefusal {
    /// A sentence for `error_description`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            ScopeRefusal::Malformed(m) => format!("Malformed scope: {m}"),
            ScopeRefusal::NotAllowed(s) => format!("Scope '{s}' is not allowed for this client"),
        }
    }
}

/// Narrows a requested `scope` parameter (space-separated) to what a client may have: every
/// requested scope must be in `allowed`; duplicates collapse; the order of the request is kept.
/// No `scope` grants all of `allowed`.
///
/// ```
/// use scaikey_domain::oauth_scope::narrow;
/// let allowed = ["reports:read".to_string(), "reports:write".to_string()];
/// assert_eq!(narrow(Some("reports:read"), &allowed).unwrap(), ["reports:read"]);
/// assert_eq!(narrow(None, &allowed).unwrap(), allowed);
/// assert!(narrow(Some("admin:write"), &allowed).is_err());
/// ```
pub fn narrow(requested: Option<&str>, allowed: &[String]) -> Result<Vec<String>, ScopeRefusal> {
    let Some(requested) = requested else { return Ok(allowed.to_vec()) };
    let mut out: Vec<String> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        scope_token(s).map_err(ScopeRefusal::Malformed)?;
        if !allowed.iter().any(|a| a == s) {
            return Err(ScopeRefusal::NotAllowed(s.to_string()));
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

/// Why a requested `resource` cannot be the audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRefusal {
    /// Not an absolute URI without fragment.
    Malformed(String),
    /// Not in the client's `allowed_resources`.
    NotAllowed(String),
    /// More than one distinct resource (tokens have one audience).
    Several,
}

impl TargetRefusal {
    /// A sentence for `error_description`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            TargetRefusal::Malformed(m) => format!("Malformed resource: {m}"),
            TargetRefusal::NotAllowed(r) => format!("Resource '{r}' is not allowed for this client"),
            TargetRefusal::Several => "Request one resource per token".into(),
        }
    }
}

/// The audience of a token requested with the RFC 8707 `resource` parameters `requested`:
/// the one resource when given and allowed, else `default` (`scaikey` for ScaiKey's APIs).
///
/// ```
/// use scaikey_domain::oauth_scope::{audience, TargetRefusal};
/// let allowed = ["https://api.example.com".to_string()];
/// assert_eq!(audience(&[], &allowed, "scaikey").unwrap(), "scaikey");
/// assert_eq!(audience(&["https://api.example.com"], &allowed, "scaikey").unwrap(), "https://api.example.com");
/// assert!(matches!(audience(&["https://other.example"], &allowed, "scaikey"), Err(TargetRefusal::NotAllowed(_))));
/// ```
pub fn audience(requested: &[&str], allowed: &[String], default: &str) -> Result<String, TargetRefusal> {
    let mut chosen: Option<&str> = None;
    for r in requested {
        resource_indicator(r).map_err(TargetRefusal::Malformed)?;
        if !allowed.iter().any(|a| a == r) {
            return Err(TargetRefusal::NotAllowed((*r).to_string()));
        }
        match chosen {
            Some(c) if c != *r => return Err(TargetRefusal::Several),
            _ => chosen = Some(r),
        }
    }
    Ok(chosen.unwrap_or(default).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_table() {
        let valid = [
            "a",
            "reports:read",
            "sync:read",
            "orders.write",
            "https://api.example.com/orders.write",
            "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
            "UPPER_lower-123",
        ];
        for s in valid {
            assert_eq!(scope_token(s), Ok(()), "{s}");
        }
        assert!(scope_token(&"x".repeat(MAX_SCOPE_LEN)).is_ok());
        assert!(scope_token(&"x".repeat(MAX_SCOPE_LEN + 1)).is_err());
        assert!(scope_token("").is_err());
        // Every character outside NQCHAR, alone and inside a name.
        for c in (0u8..=0x7f).map(char::from).filter(|c| !matches!(*c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')) {
            assert!(scope_token(&c.to_string()).is_err(), "{c:?}");
            assert!(scope_token(&format!("read{c}write")).is_err(), "{c:?}");
        }
        for s in ["café", "ü", "\u{a0}", "名前", "read\u{0}"] {
            assert!(scope_token(s).is_err(), "{s:?}");
        }
        assert_eq!(scope_token("a b"), Err("A scope contains no space".into()));
        assert_eq!(scope_token("a\"b"), Err("A scope contains no \"".into()));
        assert_eq!(scope_token("a\\b"), Err("A scope contains no \\".into()));
    }

    #[test]
    fn reserved_names() {
        for s in OIDC_SCOPES.iter().chain(&ADMIN_SCOPES) {
            assert!(is_reserved(s), "{s}");
        }
        for s in ["reports:read", "admin", "admin:delete", "OPENID", "openid2"] {
            assert!(!is_reserved(s), "{s}");
        }
        assert!(is_admin_scope("admin:write") && !is_admin_scope("openid"));
    }

    #[test]
    fn lists_report_each_bad_entry_and_duplicates() {
        let mut e = ValidationErrors::new();
        scope_list(&mut e, "allowed_scopes", &["ok:1".into(), "bad scope".into(), "ok:1".into(), String::new()]);
        let locs: Vec<String> = e.errors().iter().map(|x| x.loc.join(".")).collect();
        assert_eq!(locs, ["allowed_scopes.1", "allowed_scopes.2", "allowed_scopes.3"]);
        let mut e = ValidationErrors::new();
        scope_list(&mut e, "s", &vec!["a".to_string(); MAX_SCOPES + 1]);
        assert_eq!(e.errors().len(), 1);
    }

    #[test]
    fn resources_table() {
        for r in ["https://api.example.com", "https://api.example.com/v1?x=1", "http://127.0.0.1:8080/mcp", "urn:x:y"] {
            assert_eq!(resource_indicator(r), Ok(()), "{r}");
        }
        for r in ["", "/mcp", "api.example.com", "https://a/#f", "https://a/ b", "https:api", "https://a\\b", "x\u{0}"]
        {
            assert!(resource_indicator(r).is_err(), "{r:?}");
        }
        assert!(resource_indicator(&format!("https://a/{}", "x".repeat(MAX_RESOURCE_LEN))).is_err());
    }

    #[test]
    fn narrowing() {
        let allowed: Vec<String> = ["openid", "reports:read", "reports:write"].map(String::from).to_vec();
        assert_eq!(
            narrow(Some("reports:write reports:read reports:write"), &allowed).unwrap(),
            ["reports:write", "reports:read"]
        );
        assert_eq!(narrow(Some(""), &allowed).unwrap(), Vec::<String>::new());
        assert_eq!(narrow(Some("reports:delete"), &allowed), Err(ScopeRefusal::NotAllowed("reports:delete".into())));
        assert!(matches!(narrow(Some("a\"b"), &allowed), Err(ScopeRefusal::Malformed(_))));
        assert!(narrow(Some("reports:read\treports:write"), &allowed).is_err());
    }

    #[test]
    fn audiences() {
        let allowed: Vec<String> = ["https://a.example", "urn:b"].map(String::from).to_vec();
        assert_eq!(audience(&["urn:b", "urn:b"], &allowed, "scaikey").unwrap(), "urn:b");
        assert_eq!(audience(&["urn:b", "https://a.example"], &allowed, "scaikey"), Err(TargetRefusal::Several));
        assert!(matches!(audience(&["nope"], &allowed, "scaikey"), Err(TargetRefusal::Malformed(_))));
        assert!(matches!(audience(&["https://c.example"], &[], "scaikey"), Err(TargetRefusal::NotAllowed(_))));
    }
}

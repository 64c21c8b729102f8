//! The claims each scope releases (OIDC Core §5.4, contract §8), for ID tokens and userinfo,
//! and the hashes and authentication facts ID tokens carry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// What ScaiKey knows of a user that scopes may release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    /// `sub`: the user's `usr_…` ID.
    pub subject: String,
    /// The user's tenant (`tnt_…`), released with every token.
    pub tenant_id: Option<String>,
    /// E-mail.
    pub email: String,
    /// Whether a link sent to it was followed.
    pub email_verified: bool,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Names of the groups the user is in (directly or through nesting).
    pub groups: Vec<String>,
    /// Admin roles.
    pub roles: Vec<String>,
}

impl Profile {
    /// `name`: the display name, else given and family name joined.
    #[must_use]
    pub fn name(&self) -> Option<String> {
        self.display_name.clone().or_else(|| {
            let parts: Vec<&str> =
                [&self.given_name, &self.family_name].into_iter().flatten().map(String::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }
}

/// `true` when a granted scope set asks for the user's groups (which costs a query).
#[must_use]
pub fn wants_groups(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "groups")
}

/// The user claims the granted `scopes` release: `sub` and `tenant_id` always; `email`
/// `email_verified` for `email`; `name given_name family_name` for `profile`; `groups` (names)
/// for `groups`; `roles` for `roles`. Absent values are left out, not sent as null.
///
/// ```
/// use scaikey_domain::oidc::claims::{user_claims, Profile};
/// let p = Profile { subject: "usr_1".into(), email: "a@b.example".into(), ..Profile::default() };
/// let c = user_claims(&["openid".to_string()], &p);
/// assert_eq!(c.get("sub").and_then(|v| v.as_str()), Some("usr_1"));
/// assert!(c.get("email").is_none());
/// ```
#[must_use]
pub fn user_claims(scopes: &[String], p: &Profile) -> Map<String, Value> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut c = Map::new();
    c.insert("sub".into(), json!(p.subject));
    c.insert("tenant_id".into(), json!(p.tenant_id));
    if has("email") {
        c.insert("email".into(), json!(p.email));
        c.insert("email_verified".into(), json!(p.email_verified));
    }
    if has("profile") {
        for (k, v) in [("name", p.name()), ("given_name", p.given_name.clone()), ("family_name", p.family_name.clone())]
        {
            if let Some(v) = v {
                c.insert(k.into(), json!(v));
            }
        }
    }
    if has("groups") {
        c.insert("groups".into(), json!(p.groups));
    }
    if has("roles") {
        c.insert("roles".into(), json!(p.roles));
    }
    c
}

/// How the user authenticated (`amr`, RFC 8176) and the resulting `acr` (contract §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// A password alone.
    Password,
    /// A password and a one-time code.
    PasswordAndOtp,
    /// A password and a hardware-bound key (passkey).
    PasswordAndKey,
    /// A tenant's identity provider authenticated the person (contract §11). Its own `amr` is
    /// not copied: a provider a tenant admin configured must not raise what ScaiKey claims.
    Federated,
}

impl Authentication {
    /// The `amr` value of a federated session.
    pub const FEDERATED_AMR: &'static str = "fed";

    /// How a session with these stored `amr` values authenticated.
    #[must_use]
    pub fn of_session(amr: &[String]) -> Authentication {
        let has = |v: &str| amr.iter().any(|a| a == v);
        if has(Self::FEDERATED_AMR) {
            Authentication::Federated
        } else if has("hwk") {
            Authentication::PasswordAndKey
        } else if has("otp") {
            Authentication::PasswordAndOtp
        } else {
            Authentication::Password
        }
    }

    /// The `amr` values.
    #[must_use]
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Authentication::Password => &["pwd"],
            Authentication::PasswordAndOtp => &["pwd", "otp", "mfa"],
            Authentication::PasswordAndKey => &["pwd", "hwk", "mfa"],
            Authentication::Federated => &["fed"],
        }
    }

    /// The `acr` value.
    #[must_use]
    pub fn acr(self) -> &'static str {
        match self {
            // A federated sign-in is of the single-factor level: what the upstream checked is
            // not known (contract §10 names two levels).
            Authentication::Password | Authentication::Federated => "urn:scaikey:acr:pwd",
            Authentication::PasswordAndOtp | Authentication::PasswordAndKey => "urn:scaikey:acr:mfa",
        }
    }
}

/// `at_hash` / `c_hash` (OIDC Core §3.1.3.6): the left half of the SHA-256 of the value,
/// base64url (both ES256 and RS256 hash with SHA-256).
///
/// ```
/// // OIDC Core Appendix A.3's example token and at_hash ("77QmUPtjPfzWtF2AnpK9RQ").
/// assert_eq!(scaikey_domain::oidc::claims::left_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
/// ```
#[must_use]
pub fn left_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn claims_per_scope_table() {
        let p = Profile {
            subject: "usr_1".into(),
            tenant_id: Some("tnt_1".into()),
            email: "ana@acme.example".into(),
            email_verified: true,
            given_name: Some("Ana".into()),
            family_name: Some("Ortiz".into()),
            display_name: None,
            groups: vec!["Engineering".into(), "Platform".into()],
            roles: vec!["tenant_admin".into()],
        };
        let keys = |s: &[&str]| -> Vec<String> {
            let mut k: Vec<String> = user_claims(&scopes(s), &p).keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&["openid"]), ["sub", "tenant_id"]);
        assert_eq!(keys(&["openid", "email"]), ["email", "email_verified", "sub", "tenant_id"]);
        assert_eq!(keys(&["openid", "profile"]), ["family_name", "given_name", "name", "sub", "tenant_id"]);
        assert_eq!(keys(&["openid", "groups", "roles"]), ["groups", "roles", "sub", "tenant_id"]);
        assert_eq!(keys(&["openid", "phone", "address", "reports:read"]), ["sub", "tenant_id"]);
        let all = user_claims(&scopes(&["openid", "profile", "groups"]), &p);
        assert_eq!(all["name"], "Ana Ortiz");
        assert_eq!(all["groups"], json!(["Engineering", "Platform"]));
        let named = Profile { display_name: Some("Dr. Ana".into()), ..p.clone() };
        assert_eq!(user_claims(&scopes(&["profile"]), &named)["name"], "Dr. Ana");
        let bare = Profile { given_name: None, family_name: None, ..p };
        assert!(!user_claims(&scopes(&["profile"]), &bare).contains_key("name"));
        assert!(wants_groups(&scopes(&["openid", "groups"])) && !wants_groups(&scopes(&["openid"])));
    }

    #[test]
    fn authentication_facts() {
        assert_eq!(Authentication::Password.amr(), ["pwd"]);
        assert_eq!(Authentication::Password.acr(), "urn:scaikey:acr:pwd");
        assert_eq!(Authentication::PasswordAndKey.amr(), ["pwd", "hwk", "mfa"]);
        assert_eq!(Authentication::PasswordAndOtp.acr(), "urn:scaikey:acr:mfa");
        let of = |v: &[&str]| Authentication::of_session(&v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>());
        assert_eq!(of(&["pwd"]), Authentication::Password);
        assert_eq!(of(&["pwd", "otp"]), Authentication::PasswordAndOtp);
        assert_eq!(of(&["pwd", "hwk"]), Authentication::PasswordAndKey);
        assert_eq!(of(&["fed"]), Authentication::Federated);
        assert_eq!((of(&["fed"]).amr(), of(&["fed"]).acr()), (&["fed"][..], "urn:scaikey:acr:pwd"));
    }
}

//! Dynamic client registration (RFC 7591, contract §12): the client metadata ScaiKey reads from a
//! registration, the policy that decides whether it waits for an admin, and the per-IP limit.
//! A registration becomes a registration request (`reg_`) for a public, third-party
//! (`first_party: false`) application whose client ID is answered at once and works once the
//! request is approved. Unknown metadata is ignored (RFC 7591 §2).
//!
//! ```
//! use scaikey_domain::dcr::{ClientMetadata, DcrPolicy};
//! use serde_json::json;
//!
//! let m = ClientMetadata::read(&json!({
//!     "client_name": "Claude", "redirect_uris": ["http://127.0.0.1:33418/callback"],
//!     "token_endpoint_auth_method": "none", "scope": "openid profile", "logo_uri": "ignored"
//! })).unwrap();
//! assert_eq!(m.application_type, "NATIVE");
//! assert!(DcrPolicy::Auto.approves_at_once(&m.scopes, &[], "https://id.example.com/mcp"));
//! assert!(!DcrPolicy::Approve.approves_at_once(&m.scopes, &[], "https://id.example.com/mcp"));
//! ```

use serde_json::Value;

/// Scopes a client may ask for and still be approved at once under [`DcrPolicy::Auto`].
pub const AUTO_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];
/// Registrations one client IP may make per [`IP_WINDOW_MINUTES`].
pub const IP_MAX_REGISTRATIONS: i64 = 20;
/// The window of the per-IP limit.
pub const IP_WINDOW_MINUTES: i64 = 60;
/// The only authentication a dynamically registered client may use (public clients, PKCE).
pub const AUTH_METHOD: &str = "none";

/// `SCAIKEY_DCR_POLICY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcrPolicy {
    /// Every registration waits (PENDING) until an admin approves it.
    Approve,
    /// Registrations asking only for [`AUTO_SCOPES`] and MCP resources are approved at once.
    Auto,
}

impl DcrPolicy {
    /// Parses the setting.
    #[must_use]
    pub fn parse(s: &str) -> Option<DcrPolicy> {
        match s {
            "approve" => Some(DcrPolicy::Approve),
            "auto" => Some(DcrPolicy::Auto),
            _ => None,
        }
    }

    /// Whether a registration asking for `scopes` and `resources` is approved without an admin
    /// (`mcp_resource` is `{issuer}/mcp`).
    #[must_use]
    pub fn approves_at_once(self, scopes: &[String], resources: &[String], mcp_resource: &str) -> bool {
        self == DcrPolicy::Auto
            && scopes.iter().all(|s| AUTO_SCOPES.contains(&s.as_str()))
            && resources.iter().all(|r| r == mcp_resource)
    }
}

/// The metadata ScaiKey reads from a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    /// `client_name` (a default when absent).
    pub client_name: String,
    /// `redirect_uris` (checked later by the application rules).
    pub redirect_uris: Vec<String>,
    /// `grant_types` (default `authorization_code`; `refresh_token` kept).
    pub grant_types: Vec<String>,
    /// `scope`, split (default [`AUTO_SCOPES`]).
    pub scopes: Vec<String>,
    /// RFC 8707 resources the client will ask tokens for (`resource`, a ScaiKey extension).
    pub resources: Vec<String>,
    /// `NATIVE` for loopback or custom-scheme redirects, else `SPA` (a browser-based public client).
    pub application_type: &'static str,
    /// `contacts`' first entry.
    pub contact: Option<String>,
    /// `client_uri`.
    pub client_uri: Option<String>,
    /// `scaikey_tenant`: a tenant slug or ID (a TENANT request), else GLOBAL.
    pub tenant: Option<String>,
}

fn strings(v: &Value, key: &str) -> Result<Option<Vec<String>>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("{key} must be an array of strings")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("{key} must be an array of strings")),
    }
}

fn text(v: &Value, key: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

/// Whether a redirect URI is a native app's: a loopback `http` URL or a private-use scheme.
fn native_redirect(uri: &str) -> bool {
    uri.starts_with("http://127.0.0.1")
        || uri.starts_with("http://[::1]")
        || uri.starts_with("http://localhost")
        || !(uri.starts_with("http://") || uri.starts_with("https://"))
}

impl ClientMetadata {
    /// Reads a registration body; `Err` is the `error_description` of an
    /// `invalid_client_metadata` answer.
    ///
    /// # Errors
    /// Not a JSON object, a field of the wrong type, no redirect URI, a confidential
    /// authentication method, or a grant a public client cannot use.
    pub fn read(v: &Value) -> Result<ClientMetadata, String> {
        if !v.is_object() {
            return Err("The registration must be a JSON object".into());
        }
        let redirect_uris = strings(v, "redirect_uris")?.unwrap_or_default();
        if redirect_uris.is_empty() {
            return Err("redirect_uris is required".into());
        }
        match text(v, "token_endpoint_auth_method")?.as_deref() {
            None | Some(AUTH_METHOD) => {}
            Some(other) => {
                return Err(format!(
                    "token_endpoint_auth_method {other} is not offered: clients registered here are public (none) and use PKCE"
                ));
            }
        }
        let grant_types = strings(v, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
        if let Some(g) = grant_types.iter().find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token")) {
            return Err(format!("grant type {g} is not offered to registered clients"));
        }
        if !grant_types.iter().any(|g| g == "authorization_code") {
            return Err("grant_types must include authorization_code".into());
        }
        if let Some(r) = strings(v, "response_types")?
            && r.iter().any(|t| t != "code")
        {
            return Err("response_types must be [\"code\"]".into());
        }
        let scopes = match text(v, "scope")? {
            Some(s) => s.split_whitespace().map(str::to_string).collect(),
            None => AUTO_SCOPES.map(String::from).to_vec(),
        };
        let resources = match v.get("resource") {
            Some(Value::String(s)) => vec![s.clone()],
            _ => strings(v, "resource")?.unwrap_or_default(),
        };
        let application_type = if redirect_uris.iter().all(|u| native_redirect(u)) { "NATIVE" } else { "SPA" };
        let client_name = text(v, "client_name")?
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "Registered client".into());
        Ok(ClientMetadata {
            client_name,
            redirect_uris,
            grant_types,
            scopes,
            resources,
            application_type,
            contact: strings(v, "contacts")?.and_then(|c| c.into_iter().next()),
            client_uri: text(v, "client_uri")?,
            tenant: text(v, "scaikey_tenant")?,
        })
    }
}

/// Whether one more registration from an IP that made `recent` in the window may go on.
#[must_use]
pub fn ip_may_register(recent: i64) -> bool {
    recent < IP_MAX_REGISTRATIONS
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_is_read_with_defaults_and_unknown_fields_ignored() {
        let m =
            ClientMetadata::read(&json!({"redirect_uris": ["https://app.example/cb"], "jwks_uri": "x", "foo": [1]}))
                .unwrap();
        assert_eq!(m.client_name, "Registered client");
        assert_eq!(m.application_type, "SPA");
        assert_eq!(m.grant_types, ["authorization_code"]);
        assert_eq!(m.scopes, AUTO_SCOPES);
        assert_eq!(m.tenant, None);
        let m = ClientMetadata::read(&json!({"redirect_uris": ["com.example.app:/cb"], "scaikey_tenant": "acme",
            "grant_types": ["authorization_code", "refresh_token"], "contacts": ["ops@example.com"], "resource": "https://id/mcp"}))
        .unwrap();
        assert_eq!(
            (m.application_type, m.tenant.as_deref(), m.contact.as_deref()),
            ("NATIVE", Some("acme"), Some("ops@example.com"))
        );
        assert_eq!(m.resources, ["https://id/mcp"]);
    }

    #[test]
    fn bad_metadata_is_refused_with_a_reason() {
        for (body, needle) in [
            (json!([]), "JSON object"),
            (json!({}), "redirect_uris"),
            (json!({"redirect_uris": "https://a/cb"}), "array"),
            (json!({"redirect_uris": ["https://a/cb"], "token_endpoint_auth_method": "client_secret_basic"}), "public"),
            (json!({"redirect_uris": ["https://a/cb"], "grant_types": ["client_credentials"]}), "client_credentials"),
            (json!({"redirect_uris": ["https://a/cb"], "grant_types": ["refresh_token"]}), "authorization_code"),
            (json!({"redirect_uris": ["https://a/cb"], "response_types": ["token"]}), "response_types"),
            (json!({"redirect_uris": ["https://a/cb"], "scope": 5}), "scope"),
        ] {
            let e = ClientMetadata::read(&body).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }

    #[test]
    fn the_policy_and_the_ip_limit() {
        let mcp = "https://id.example.com/mcp";
        let s = |x: &[&str]| x.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert!(DcrPolicy::Auto.approves_at_once(&s(&["openid", "offline_access"]), &s(&[mcp]), mcp));
        assert!(!DcrPolicy::Auto.approves_at_once(&s(&["openid", "orders:write"]), &[], mcp));
        assert!(!DcrPolicy::Auto.approves_at_once(&s(&["openid"]), &s(&["https://api.example"]), mcp));
        assert_eq!(DcrPolicy::parse("auto"), Some(DcrPolicy::Auto));
        assert_eq!(DcrPolicy::parse("yes"), None);
        assert!(ip_may_register(IP_MAX_REGISTRATIONS - 1));
        assert!(!ip_may_register(IP_MAX_REGISTRATIONS));
    }
}

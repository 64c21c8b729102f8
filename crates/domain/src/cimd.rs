//! Client ID metadata documents (contract §12, draft-ietf-oauth-client-id-metadata-document):
//! with `SCAIKEY_CIMD=on`, a `client_id` that is an https URL names a JSON document describing
//! the client, fetched by ScaiKey. The document's `client_id` must be that very URL; the client
//! is public (PKCE, no secret); the rest is read as a dynamic registration's metadata, and the
//! client joins the registration queue as a dynamically registered one does.
//!
//! ```
//! use scaikey_domain::cimd::{document_url, read_document};
//! use serde_json::json;
//!
//! let url = "https://app.example.com/oauth/client.json";
//! assert!(document_url(url, false).is_some());
//! assert!(document_url("app_01HZY3K7Q8W9E2R4T6Y8V0A2B4", false).is_none());
//! let doc = json!({"client_id": url, "client_name": "Notes", "redirect_uris": ["https://app.example.com/cb"]});
//! assert_eq!(read_document(&doc, url).unwrap().client_name, "Notes");
//! assert!(read_document(&doc, "https://other.example/client.json").is_err());
//! ```

use serde_json::Value;

use crate::dcr::ClientMetadata;

/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch may take, in seconds.
pub const FETCH_TIMEOUT_SECONDS: u64 = 5;
/// Shortest and longest time a fetched document is reused, in seconds (its `Cache-Control`
/// decides within these bounds).
pub const MIN_CACHE_SECONDS: i64 = 60;
/// See [`MIN_CACHE_SECONDS`].
pub const MAX_CACHE_SECONDS: i64 = 24 * 3600;
/// Longest client ID URL.
pub const MAX_URL_LEN: usize = 2048;

/// The document URL a `client_id` is, if it is one: https (or http on a loopback host when
/// `loopback_allowed`, outside production), with a path, without fragment, credentials or dot
/// segments.
#[must_use]
pub fn document_url(client_id: &str, loopback_allowed: bool) -> Option<url::Url> {
    if client_id.len() > MAX_URL_LEN || !(client_id.starts_with("https://") || client_id.starts_with("http://")) {
        return None;
    }
    let u = url::Url::parse(client_id).ok()?;
    let loopback = match u.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    };
    let scheme_ok = (u.scheme() == "https" && crate::federated::fetchable(&u, !loopback_allowed))
        || (u.scheme() == "http" && loopback && loopback_allowed);
    // The URL as given must be the URL parsed: a normalised form (dot segments, case) would be
    // a second name for the same client.
    let exact = u.as_str() == client_id;
    let plain = u.fragment().is_none() && u.username().is_empty() && u.password().is_none();
    (scheme_ok && exact && plain && u.path() != "/").then_some(u)
}

/// Reads a fetched document for `url`: a JSON object whose `client_id` is `url`, of a public
/// client (no secret, `token_endpoint_auth_method` absent or `none`), with the metadata of a
/// dynamic registration.
pub fn read_document(doc: &Value, url: &str) -> Result<ClientMetadata, String> {
    let obj = doc.as_object().ok_or("the document is not a JSON object")?;
    if obj.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err("the document's client_id is not its URL".into());
    }
    if obj.contains_key("client_secret") || obj.contains_key("client_secret_expires_at") {
        return Err("a client metadata document cannot carry a secret".into());
    }
    match obj.get("token_endpoint_auth_method").and_then(Value::as_str) {
        None | Some("none") => {}
        Some(other) => return Err(format!("token_endpoint_auth_method {other} is not supported (only none)")),
    }
    ClientMetadata::read(doc)
}

/// How long to reuse a document fetched with this `Cache-Control` header: its `max-age`
/// within [`MIN_CACHE_SECONDS`]..=[`MAX_CACHE_SECONDS`] (the minimum also for `no-cache`,
/// `no-store` or none: a document is fetched at most once a minute).
#[must_use]
pub fn cache_seconds(cache_control: Option<&str>) -> i64 {
    let max_age = cache_control.and_then(|h| {
        h.split(',')
            .filter_map(|d| d.trim().strip_prefix("max-age="))
            .find_map(|v| v.trim_matches('"').parse::<i64>().ok())
    });
    max_age.unwrap_or(MIN_CACHE_SECONDS).clamp(MIN_CACHE_SECONDS, MAX_CACHE_SECONDS)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn document_urls() {
        assert!(document_url("https://app.example.com/client.json", false).is_some());
        assert!(document_url("http://127.0.0.1:8123/client.json", true).is_some());
        for bad in [
            "http://127.0.0.1:8123/client.json",
            "http://app.example.com/client.json",
            "https://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/a/../client.json",
            "https://APP.example.com/client.json",
            "https://u:p@app.example.com/client.json",
            "https://app.example.com/client.json#x",
            "ftp://app.example.com/client.json",
            "app_01HZY3K7Q8W9E2R4T6Y8V0A2B4",
        ] {
            assert!(document_url(bad, false).is_none(), "{bad}");
        }
        assert!(document_url(&format!("https://a.example/{}", "x".repeat(MAX_URL_LEN)), false).is_none());
    }

    #[test]
    fn documents() {
        let url = "https://app.example.com/client.json";
        let ok =
            json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"});
        assert_eq!(read_document(&ok, url).unwrap().application_type, "NATIVE");
        assert!(read_document(&json!([]), url).is_err());
        assert!(read_document(&json!({"redirect_uris": ["http://127.0.0.1/cb"]}), url).is_err());
        let secret = json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"], "client_secret": "s"});
        assert!(read_document(&secret, url).is_err());
        let jwt = json!({"client_id": url, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "private_key_jwt"});
        assert!(read_document(&jwt, url).unwrap_err().contains("private_key_jwt"));
    }

    #[test]
    fn cache_lifetimes() {
        assert_eq!(cache_seconds(Some("public, max-age=3600")), 3600);
        assert_eq!(cache_seconds(Some("max-age=5")), MIN_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("max-age=99999999")), MAX_CACHE_SECONDS);
        assert_eq!(cache_seconds(Some("no-store")), MIN_CACHE_SECONDS);
        assert_eq!(cache_seconds(None), MIN_CACHE_SECONDS);
    }
}

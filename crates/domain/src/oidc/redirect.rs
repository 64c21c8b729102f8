//! Redirect URI matching (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3): the `redirect_uri` of an
//! authorization request must equal a registered one character for character. The one exception
//! is RFC 8252 §7.3: a NATIVE application's loopback redirect (`http://127.0.0.1`, `[::1]` or
//! `localhost`) matches on any port, since the operating system hands the app a free one.

use url::Url;

use crate::application::ApplicationType;

/// The registered URI that `requested` matches, if any.
///
/// ```
/// use scaikey_domain::application::ApplicationType;
/// use scaikey_domain::oidc::redirect::registered_match;
/// let web = ["https://app.example.com/cb".to_string()];
/// assert!(registered_match("https://app.example.com/cb", &web, ApplicationType::Web).is_some());
/// assert!(registered_match("https://app.example.com/cb/", &web, ApplicationType::Web).is_none());
/// let native = ["http://127.0.0.1/callback".to_string()];
/// assert!(registered_match("http://127.0.0.1:53211/callback", &native, ApplicationType::Native).is_some());
/// assert!(registered_match("http://127.0.0.1:53211/callback", &native, ApplicationType::Web).is_none());
/// ```
#[must_use]
pub fn registered_match<'a>(requested: &str, registered: &'a [String], app: ApplicationType) -> Option<&'a str> {
    if let Some(exact) = registered.iter().find(|r| r.as_str() == requested) {
        return Some(exact);
    }
    if app != ApplicationType::Native {
        return None;
    }
    let want = loopback_without_port(requested)?;
    registered.iter().find(|r| loopback_without_port(r).as_deref() == Some(want.as_str())).map(String::as_str)
}

/// `http://<loopback host><path>?<query>` with the port removed, for an http loopback URI
/// written without userinfo or fragment; `None` for anything else.
fn loopback_without_port(s: &str) -> Option<String> {
    let u = Url::parse(s).ok()?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    if u.scheme() != "http" || !loopback || !u.username().is_empty() || u.password().is_some() || s.contains('#') {
        return None;
    }
    // Only the port may differ: the rest must be spelled as registered.
    let mut bare = u.clone();
    bare.set_port(None).ok()?;
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = u.host_str()?;
    if !s.starts_with(&format!("http://{host}{port}")) {
        return None;
    }
    Some(bare.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationType::*;

    fn reg(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn exact_matching_table() {
        let r = reg(&["https://app.example.com/cb", "https://app.example.com/cb?tab=1"]);
        for (req, ok) in [
            ("https://app.example.com/cb", true),
            ("https://app.example.com/cb?tab=1", true),
            ("https://app.example.com/cb?tab=2", false),
            ("https://app.example.com/cb/", false),
            ("https://APP.example.com/cb", false),
            ("https://app.example.com/CB", false),
            ("https://app.example.com:443/cb", false),
            ("https://app.example.com/cb#x", false),
            ("https://app.example.com/cb/../cb", false),
            ("https://evil.example/cb", false),
            ("https://app.example.com.evil.example/cb", false),
            ("", false),
        ] {
            for t in [Web, Spa, Native] {
                assert_eq!(registered_match(req, &r, t).is_some(), ok, "{req} {t:?}");
            }
        }
    }

    #[test]
    fn native_loopback_ports() {
        let r = reg(&["http://127.0.0.1/cb", "http://[::1]:8000/cb", "http://localhost/cb?x=1"]);
        for (req, ok) in [
            ("http://127.0.0.1/cb", true),
            ("http://127.0.0.1:49152/cb", true),
            ("http://[::1]:1/cb", true),
            ("http://[::1]/cb", true),
            ("http://localhost:5000/cb?x=1", true),
            ("http://localhost:5000/cb?x=2", false),
            ("http://127.0.0.1:49152/other", false),
            ("http://127.0.0.2:49152/cb", false),
            ("https://127.0.0.1:49152/cb", false),
            ("http://user@127.0.0.1:49152/cb", false),
            ("http://127.0.0.1:49152/cb#f", false),
            ("http://127.0.0.1:49152/%63b", false),
        ] {
            assert_eq!(registered_match(req, &r, Native).is_some(), ok, "{req}");
        }
        // Only NATIVE apps get the port exception.
        assert!(registered_match("http://127.0.0.1:49152/cb", &r, Spa).is_none());
        assert!(registered_match("http://127.0.0.1:49152/cb", &r, Web).is_none());
    }
}

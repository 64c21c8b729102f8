//! Stateful workloads for the load generator: each connection runs its own [`Flow`] over and
//! over, and one completed iteration (not one request) is what is counted and timed.
//!
//! - [`CodeFlow`] (W7): what a browser and a relying party do for one sign-in: the
//!   authorization request, the hosted login page, its form (Argon2id), the redirect with the
//!   code, and the code redeemed at the token endpoint with PKCE; a fresh cookie jar each time,
//!   so each iteration is a new person signing in.
//! - [`RefreshFlow`] (W8): one refresh grant after another on one token family, each using the
//!   token the previous answer rotated in.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::load::Request;

/// What an answer means for the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send [`Flow::request`] again: the iteration goes on.
    Next,
    /// The iteration is complete.
    Done,
    /// The iteration failed; the flow starts over.
    Failed(String),
}

/// An answer as a flow sees it.
#[derive(Debug)]
pub struct Reply<'a> {
    /// HTTP status.
    pub status: u16,
    /// The response head (status line and headers).
    pub head: &'a str,
    /// The body.
    pub body: &'a [u8],
}

impl Reply<'_> {
    /// Values of every header called `name` (case-blind).
    pub fn headers<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.head.split("\r\n").skip(1).filter_map(move |line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn location(&self) -> Option<&str> {
        self.headers("location").next()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(self.body).chars().take(200).collect()
    }
}

/// One connection's repeated work.
pub trait Flow: Send + 'static {
    /// The next request of the current iteration.
    fn request(&mut self) -> Request;
    /// Takes the answer to the last request.
    fn answer(&mut self, reply: &Reply<'_>) -> Step;
    /// Prepares the next iteration (after one completed, failed or lost its connection).
    fn restart(&mut self);
}

/// `application/x-www-form-urlencoded`.
#[must_use]
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of query parameter `name` in `url`.
#[must_use]
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

/// The `value` of the form input named `name` in a page (ScaiKey's templates write
/// `name="…" value="…"`).
#[must_use]
pub fn input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
}

/// A cookie jar for one server.
#[derive(Debug, Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn keep(&mut self, reply: &Reply<'_>) {
        for v in reply.headers("set-cookie") {
            let Some((k, val)) = v.split(';').next().and_then(|p| p.split_once('=')) else { continue };
            let (k, val) = (k.trim(), val.trim());
            self.0.retain(|(name, _)| name != k);
            if !val.is_empty() && !v.to_ascii_lowercase().contains("max-age=0") {
                self.0.push((k.to_string(), val.to_string()));
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// Who signs in: each iteration of every flow sharing a `People` takes the next e-mail, so
/// concurrent sign-ins are of different people, as on a real login page.
#[derive(Debug, Clone)]
pub struct People {
    emails: Arc<[String]>,
    next: Arc<AtomicUsize>,
}

impl People {
    /// These people, taken in turn (never empty: one e-mail at least).
    #[must_use]
    pub fn new(emails: Vec<String>) -> Self {
        assert!(!emails.is_empty(), "People::new needs one e-mail at least");
        Self { emails: emails.into(), next: Arc::new(AtomicUsize::new(0)) }
    }

    fn take(&self) -> String {
        self.emails[self.next.fetch_add(1, Ordering::Relaxed) % self.emails.len()].clone()
    }
}

/// A confidential client of the server under test.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its `client_id`.
    pub id: String,
    /// Its `Authorization: Basic …` header value.
    pub basic: String,
    /// Its registered redirect URI.
    pub redirect_uri: String,
}

#[derive(Debug)]
enum Stage {
    Authorize,
    Get(String),
    Login(String),
    Token(String),
}

/// W7: one whole sign-in per iteration (see the module docs).
#[derive(Debug)]
pub struct CodeFlow {
    client: Client,
    base: String,
    people: People,
    email: String,
    password: String,
    scope: String,
    seq: u64,
    conn: usize,
    verifier: String,
    jar: Jar,
    stage: Stage,
    /// The token endpoint's last answer (seeding reads it).
    pub last_tokens: Option<serde_json::Value>,
}

impl CodeFlow {
    /// A flow signing `people` in to `client`, one per iteration, at the server whose issuer
    /// is `base` (`http://127.0.0.1:port`); `conn` tells connections' verifiers apart.
    #[must_use]
    pub fn new(client: Client, base: &str, people: People, password: &str, scope: &str, conn: usize) -> Self {
        let mut f = Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            people,
            email: String::new(),
            password: password.to_string(),
            scope: scope.to_string(),
            seq: 0,
            conn,
            verifier: String::new(),
            jar: Jar::default(),
            stage: Stage::Authorize,
            last_tokens: None,
        };
        f.restart();
        f
    }

    fn challenge(&self) -> String {
        use base64::Engine;
        let digest = ring::digest::digest(&ring::digest::SHA256, self.verifier.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// A path on this server for a `Location` (absolute under the issuer, or a path).
    fn path_of(&self, location: &str) -> Option<String> {
        if location.starts_with('/') {
            Some(location.to_string())
        } else {
            location.strip_prefix(&self.base).map(str::to_string)
        }
    }

    fn get(&self, path: &str) -> Request {
        let cookies = self.jar.header();
        let mut headers = vec![("Accept", "text/html")];
        if !cookies.is_empty() {
            headers.push(("Cookie", cookies.as_str()));
        }
        Request::new("GET", path, &headers, b"")
    }

    fn redirected(&mut self, location: &str) -> Step {
        if location.starts_with(&self.client.redirect_uri) {
            return match (query_param(location, "code"), query_param(location, "state")) {
                (Some(code), Some(state)) if state == self.state() => {
                    self.stage = Stage::Token(code);
                    Step::Next
                }
                _ => Step::Failed(format!("redirected without a code: {location}")),
            };
        }
        match self.path_of(location) {
            Some(p) => {
                self.stage = Stage::Get(p);
                Step::Next
            }
            None => Step::Failed(format!("redirected elsewhere: {location}")),
        }
    }

    fn state(&self) -> String {
        format!("st-{}-{}", self.conn, self.seq)
    }
}

impl Flow for CodeFlow {
    fn request(&mut self) -> Request {
        match &self.stage {
            Stage::Authorize => {
                let q = form(&[
                    ("response_type", "code"),
                    ("client_id", &self.client.id),
                    ("redirect_uri", &self.client.redirect_uri),
                    ("scope", &self.scope),
                    ("state", &self.state()),
                    ("nonce", &format!("n-{}", self.seq)),
                    ("code_challenge", &self.challenge()),
                    ("code_challenge_method", "S256"),
                ]);
                self.get(&format!("/oauth/authorize?{q}"))
            }
            Stage::Get(path) => self.get(path),
            Stage::Login(body) => {
                let cookies = self.jar.header();
                let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookies.as_str())];
                Request::new("POST", "/login", &headers, body.as_bytes())
            }
            Stage::Token(code) => {
                let body = form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", &self.client.redirect_uri),
                    ("code_verifier", &self.verifier),
                ]);
                let headers = [
                    ("Authorization", self.client.basic.as_str()),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ];
                Request::new("POST", "/oauth/token", &headers, body.as_bytes())
            }
        }
    }

    fn answer(&mut self, reply: &Reply<'_>) -> Step {
        self.jar.keep(reply);
        if (300..400).contains(&reply.status) {
            let Some(location) = reply.location().map(str::to_string) else {
                return Step::Failed(format!("{} without Location", reply.status));
            };
            return self.redirected(&location);
        }
        if reply.status != 200 {
            return Step::Failed(format!("{}: {}", reply.status, reply.text()));
        }
        match &self.stage {
            Stage::Token(_) => {
                self.last_tokens = serde_json::from_slice(reply.body).ok();
                Step::Done
            }
            Stage::Login(_) => Step::Failed(format!("the login form came back: {}", reply.text())),
            Stage::Authorize | Stage::Get(_) => {
                let html = String::from_utf8_lossy(reply.body);
                match (input(&html, "interaction"), input(&html, "csrf")) {
                    (Some(interaction), Some(csrf)) => {
                        self.stage = Stage::Login(form(&[
                            ("interaction", &interaction),
                            ("csrf", &csrf),
                            ("email", &self.email),
                            ("password", &self.password),
                        ]));
                        Step::Next
                    }
                    _ => Step::Failed(format!("a page without the login form: {}", reply.text())),
                }
            }
        }
    }

    fn restart(&mut self) {
        self.seq += 1;
        self.jar = Jar::default();
        self.email = self.people.take();
        self.stage = Stage::Authorize;
        // 43 to 128 unreserved characters (RFC 7636); unique per connection and iteration.
        self.verifier = format!("bench-verifier-{:08}-{:016}-0123456789abcdefghij", self.conn, self.seq);
    }
}

/// W8: refresh grants on one token family (see the module docs).
#[derive(Debug)]
pub struct RefreshFlow {
    path: String,
    basic: String,
    token: String,
}

impl RefreshFlow {
    /// Refreshes `token` at `path` (`/oauth/token`, or the peer's `/token`) as the client whose
    /// Basic header is `basic`.
    #[must_use]
    pub fn new(path: &str, basic: &str, token: &str) -> Self {
        Self { path: path.to_string(), basic: basic.to_string(), token: token.to_string() }
    }
}

impl Flow for RefreshFlow {
    fn request(&mut self) -> Request {
        let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &self.token)]);
        let headers = [("Authorization", self.basic.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
        Request::new("POST", &self.path, &headers, body.as_bytes())
    }

    fn answer(&mut self, reply: &Reply<'_>) -> Step {
        if reply.status != 200 {
            return Step::Failed(format!("{}: {}", reply.status, reply.text()));
        }
        let next = serde_json::from_slice::<serde_json::Value>(reply.body)
            .ok()
            .and_then(|v| v["refresh_token"].as_str().map(str::to_string));
        match next {
            Some(t) => {
                self.token = t;
                Step::Done
            }
            None => Step::Failed(format!("no refresh_token in {}", reply.text())),
        }
    }

    // The next iteration uses the token the last answer rotated in; a failed refresh leaves
    // the family dead, and the errors column says so.
    fn restart(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_queries_round_trip() {
        let f = form(&[("email", "o'brien+ops@x.test"), ("n", "a b&c")]);
        assert_eq!(f, "email=o%27brien%2Bops%40x.test&n=a%20b%26c");
        let url = format!("https://rp.test/cb?{f}&code=abc%2Fd");
        assert_eq!(query_param(&url, "email").as_deref(), Some("o'brien+ops@x.test"));
        assert_eq!(query_param(&url, "code").as_deref(), Some("abc/d"));
        assert_eq!(query_param(&url, "nope"), None);
        assert_eq!(query_param("https://rp.test/cb?x=%4", "x").as_deref(), Some("%4"));
    }

    #[test]
    fn headers_cookies_and_inputs_are_read() {
        let head = "HTTP/1.1 303 See Other\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: b=2; HttpOnly\r\nLocation: /x";
        let reply = Reply { status: 303, head, body: b"" };
        let mut jar = Jar::default();
        jar.keep(&reply);
        assert_eq!(jar.header(), "a=1; b=2");
        let gone = Reply { status: 200, head: "HTTP/1.1 200 OK\r\nSet-Cookie: a=; Max-Age=0", body: b"" };
        jar.keep(&gone);
        assert_eq!(jar.header(), "b=2");
        assert_eq!(reply.location(), Some("/x"));
        let html = r#"<input type="hidden" name="csrf" value="t&amp;1">"#;
        assert_eq!(input(html, "csrf").as_deref(), Some("t&1"));
        assert_eq!(input(html, "interaction"), None);
    }
}

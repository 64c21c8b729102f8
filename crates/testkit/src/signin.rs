//! A person signing in through the hosted login, played in Rust: authorization request with
//! PKCE S256, login form (CSRF token and cookies kept), consent if asked, code redemption. For
//! tests that need a user's tokens for an application (and a resource) without a browser; the
//! stock relying-party and browser suites test the flow itself.

use std::collections::HashMap;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::TestApp;

/// What the relying party asks for.
#[derive(Debug, Clone)]
pub struct SignIn<'a> {
    /// The application's client ID.
    pub client_id: &'a str,
    /// Its secret (`None` for public clients).
    pub client_secret: Option<&'a str>,
    /// A registered redirect URI.
    pub redirect_uri: &'a str,
    /// Scopes, space-separated.
    pub scope: &'a str,
    /// RFC 8707 resource, if any.
    pub resource: Option<&'a str>,
    /// The person's e-mail.
    pub email: &'a str,
    /// Their password.
    pub password: &'a str,
}

/// The `value` of the input named `name` in a page.
#[must_use]
pub fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
}

/// A browser without JavaScript: keeps cookies (by name, for this one server), never follows
/// redirects (the caller looks at each), posts forms.
#[derive(Debug)]
pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// Cookies held, by name.
    pub cookies: HashMap<String, String>,
}

impl Browser {
    /// A browser with no cookies, for the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Browser { http, base: base.to_string(), cookies: HashMap::new() })
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                if val.trim().is_empty() || v.to_ascii_lowercase().contains("max-age=0") {
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_string(), val.trim().to_string());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') { format!("{}{location}", self.base) } else { location.to_string() }
    }

    /// GETs a path or URL with the cookies held, keeping those set.
    pub async fn get(&mut self, url: &str) -> anyhow::Result<reqwest::Response> {
        let r = self.http.get(self.absolute(url)).header("Cookie", self.cookie_header()).send().await?;
        self.keep(&r);
        Ok(r)
    }

    /// POSTs a form with the cookies held, keeping those set.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<reqwest::Response> {
        let r = self.http.post(self.absolute(path)).header("Cookie", self.cookie_header()).form(form).send().await?;
        self.keep(&r);
        Ok(r)
    }
}

impl Browser {
    /// Follows `url` until a page answers, signing in as `email` once when the hosted login
    /// shows (the console's own sign-in): the page's status, final URL and HTML.
    pub async fn open(&mut self, url: &str, email: &str, password: &str) -> anyhow::Result<(u16, String, String)> {
        let mut url = url.to_string();
        let mut signed_in = false;
        for _ in 0..12 {
            let r = self.get(&url).await?;
            if r.status().is_redirection() {
                url = location(&r)?;
                continue;
            }
            let status = r.status().as_u16();
            let html = r.text().await?;
            if status == 200
                && html.contains(r#"name="password""#)
                && html.contains(r#"name="interaction""#)
                && !signed_in
            {
                signed_in = true;
                let interaction = field(&html, "interaction").context("no interaction")?;
                let csrf = field(&html, "csrf").context("no CSRF token")?;
                let form = [
                    ("interaction", interaction.as_str()),
                    ("csrf", csrf.as_str()),
                    ("email", email),
                    ("password", password),
                ];
                let r = self.post("/login", &form).await?;
                url = location(&r).with_context(|| format!("the login was refused for {email}"))?;
                continue;
            }
            return Ok((status, url, html));
        }
        bail!("too many redirects from {url}")
    }
}

/// The `Location` of a redirect.
pub fn location(r: &reqwest::Response) -> anyhow::Result<String> {
    Ok(r.headers()
        .get(reqwest::header::LOCATION)
        .with_context(|| format!("expected a redirect, got {}", r.status()))?
        .to_str()?
        .to_string())
}

impl TestApp {
    /// Signs `s.email` in to `s.client_id` through the hosted pages and redeems the code;
    /// answers the token endpoint's JSON (`access_token`, `id_token`, `refresh_token`, …).
    pub async fn sign_in_with_code(&self, s: &SignIn<'_>) -> anyhow::Result<serde_json::Value> {
        self.sign_in_with_factor(s, None).await
    }

    /// [`TestApp::sign_in_with_code`] for a person with a second factor: `second` answers the
    /// code to type on the second-step page each time one is shown.
    pub async fn sign_in_with_factor(
        &self,
        s: &SignIn<'_>,
        second: Option<&(dyn Fn() -> String + Send + Sync)>,
    ) -> anyhow::Result<serde_json::Value> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let mut b = Browser::new(&self.base_url)?;
        let verifier = URL_SAFE_NO_PAD.encode(ulid::Ulid::new().to_bytes().repeat(2));
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", s.client_id),
            ("redirect_uri", s.redirect_uri),
            ("scope", s.scope),
            ("state", "st-1"),
            ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(r) = s.resource {
            q.push(("resource", r));
        }
        let mut url = format!("/oauth/authorize?{}", serde_urlencoded::to_string(&q)?);
        let mut posted = false;
        let code = loop {
            let r = b.get(&url).await?;
            if r.status().is_redirection() {
                let next = location(&r)?;
                if next.starts_with(s.redirect_uri) {
                    break next;
                }
                url = next;
                continue;
            }
            let html = r.text().await?;
            let csrf = field(&html, "csrf").context("a page without a form")?;
            let interaction = field(&html, "interaction").context("a form without its interaction")?;
            let answer = if html.contains("action=\"/consent\"") {
                b.post("/consent", &[("interaction", &interaction), ("csrf", &csrf), ("decision", "allow")]).await?
            } else {
                if posted {
                    bail!("the login form came back: wrong e-mail or password?");
                }
                posted = true;
                let form = [
                    ("interaction", interaction.as_str()),
                    ("csrf", &csrf),
                    ("email", s.email),
                    ("password", s.password),
                ];
                b.post("/login", &form).await?
            };
            if answer.status().is_success() {
                // The second-step page answered the login form.
                let html = answer.text().await?;
                let csrf = field(&html, "csrf").context("a page without a form")?;
                let pending = field(&html, "pending").context("the login form came back")?;
                let code = second.context("a second factor was asked for")?();
                let answer =
                    b.post("/login/second-factor", &[("pending", &pending), ("csrf", &csrf), ("code", &code)]).await?;
                url = location(&answer).context("the second step refused the code")?;
                continue;
            }
            let next = location(&answer)?;
            if next.starts_with(s.redirect_uri) {
                break next;
            }
            url = next;
        };
        let query = code.split_once('?').map(|x| x.1).unwrap_or_default();
        let params: HashMap<String, String> = serde_urlencoded::from_str(query)?;
        let code = params.get("code").with_context(|| format!("no code in {code}"))?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", s.redirect_uri),
            ("code_verifier", verifier.as_str()),
            ("client_id", s.client_id),
        ];
        if let Some(r) = s.resource {
            form.push(("resource", r));
        }
        let mut req = http.post(format!("{}/oauth/token", self.base_url)).form(&form);
        if let Some(secret) = s.client_secret {
            req = req.basic_auth(s.client_id, Some(secret));
        }
        let r = req.send().await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        if !status.is_success() {
            bail!("token endpoint answered {status}: {body}");
        }
        Ok(body)
    }
}

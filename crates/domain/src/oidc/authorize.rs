//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, OAuth 2.1), checked in
//! order, one rule per step, each owning the one error it raises (after node `oidc-provider`'s
//! `check_*` steps). The order matters: until the client and its redirect URI are known good,
//! an error is shown on a page and never redirected (RFC 9700 §4.1.1: no open redirector);
//! after that, errors go back to the client with `state`.

use crate::application::{Application, ApplicationType};
use crate::oauth_scope;
use crate::oidc::pkce::{self, CodeChallenge};
use crate::oidc::redirect::registered_match;
use crate::status::Status;

/// Longest `state` or `nonce` accepted (they come back in redirects and tokens).
pub const MAX_STATE_LEN: usize = 2048;
/// Longest `login_hint`, `tenant`, `idp`.
pub const MAX_HINT_LEN: usize = 320;

/// How the authorization response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Query parameters of a 303 redirect (the default for `code`).
    Query,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
}

/// The `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Prompt {
    /// `none`: never show a page; fail with `login_required` etc.
    pub none: bool,
    /// `login`: ask for credentials even with a session.
    pub login: bool,
    /// `consent`: ask for consent even when remembered.
    pub consent: bool,
    /// `select_account`: accepted; ScaiKey has one account per browser.
    pub select_account: bool,
}

/// Where an error of a request goes once the client and redirect URI are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The client's `state`, echoed.
    pub state: Option<String>,
    /// Query or form post.
    pub response_mode: ResponseMode,
}

/// A refused authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: an error page (400), never a redirect.
    Page(String),
    /// An OAuth error sent back to the client (`error`, `error_description`, `state`, `iss`).
    Reply {
        /// Where to.
        to: ReplyTo,
        /// RFC 6749 §4.1.2.1 / OIDC §3.1.2.6 code.
        error: &'static str,
        /// A sentence.
        description: String,
    },
}

/// An authorization request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Where the code goes.
    pub reply: ReplyTo,
    /// Requested scopes, each allowed for the client, in request order.
    pub scopes: Vec<String>,
    /// OIDC `nonce`, carried into the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge (always for public clients).
    pub code_challenge: Option<CodeChallenge>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint` (an e-mail to prefill).
    pub login_hint: Option<String>,
    /// ScaiKey's `tenant` (slug or ID) that picks the tenant for login.
    pub tenant_hint: Option<String>,
    /// ScaiKey's `idp` (an `idp_…` ID) that goes straight to a federated provider.
    pub idp_hint: Option<String>,
    /// RFC 8707 `resource`: the audience of the access token.
    pub resource: Option<String>,
}

impl AuthorizationRequest {
    /// `true` when the request is an OpenID Connect one (`openid` requested).
    #[must_use]
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// The request's parameters with RFC 6749 §3.1's rule that none repeats (except `resource`,
/// RFC 8707). Empty values count as absent (§3.1).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// From decoded `name=value` pairs.
    #[must_use]
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// The value of `name` (`Err` when repeated, `None` when absent or empty).
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut found = self.pairs.iter().filter(|(k, v)| k == name && !v.is_empty());
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(format!("Parameter '{name}' given more than once"));
        }
        Ok(first)
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// The pairs, to re-encode the request (e.g. the 303 of a POSTed request).
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// The `client_id` of a request (step 0: needed to look the client up).
pub fn client_id(p: &Params) -> Result<&str, AuthorizeError> {
    match p.one("client_id") {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(AuthorizeError::Page("The request has no client_id".into())),
        Err(e) => Err(AuthorizeError::Page(e)),
    }
}

/// Runs every check over the request of `client` (`None`: no live client has the ID).
pub fn check(p: &Params, client: Option<&Application>) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |m: &str| AuthorizeError::Page(m.to_string());
    // 1. The client: known, active, an OAuth client that uses the code flow's redirect.
    let app = client.ok_or_else(|| page("Unknown client"))?;
    if app.status != Status::Active {
        return Err(page("This application is not active"));
    }
    if matches!(app.application_type, ApplicationType::Service | ApplicationType::SamlSp) {
        return Err(page("This application does not sign users in with OAuth"));
    }
    // 2. The redirect URI: required, and one of the registered ones.
    let requested =
        p.one("redirect_uri").map_err(AuthorizeError::Page)?.ok_or_else(|| page("The request has no redirect_uri"))?;
    let redirect_uri = registered_match(requested, &app.redirect_uris, app.application_type)
        .map(|_| requested.to_string())
        .ok_or_else(|| page("The redirect_uri is not registered for this client"))?;
    // From here on, errors go back to the client.
    // A repeated state is refused like any repeated parameter, echoing none of its values.
    let (state, repeated_state) = match p.one("state") {
        Ok(s) => (s.map(str::to_string), None),
        Err(e) => (None, Some(e)),
    };
    let mut reply = ReplyTo { redirect_uri, state, response_mode: ResponseMode::Query };
    let fail = |to: &ReplyTo, error: &'static str, d: &str| AuthorizeError::Reply {
        to: to.clone(),
        error,
        description: d.to_string(),
    };
    let one = |name: &str, to: &ReplyTo| p.one(name).map_err(|e| fail(to, "invalid_request", &e));
    // 3. Response mode (needed to send any later error the right way).
    reply.response_mode = match one("response_mode", &reply)? {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(_) => return Err(fail(&reply, "invalid_request", "response_mode must be query or form_post")),
    };
    if let Some(e) = repeated_state {
        return Err(fail(&reply, "invalid_request", &e));
    }
    if let Some(s) = &reply.state
        && s.len() > MAX_STATE_LEN
    {
        let to = ReplyTo { state: None, ..reply.clone() };
        return Err(fail(&to, "invalid_request", "state is too long"));
    }
    // 4. Request objects are not supported (OIDC Core §6).
    if one("request", &reply)?.is_some() {
        return Err(fail(&reply, "request_not_supported", "Request objects are not supported"));
    }
    if one("request_uri", &reply)?.is_some() {
        return Err(fail(&reply, "request_uri_not_supported", "request_uri is not supported"));
    }
    // 5. Response type: the code flow only (no implicit or hybrid).
    match one("response_type", &reply)? {
        Some("code") => {}
        None => return Err(fail(&reply, "invalid_request", "response_type is required")),
        Some(_) => return Err(fail(&reply, "unsupported_response_type", "Only response_type=code is supported")),
    }
    if !app.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(fail(&reply, "unauthorized_client", "This client may not use the authorization code flow"));
    }
    // 6. Scopes: each well-formed and allowed; none requested means none.
    let scopes = oauth_scope::narrow(Some(one("scope", &reply)?.unwrap_or_default()), &app.allowed_scopes)
        .map_err(|r| fail(&reply, "invalid_scope", &r.describe()))?;
    // 7. Resource (RFC 8707).
    let resources: Vec<&str> = p.all("resource").collect();
    let resource = if resources.is_empty() {
        None
    } else {
        Some(
            oauth_scope::audience(&resources, &app.allowed_resources, "")
                .map_err(|r| fail(&reply, "invalid_target", &r.describe()))?,
        )
    };
    // 8. PKCE.
    let code_challenge = pkce::challenge(
        one("code_challenge", &reply)?,
        one("code_challenge_method", &reply)?,
        !app.application_type.is_confidential(),
    )
    .map_err(|r| fail(&reply, "invalid_request", r.describe()))?;
    // 9. Prompt.
    let mut prompt = Prompt::default();
    for v in one("prompt", &reply)?.unwrap_or_default().split(' ').filter(|s| !s.is_empty()) {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.select_account = true,
            _ => return Err(fail(&reply, "invalid_request", "prompt must be none, login, consent or select_account")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
        return Err(fail(&reply, "invalid_request", "prompt=none cannot be combined with other values"));
    }
    // 10. max_age.
    let max_age = match one("max_age", &reply)? {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(fail(&reply, "invalid_request", "max_age must be a non-negative integer")),
        },
    };
    // 11. Values carried along.
    let bounded = |name: &str, max: usize, to: &ReplyTo| -> Result<Option<String>, AuthorizeError> {
        match one(name, to)? {
            Some(v) if v.len() > max || v.chars().any(char::is_control) => {
                Err(fail(to, "invalid_request", &format!("{name} is too long or holds control characters")))
            }
            v => Ok(v.map(str::to_string)),
        }
    };
    let nonce = bounded("nonce", MAX_STATE_LEN, &reply)?;
    let login_hint = bounded("login_hint", MAX_HINT_LEN, &reply)?;
    let tenant_hint = bounded("tenant", MAX_HINT_LEN, &reply)?;
    let idp_hint = bounded("idp", MAX_HINT_LEN, &reply)?;
    Ok(AuthorizationRequest {
        reply,
        scopes,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
        tenant_hint,
        idp_hint,
        resource,
    })
}

#[cfg(test)]
mod tests;

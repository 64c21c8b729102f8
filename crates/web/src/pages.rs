//! Handlers and templates of the authorization endpoint and the hosted pages.

use actix_web::cookie::{Cookie, SameSite, time::OffsetDateTime};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use scaikey_app::oidc::{ConsentView, LoginResult, LoginView, LogoutOutcome, Outcome, Reply, SessionCookie};
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::oidc::authorize::{Params, ResponseMode};

use crate::WebState;

/// The SSO session cookie (contract §9).
pub const SESSION_COOKIE: &str = "scaikey_session";
/// The CSRF double-submit cookie.
const CSRF_COOKIE: &str = "scaikey_csrf";
/// The pages' stylesheet.
pub const STYLESHEET: &str = include_str!("../templates/scaikey.css");
/// The passkey script of the second-step and passkey pages.
pub const PASSKEY_SCRIPT: &str = include_str!("../templates/passkey.js");
/// Largest form accepted.
const MAX_FORM_BYTES: usize = 64 * 1024;

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub(crate) action: &'a str,
    display_name: Option<&'a str>,
    brand_name: &'a str,
    logo_url: Option<&'a str>,
    primary_color: Option<&'a str>,
    style_nonce: &'a str,
    client_name: &'a str,
    interaction: Option<&'a str>,
    csrf: &'a str,
    email: &'a str,
    tenant: &'a str,
    ask_tenant: bool,
    error: Option<&'a str>,
    identity_providers: &'a [(String, String)],
    /// Focus the e-mail field (not in the console's preview frame, which may not take focus).
    autofocus: bool,
}

impl<'a> LoginPage<'a> {
    /// The account pages' own login form: no application, no branding, any tenant.
    pub(crate) fn account(csrf: &'a str, email: &'a str, tenant: &'a str, error: Option<&'a str>) -> Self {
        LoginPage {
            action: "/account/login",
            display_name: None,
            brand_name: "ScaiKey",
            logo_url: None,
            primary_color: None,
            style_nonce: "",
            client_name: "your account",
            interaction: None,
            csrf,
            email,
            tenant,
            ask_tenant: true,
            error,
            identity_providers: &[],
            autofocus: true,
        }
    }
}

impl<'a> LoginPage<'a> {
    /// The console's preview of a tenant's login page with `b`: nothing to sign in to.
    pub(crate) fn preview(b: &'a scaikey_domain::tenant::PageBranding, nonce: &'a str) -> Self {
        LoginPage {
            // Goes nowhere: the frame is sandboxed (no forms) and the form has no CSRF token.
            action: "#",
            display_name: b.display_name.as_deref(),
            brand_name: b.display_name.as_deref().unwrap_or("ScaiKey"),
            logo_url: b.logo_url.as_deref(),
            primary_color: b.primary_color.as_deref(),
            style_nonce: nonce,
            client_name: "your application",
            interaction: None,
            csrf: "",
            email: "",
            tenant: "",
            ask_tenant: false,
            error: None,
            identity_providers: &[],
            autofocus: false,
        }
    }
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    client_name: &'a str,
    interaction: &'a str,
    csrf: &'a str,
    scopes: &'a [String],
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    message: &'a str,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage;

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    params: &'a [(String, String)],
    nonce: &'a str,
}

pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    // SystemRandom fails only without an OS entropy source; the page then has an empty token
    // and every POST is refused, which is safe.
    let _ = SystemRandom::new().fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

pub(crate) fn meta(req: &HttpRequest) -> RequestMeta {
    let header = |name| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let none = scaikey_domain::client_ip::TrustedProxies::default();
    let trusted = req.app_data::<web::Data<WebState>>().map_or(&none, |s| &s.trusted_proxies);
    RequestMeta::of_request(
        req.peer_addr().map(|a| a.ip()),
        header(header::HeaderName::from_static("x-forwarded-for")),
        header(header::USER_AGENT),
        trusted,
    )
}

pub(crate) fn session_cookie(req: &HttpRequest) -> Option<SessionCookie> {
    req.cookie(SESSION_COOKIE).and_then(|c| SessionCookie::parse(c.value()))
}

/// The one inline element a page may carry, allowed by its nonce.
#[derive(Clone, Copy)]
pub(crate) enum Inline<'a> {
    /// Nothing inline.
    No,
    /// The auto-submit script of a form-post page.
    Script(&'a str),
    /// A tenant's colour on the login page.
    Style(&'a str),
    /// The passkey script (`/assets/passkey.js`, served from this origin).
    PasskeyScript,
    /// The console's tenant form: its script (`/assets/console.js`) and the framed preview.
    Preview,
}

/// The page headers of §9, with a CSP that allows at most the page's one inline element.
pub(crate) fn page(status: StatusCode, html: String, inline: Inline<'_>) -> HttpResponse {
    let (script, style) = match inline {
        Inline::No => (String::new(), String::new()),
        Inline::Script(n) => (format!("script-src 'nonce-{n}'; "), String::new()),
        Inline::Style(n) => (String::new(), format!(" 'nonce-{n}'")),
        Inline::PasskeyScript => ("script-src 'self'; ".to_string(), String::new()),
        Inline::Preview => ("script-src 'self'; frame-src 'self'; ".to_string(), String::new()),
    };
    let csp = format!(
        "default-src 'none'; {script}style-src 'self'{style}; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'"
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(html)
}

/// Renders `t` as a page, or a bare 500 when the template fails (logged).
pub(crate) fn html(status: StatusCode, t: &impl Template, inline: Inline<'_>) -> HttpResponse {
    match t.render() {
        Ok(h) => page(status, h, inline),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub(crate) fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    html(status, &ErrorPage { message }, Inline::No)
}

pub(crate) fn internal(e: &scaikey_app::AppError) -> HttpResponse {
    match e {
        scaikey_app::AppError::Unavailable(_) => {
            error_page(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable. Try again shortly.")
        }
        other => {
            tracing::error!(error = %other, "authorization failed");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "The server could not complete the sign-in.")
        }
    }
}

pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// The CSRF token of this browser, and a cookie to set when it had none.
pub(crate) fn csrf_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() == 43 => (c.value().to_string(), None),
        _ => {
            let t = random_token();
            let c =
                Cookie::build(CSRF_COOKIE, t.clone()).path("/").http_only(true).same_site(SameSite::Strict).finish();
            (t, Some(c))
        }
    }
}

/// `true` when the form's token equals the browser's CSRF cookie (constant time).
fn csrf_ok(req: &HttpRequest, form_token: Option<&str>) -> bool {
    let (Some(cookie), Some(sent)) = (req.cookie(CSRF_COOKIE), form_token) else { return false };
    let (a, b) = (cookie.value().as_bytes(), sent.as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn with_cookie(mut r: HttpResponse, c: Option<Cookie<'static>>) -> HttpResponse {
    if let Some(c) = c {
        let _ = r.add_cookie(&c);
    }
    r
}

fn reply(r: &Reply) -> HttpResponse {
    match r.mode {
        ResponseMode::Query => {
            let sep = if r.redirect_uri.contains('?') { '&' } else { '?' };
            match serde_urlencoded::to_string(&r.params) {
                Ok(q) => see_other(&format!("{}{sep}{q}", r.redirect_uri)),
                Err(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "The response could not be encoded."),
            }
        }
        ResponseMode::FormPost => {
            let nonce = random_token();
            html(
                StatusCode::OK,
                &FormPostPage { action: &r.redirect_uri, params: &r.params, nonce: &nonce },
                Inline::Script(&nonce),
            )
        }
    }
}

/// Renders an outcome: the next page, the reply to the client, or the trip to an identity
/// provider (`secure`: cookies set on the way are `Secure`).
pub(crate) fn outcome(o: Outcome, secure: bool) -> HttpResponse {
    match o {
        Outcome::Upstream { url, binding } => crate::federation::to_upstream(&url, &binding, secure),
        Outcome::ErrorPage(m) => error_page(StatusCode::BAD_REQUEST, &m),
        Outcome::Login(v) => see_other(&format!("/login?{}", query(&[("interaction", &v.interaction)]))),
        Outcome::Consent(v) => see_other(&format!("/consent?{}", query(&[("interaction", &v.interaction)]))),
        Outcome::Reply(r) => reply(&r),
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub(crate) fn login_html(
    req: &HttpRequest,
    v: &LoginView,
    email: &str,
    tenant: &str,
    status: StatusCode,
) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let nonce = random_token();
    let b = &v.branding;
    let page = LoginPage {
        action: "/login",
        display_name: b.display_name.as_deref(),
        brand_name: b.display_name.as_deref().unwrap_or(&v.client_name),
        logo_url: b.logo_url.as_deref(),
        primary_color: b.primary_color.as_deref(),
        style_nonce: &nonce,
        client_name: &v.client_name,
        interaction: Some(&v.interaction),
        csrf: &csrf,
        email: if email.is_empty() { v.login_hint.as_deref().unwrap_or_default() } else { email },
        tenant: if tenant.is_empty() { v.tenant_hint.as_deref().unwrap_or_default() } else { tenant },
        ask_tenant: v.ask_tenant,
        error: v.error.as_deref(),
        identity_providers: &v.identity_providers,
        autofocus: true,
    };
    let inline = if b.primary_color.is_some() { Inline::Style(&nonce) } else { Inline::No };
    with_cookie(html(status, &page, inline), new_cookie)
}

fn consent_html(req: &HttpRequest, v: &ConsentView) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let page = ConsentPage { client_name: &v.client_name, interaction: &v.interaction, csrf: &csrf, scopes: &v.scopes };
    with_cookie(html(StatusCode::OK, &page, Inline::No), new_cookie)
}

/// Decoded `name=value` pairs; `None` when malformed or holding NUL (no stored text can).
pub(crate) fn decode_pairs(raw: &[u8]) -> Option<Vec<(String, String)>> {
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw).ok()?;
    (!pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0'))).then_some(pairs)
}

pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A posted hosted-page form: bounded, well-formed, and carrying this browser's CSRF token;
/// otherwise the status and message of the error page to show.
pub(crate) fn posted_form(req: &HttpRequest, body: &[u8]) -> Result<Vec<(String, String)>, (StatusCode, &'static str)> {
    if body.len() > MAX_FORM_BYTES {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."));
    }
    let form = decode_pairs(body).ok_or((StatusCode::BAD_REQUEST, "The form is malformed."))?;
    if !csrf_ok(req, form_value(&form, "csrf")) {
        return Err((StatusCode::FORBIDDEN, "The form expired or did not come from this site. Go back and try again."));
    }
    Ok(form)
}

/// `GET /oauth/authorize`.
pub async fn authorize(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(pairs) = decode_pairs(req.query_string().as_bytes()) else {
        return error_page(StatusCode::BAD_REQUEST, "The authorization request is malformed.");
    };
    match state.oidc.authorize(Params::new(pairs), session_cookie(&req).as_ref(), &meta(&req)).await {
        Ok(o) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `POST /oauth/authorize`: answered with a 303 to the same request as a GET, so the
/// `SameSite=Lax` session cookie applies (contract §8).
pub async fn authorize_post(body: web::Bytes) -> HttpResponse {
    if body.len() > MAX_FORM_BYTES {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The authorization request is too large.");
    }
    match decode_pairs(&body) {
        Some(p) => see_other(&format!("/oauth/authorize?{}", serde_urlencoded::to_string(p).unwrap_or_default())),
        None => error_page(StatusCode::BAD_REQUEST, "The authorization request is malformed."),
    }
}

/// The query parameter `name` (none when the query is malformed or holds NUL).
pub(crate) fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    decode_pairs(req.query_string().as_bytes())?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn interaction_param(req: &HttpRequest) -> Option<String> {
    query_param(req, "interaction")
}

/// `GET /login?interaction=…`.
pub async fn login_page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(i) = interaction_param(&req) else {
        return error_page(StatusCode::BAD_REQUEST, "Start signing in from the application.");
    };
    match state.oidc.resume(&i, session_cookie(&req).as_ref(), &meta(&req)).await {
        Ok(Outcome::Login(v)) => login_html(&req, &v, "", "", StatusCode::OK),
        Ok(o) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `POST /login`.
pub async fn login_submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let (Some(i), Some(email), Some(password)) =
        (form_value(&form, "interaction"), form_value(&form, "email"), form_value(&form, "password"))
    else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let tenant = form_value(&form, "tenant").unwrap_or_default();
    match state.oidc.login(i, email, password, Some(tenant), &meta(&req)).await {
        Ok(LoginResult::SignedIn { cookie, expires_at, next }) => {
            signed_in(outcome(next, state.secure_cookies), &cookie, expires_at, state.secure_cookies)
        }
        Ok(LoginResult::Again(v)) => crate::second_factor::throttled(
            login_html(&req, &v, email, tenant, StatusCode::UNAUTHORIZED),
            v.retry_after,
        ),
        Ok(LoginResult::SecondStep(v)) => {
            crate::second_factor::step_html(&req, &v, "/login/second-factor", StatusCode::OK)
        }
        Ok(LoginResult::Done(o)) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `r` with the new SSO cookie of §9 set.
pub(crate) fn signed_in(
    mut r: HttpResponse,
    cookie: &SessionCookie,
    expires_at: chrono::DateTime<chrono::Utc>,
    secure: bool,
) -> HttpResponse {
    let mut c = Cookie::build(SESSION_COOKIE, cookie.value())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    if let Ok(e) = OffsetDateTime::from_unix_timestamp(expires_at.timestamp()) {
        c.set_expires(e);
    }
    let _ = r.add_cookie(&c);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /consent?interaction=…`.
pub async fn consent_page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(i) = interaction_param(&req) else {
        return error_page(StatusCode::BAD_REQUEST, "Start signing in from the application.");
    };
    match state.oidc.resume(&i, session_cookie(&req).as_ref(), &meta(&req)).await {
        Ok(Outcome::Consent(v)) => consent_html(&req, &v),
        Ok(o) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `POST /consent`.
pub async fn consent_submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let Some(i) = form_value(&form, "interaction") else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let approve = form_value(&form, "decision") == Some("allow");
    match state.oidc.consent(i, session_cookie(&req).as_ref(), approve, &meta(&req)).await {
        Ok(o) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `GET`/`POST /oauth/logout` (RP-initiated logout): ends the SSO session, clears the cookie,
/// then the registered post-logout URI (with `state`) or the signed-out page.
pub async fn logout(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let raw = if req.method() == actix_web::http::Method::POST {
        body.to_vec()
    } else {
        req.query_string().as_bytes().to_vec()
    };
    if raw.len() > MAX_FORM_BYTES {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The logout request is too large.");
    }
    let Some(p) = decode_pairs(&raw) else {
        return error_page(StatusCode::BAD_REQUEST, "The logout request is malformed.");
    };
    let v = |n: &str| form_value(&p, n).filter(|s| !s.is_empty());
    let result = state
        .oidc
        .logout(
            session_cookie(&req).as_ref(),
            v("id_token_hint"),
            v("client_id"),
            v("post_logout_redirect_uri"),
            v("state"),
            &meta(&req),
        )
        .await;
    let r = match result {
        Ok(LogoutOutcome::Redirect(to)) => see_other(&to),
        Ok(LogoutOutcome::SignedOut) => html(StatusCode::OK, &SignedOutPage, Inline::No),
        // Refused before anything ended: the session and its cookie stay.
        Ok(LogoutOutcome::ErrorPage(m)) => return error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => return internal(&e),
    };
    // Signed out: the session the cookie named has ended.
    without_session_cookie(r)
}

fn without_session_cookie(mut r: HttpResponse) -> HttpResponse {
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    gone.make_removal();
    let _ = r.add_cookie(&gone);
    r
}

/// `GET /logout`: the hosted sign-out page, which asks before it ends anything (a link from
/// another site must not sign the person out).
pub async fn logout_page(req: HttpRequest) -> HttpResponse {
    let (csrf, cookie) = csrf_token(&req);
    with_cookie(html(StatusCode::OK, &LogoutPage { csrf: &csrf }, Inline::No), cookie)
}

/// `POST /logout`: the confirmed sign-out; ends the browser's SSO session (its session-bound
/// refresh tokens with it), clears the cookie and shows the signed-out page.
pub async fn logout_submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err((status, message)) = posted_form(&req, &body) {
        return error_page(status, message);
    }
    match state.oidc.logout(session_cookie(&req).as_ref(), None, None, None, None, &meta(&req)).await {
        Ok(_) => without_session_cookie(html(StatusCode::OK, &SignedOutPage, Inline::No)),
        Err(e) => internal(&e),
    }
}

/// `GET /assets/passkey.js`.
pub async fn passkey_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(PASSKEY_SCRIPT)
}

/// `GET /assets/scaikey.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(STYLESHEET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_page_renders_labelled_fields_and_escapes() {
        let html = LoginPage {
            action: "/login",
            display_name: None,
            brand_name: "x",
            logo_url: None,
            primary_color: None,
            style_nonce: "n",
            client_name: "<Orders & Co>",
            interaction: Some("abc"),
            csrf: "tok",
            email: "a\"b@x.example",
            tenant: "",
            ask_tenant: true,
            error: Some("Invalid credentials"),
            identity_providers: &[],
            autofocus: true,
        }
        .render()
        .unwrap_or_default();
        for needle in [
            r#"name="email""#,
            r#"name="password""#,
            r#"name="tenant""#,
            r#"<label for="email">"#,
            r#"<button type="submit">"#,
            r#"name="csrf" value="tok""#,
            "&#60;Orders &#38; Co&#62;",
            "Invalid credentials",
        ] {
            assert!(html.contains(needle), "{needle} missing in {html}");
        }
        assert!(!html.contains("<Orders"), "names are escaped");
        assert!(!html.contains("<script"), "no script on the login page");
        assert!(!html.contains("<style"), "no inline style without a tenant colour");
        let branded = LoginPage {
            action: "/login",
            display_name: Some("Acme"),
            brand_name: "Acme",
            logo_url: Some("https://cdn.acme.example/l.png"),
            primary_color: Some("#0a7cff"),
            style_nonce: "sn",
            client_name: "Portal",
            interaction: Some("abc"),
            csrf: "tok",
            email: "",
            tenant: "",
            ask_tenant: false,
            error: None,
            identity_providers: &[("idp_1".into(), "Acme <Entra>".into())],
            autofocus: true,
        }
        .render()
        .unwrap_or_default();
        assert!(branded.contains(r#"<style nonce="sn">:root { --primary: #0a7cff; }</style>"#), "{branded}");
        assert!(branded.contains(r#"<form method="post" action="/login/idp" class="idp">"#), "{branded}");
        assert!(
            branded.contains(r#"name="idp_id" value="idp_1""#) && branded.contains("Sign in with Acme &#60;Entra&#62;")
        );
        assert!(!html.contains("/login/idp"), "no buttons without identity providers");
        assert!(branded.contains(r#"<img class="logo" src="https://cdn.acme.example/l.png" alt="Acme">"#));
        assert!(branded.contains("Sign in to Acme") && !branded.contains(r#"name="tenant""#));
    }

    #[test]
    fn form_post_page_posts_every_parameter() {
        let params = vec![("code".to_string(), "c&1".to_string()), ("state".to_string(), "s\"".to_string())];
        let html = FormPostPage { action: "https://app.example/cb", params: &params, nonce: "n1" }
            .render()
            .unwrap_or_default();
        assert!(html.contains(r#"action="https://app.example/cb""#));
        assert!(html.contains(r#"name="code" value="c&#38;1""#), "{html}");
        assert!(html.contains(r#"name="state" value="s&#34;""#), "{html}");
        assert!(html.contains(r#"<script nonce="n1">"#));
    }

    #[test]
    fn page_headers() {
        let r = page(StatusCode::OK, String::new(), Inline::No);
        let h =
            |n: header::HeaderName| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(h(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
        assert!(!h(header::CONTENT_SECURITY_POLICY).contains("script-src"));
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(h(header::REFERRER_POLICY), "no-referrer");
    }
}

//! The web console (contract §13), a module of its own beside the hosted pages: it signs admins
//! in through ScaiKey's own authorization endpoint as the first-party client `scaikey-console`
//! (code + PKCE; [`scaikey_app::console::ConsoleService`]) and renders what the same
//! application services as the REST API answer for the admin's reach. No rule is decided here.
//!
//! Cookies: `scaikey_console_login` (the sign-in's `state` and PKCE verifier, for the callback)
//! and `scaikey_console` (the sealed SSO session and user), both `HttpOnly`, `SameSite=Lax`,
//! path `/console`. Every form carries the CSRF token of the hosted pages; the pages send the
//! headers of §9 and no inline script or style.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_app::AppError;
use scaikey_app::context::RequestContext;
use scaikey_app::page::{Page, PageRequest};
use scaikey_domain::access::{Action, Reach, reach};

use crate::WebState;
use crate::pages::{
    Inline, csrf_token, error_page, html, internal, meta, posted_form, query_param, random_token, see_other,
    with_cookie,
};

/// The console's own style sheet.
pub const CONSOLE_STYLESHEET: &str = include_str!("../templates/console.css");
const SESSION: &str = "scaikey_console";
const LOGIN: &str = "scaikey_console_login";
const PATH: &str = "/console";
const PER_PAGE: i64 = 25;

/// What the layout needs: which sections the admin's reach shows, and the CSRF token.
struct Nav {
    partners: bool,
    csrf: String,
}

#[derive(Template)]
#[template(path = "console_dashboard.html")]
struct DashboardPage<'a> {
    nav: &'a Nav,
    stats: Vec<(&'static str, &'static str, i64)>,
    estimated: bool,
    activity: Vec<[String; 4]>,
}

#[derive(Template)]
#[template(path = "console_list.html")]
struct ListPage<'a> {
    nav: &'a Nav,
    title: &'a str,
    path: &'a str,
    search: &'a str,
    columns: &'a [&'a str],
    rows: Vec<Vec<String>>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(name, value).path(PATH).http_only(true).same_site(SameSite::Lax).secure(secure).finish()
}

fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path(PATH).http_only(true).finish();
    c.make_removal();
    c
}

/// The signed-in admin, or the response to send instead: the sign-in when there is no live
/// console session, a 403 page for a user who is no admin.
async fn admin(
    state: &WebState,
    req: &HttpRequest,
) -> Result<(RequestContext, Nav, Option<Cookie<'static>>), HttpResponse> {
    let Some(console) = &state.console else {
        return Err(error_page(StatusCode::NOT_FOUND, "The console is not available on this server."));
    };
    let session = req.cookie(SESSION).and_then(|c| console.open(c.value()));
    let Some(session) = session else { return Err(see_other("/console/login")) };
    match console.context(session, &meta(req)).await {
        Ok(Some(ctx)) => {
            let partners = reach(&ctx.principal, Action::Read).is_ok_and(|r| r == Reach::Platform);
            let (csrf, new_cookie) = csrf_token(req);
            Ok((ctx, Nav { partners, csrf }, new_cookie))
        }
        Ok(None) => Err(see_other("/console/login")),
        Err(AppError::Denied(..)) => Err(error_page(StatusCode::FORBIDDEN, "Only administrators may use the console.")),
        Err(e) => Err(internal(&e)),
    }
}

/// Renders a service error on a console page: 403/404 pages for what the reach refuses.
fn refused(e: &AppError) -> HttpResponse {
    match e {
        AppError::Denied(scaikey_domain::access::Denial::NotFound, _) | AppError::NotFound(_) => {
            error_page(StatusCode::NOT_FOUND, "There is nothing here within your reach.")
        }
        AppError::Denied(..) => error_page(StatusCode::FORBIDDEN, "This page is outside your reach."),
        AppError::Invalid(_) => error_page(StatusCode::BAD_REQUEST, "The page or search is not valid."),
        other => internal(other),
    }
}

/// `GET /console/login`: to the authorization endpoint as the console's client.
pub async fn login(state: web::Data<WebState>) -> HttpResponse {
    let Some(console) = &state.console else {
        return error_page(StatusCode::NOT_FOUND, "The console is not available on this server.");
    };
    let (st, verifier) = (random_token(), random_token());
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", scaikey_app::console::CLIENT_ID),
        ("redirect_uri", console.callback()),
        ("scope", "openid"),
        ("state", st.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap_or_default();
    let mut c = cookie(LOGIN, format!("{st}~{verifier}"), state.secure_cookies);
    c.set_max_age(Duration::minutes(15));
    with_cookie(see_other(&format!("/oauth/authorize?{q}")), Some(c))
}

/// `GET /console/callback`: redeems the code of the console's own sign-in.
pub async fn callback(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(console) = &state.console else {
        return error_page(StatusCode::NOT_FOUND, "The console is not available on this server.");
    };
    let started = req.cookie(LOGIN).map(|c| c.value().to_string());
    let (Some(started), Some(code), Some(st)) = (started, query_param(&req, "code"), query_param(&req, "state")) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in could not be completed. Open the console again.");
    };
    let Some((expected, verifier)) = started.split_once('~') else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in could not be completed. Open the console again.");
    };
    if expected != st {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in could not be completed. Open the console again.");
    }
    let session = match console.finish(&code, verifier, &meta(&req)).await {
        Ok(s) => s,
        Err(AppError::Unauthenticated(m)) => return error_page(StatusCode::BAD_REQUEST, m),
        Err(e) => return internal(&e),
    };
    let sealed = match console.seal(session) {
        Ok(v) => v,
        Err(e) => return internal(&e),
    };
    let mut r = see_other(PATH);
    let _ = r.add_cookie(&cookie(SESSION, sealed, state.secure_cookies));
    let _ = r.add_cookie(&removal(LOGIN));
    r
}

/// `POST /console/logout`: forgets the console session and ends the SSO session through the
/// provider's logout.
pub async fn logout(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err((status, message)) = posted_form(&req, &body) {
        return error_page(status, message);
    }
    let Some(console) = &state.console else { return see_other("/") };
    let back = format!("{}{PATH}", console.callback().trim_end_matches("/console/callback"));
    let q = serde_urlencoded::to_string([
        ("client_id", scaikey_app::console::CLIENT_ID),
        ("post_logout_redirect_uri", back.as_str()),
    ])
    .unwrap_or_default();
    let mut r = see_other(&format!("/oauth/logout?{q}"));
    let _ = r.add_cookie(&removal(SESSION));
    r
}

/// `GET /console`: the dashboard.
pub async fn dashboard(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, new_cookie) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (stats, activity) = match (state.audit.stats(&ctx).await, state.audit.activity(&ctx).await) {
        (Ok(s), Ok(a)) => (s, a),
        (Err(e), _) | (_, Err(e)) => return refused(&e),
    };
    let page = DashboardPage {
        nav: &nav,
        stats: vec![
            ("Partners", "partners", stats.partners),
            ("Tenants", "tenants", stats.tenants),
            ("Users", "users", stats.users),
            ("Applications", "applications", stats.applications),
            ("Active sessions", "active_sessions", stats.active_sessions),
            ("Pending registrations", "pending_registration_requests", stats.pending_registration_requests),
        ]
        .into_iter()
        .filter(|(_, id, _)| nav.partners || *id != "partners")
        .collect(),
        estimated: stats.estimated,
        activity: activity
            .into_iter()
            .map(|e| {
                [
                    e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.action,
                    e.actor_id.unwrap_or_else(|| e.actor_type.as_str().to_string()),
                    e.result.as_str().to_string(),
                ]
            })
            .collect(),
    };
    with_cookie(html(StatusCode::OK, &page, Inline::No), new_cookie)
}

/// The list query of a console page: `search` and `page` (`None`: not a valid page number).
fn list_query(req: &HttpRequest) -> Option<(String, PageRequest)> {
    let search = query_param(req, "search").unwrap_or_default();
    let page = match query_param(req, "page") {
        None => None,
        Some(p) => Some(p.parse::<i64>().ok()?),
    };
    Some((search, PageRequest::new(page, Some(PER_PAGE)).ok()?))
}

fn bad_page() -> HttpResponse {
    error_page(StatusCode::BAD_REQUEST, "The page number is not valid.")
}

fn page_link(path: &str, search: &str, page: i64) -> String {
    let q = serde_urlencoded::to_string([("search", search), ("page", &page.to_string())]).unwrap_or_default();
    format!("{path}?{q}")
}

fn list_html<T>(
    nav: &Nav,
    (title, path, columns): (&str, &str, &[&str]),
    search: &str,
    found: Page<T>,
    row: impl Fn(T) -> Vec<String>,
) -> HttpResponse {
    let (page, pages, total) = (i64::from(found.request.page()), found.total_pages(), found.total);
    let prev = (page > 1).then(|| page_link(path, search, page - 1));
    let next = (page < pages).then(|| page_link(path, search, page + 1));
    let rows = found.items.into_iter().map(row).collect();
    let list = ListPage { nav, title, path, search, columns, rows, total, page, pages, prev, next };
    html(StatusCode::OK, &list, Inline::No)
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_default()
}

/// `GET /console/partners` (platform admins).
pub async fn partners(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((search, page)) = list_query(&req) else { return bad_page() };
    let filter =
        scaikey_app::ports::PartnerFilter { search: Some(search.clone()).filter(|s| !s.is_empty()), status: None };
    match state.partners.list(&ctx, &filter, page).await {
        Ok(found) => with_cookie(
            list_html(
                &nav,
                ("Partners", "/console/partners", &["Name", "Slug", "Status", "Contact"]),
                &search,
                found,
                |p| vec![p.name, p.slug, p.status.as_str().into(), opt(p.contact_email)],
            ),
            c,
        ),
        Err(e) => refused(&e),
    }
}

/// `GET /console/tenants`.
pub async fn tenants(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((search, page)) = list_query(&req) else { return bad_page() };
    let filter = scaikey_app::ports::TenantFilter {
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        ..scaikey_app::ports::TenantFilter::default()
    };
    match state.tenants.list(&ctx, &filter, page).await {
        Ok(found) => with_cookie(
            list_html(
                &nav,
                ("Tenants", "/console/tenants", &["Name", "Slug", "Status", "Partner"]),
                &search,
                found,
                |t| {
                    vec![
                        t.name,
                        t.slug,
                        t.status.as_str().into(),
                        t.partner_id.map(|p| p.to_string()).unwrap_or_default(),
                    ]
                },
            ),
            c,
        ),
        Err(e) => refused(&e),
    }
}

/// `GET /console/users`.
pub async fn users(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((search, page)) = list_query(&req) else { return bad_page() };
    let filter = scaikey_app::ports::UserFilter {
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        ..scaikey_app::ports::UserFilter::default()
    };
    match state.users.list(&ctx, &filter, page).await {
        Ok(found) => with_cookie(
            list_html(
                &nav,
                ("Users", "/console/users", &["E-mail", "Name", "Tenant", "Roles", "Status"]),
                &search,
                found,
                |u| {
                    let name = [u.first_name, u.last_name].into_iter().flatten().collect::<Vec<_>>().join(" ");
                    let roles = u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
                    vec![
                        u.email,
                        name,
                        u.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                        roles,
                        u.status.as_str().into(),
                    ]
                },
            ),
            c,
        ),
        Err(e) => refused(&e),
    }
}

/// `GET /assets/console.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CONSOLE_STYLESHEET)
}

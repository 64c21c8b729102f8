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

mod applications;
mod directory;
mod federation;
mod forms;
mod groups;
mod resource;

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
    day: Vec<(String, i64, i64)>,
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
    let sign_in = || {
        let here = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        see_other(&format!("/console/login?{}", serde_urlencoded::to_string([("next", here)]).unwrap_or_default()))
    };
    let Some(session) = session else { return Err(sign_in()) };
    match console.context(session, &meta(req)).await {
        Ok(Some(ctx)) => {
            let partners = reach(&ctx.principal, Action::Read).is_ok_and(|r| r == Reach::Platform);
            let (csrf, new_cookie) = csrf_token(req);
            Ok((ctx, Nav { partners, csrf }, new_cookie))
        }
        Ok(None) => Err(sign_in()),
        Err(AppError::Denied(..)) => Err(error_page(StatusCode::FORBIDDEN, "Only administrators may use the console.")),
        Err(e) => Err(internal(&e)),
    }
}

/// The 404 page for what is not there or not within reach (the two look alike).
fn nothing_here() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, "There is nothing here within your reach.")
}

/// A posted console form (its CSRF token checked first) and the signed-in admin, or the
/// response to send instead.
async fn admin_form(
    state: &WebState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Vec<(String, String)>, RequestContext, Nav, Option<Cookie<'static>>), HttpResponse> {
    let form = posted_form(req, body).map_err(|(status, message)| error_page(status, message))?;
    let (ctx, nav, c) = admin(state, req).await?;
    Ok((form, ctx, nav, c))
}

/// Renders a service error on a console page: 403/404 pages for what the reach refuses.
fn refused(e: &AppError) -> HttpResponse {
    match e {
        AppError::Denied(scaikey_domain::access::Denial::NotFound, _) | AppError::NotFound(_) => nothing_here(),
        AppError::Denied(..) => error_page(StatusCode::FORBIDDEN, "This page is outside your reach."),
        AppError::Invalid(_) => error_page(StatusCode::BAD_REQUEST, "The page or search is not valid."),
        other => internal(other),
    }
}

/// Where a sign-in may return to: a console page (never another site).
fn console_path(next: Option<String>) -> String {
    next.filter(|n| {
        (n == PATH || n.starts_with("/console/") || n.starts_with("/console?"))
            && !n.contains("//")
            && !n.contains('\\')
    })
    .unwrap_or_else(|| PATH.to_string())
}

/// `GET /console/login?next=…`: to the authorization endpoint as the console's client; back
/// to `next` (a console page) once signed in.
pub async fn login(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
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
    let next = console_path(query_param(&req, "next"));
    let mut c = cookie(LOGIN, format!("{st}~{verifier}~{}", URL_SAFE_NO_PAD.encode(next)), state.secure_cookies);
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
    let mut parts = started.splitn(3, '~');
    let (Some(expected), Some(verifier)) = (parts.next(), parts.next()) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in could not be completed. Open the console again.");
    };
    let next =
        console_path(parts.next().and_then(|n| URL_SAFE_NO_PAD.decode(n).ok()).and_then(|n| String::from_utf8(n).ok()));
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
    let mut r = see_other(&next);
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
    let (stats, activity, day) =
        match (state.audit.stats(&ctx).await, state.audit.activity(&ctx).await, state.audit.last_day(&ctx).await) {
            (Ok(s), Ok(a), Ok(d)) => (s, a, d),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return refused(&e),
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
        day: day.iter().map(|c| (c.hour.format("%H:00").to_string(), c.sign_ins, c.tokens)).collect(),
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

/// Where a list page stands among its pages, with the links to its neighbours.
struct Pager {
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    /// The pager of `found`; `link(n)` is the URL of page `n`.
    fn of<T>(found: &Page<T>, link: impl Fn(i64) -> String) -> Pager {
        let (page, pages) = (i64::from(found.request.page()), found.total_pages());
        let prev = (page > 1).then(|| link(page - 1));
        let next = (page < pages).then(|| link(page + 1));
        Pager { total: found.total, page, pages, prev, next }
    }
}

fn page_link(path: &str, search: &str, page: i64) -> String {
    let q = serde_urlencoded::to_string([("search", search), ("page", &page.to_string())]).unwrap_or_default();
    format!("{path}?{q}")
}

/// One registration request as the queue shows it.
struct RequestRow {
    id: String,
    name: String,
    scope: &'static str,
    status: &'static str,
    contact: String,
    description: Option<String>,
    pending: bool,
    notes_error: Option<String>,
    reason_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console_registrations.html")]
struct RegistrationsPage<'a> {
    nav: &'a Nav,
    statuses: &'a [(&'a str, &'a str)],
    status: &'a str,
    message: Option<&'a str>,
    total: i64,
    rows: Vec<RequestRow>,
}

#[derive(Template)]
#[template(path = "console_approved.html")]
struct ApprovedPage<'a> {
    nav: &'a Nav,
    name: &'a str,
    client_id: &'a str,
    client_secret: Option<&'a str>,
}

const STATUSES: [(&str, &str); 5] = [
    ("PENDING", "Pending"),
    ("APPROVED", "Approved"),
    ("REJECTED", "Rejected"),
    ("EXPIRED", "Expired"),
    ("CANCELLED", "Cancelled"),
];

/// The queue of `status`, with `message` on top and a field error beside request `failed`.
async fn queue(
    state: &WebState,
    ctx: &RequestContext,
    nav: &Nav,
    status: &str,
    message: Option<&str>,
    failed: Option<(&str, &scaikey_domain::validation::FieldError)>,
) -> HttpResponse {
    let filter = scaikey_app::ports::RegistrationFilter {
        status: scaikey_domain::registration::RegistrationStatus::parse(status),
        ..scaikey_app::ports::RegistrationFilter::default()
    };
    let Ok(page) = PageRequest::new(Some(1), Some(100)) else { return bad_page() };
    let found = match state.registrations.list(ctx, &filter, page).await {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let total = found.total;
    let rows = found
        .items
        .into_iter()
        .map(|r| {
            let id = r.id.to_string();
            let error_of = |field: &str| {
                failed
                    .filter(|(fid, e)| *fid == id && e.loc.first().is_some_and(|l| l == field))
                    .map(|(_, e)| e.msg.clone())
            };
            RequestRow {
                notes_error: error_of("notes"),
                reason_error: error_of("reason"),
                name: r.name,
                scope: r.scope.as_str(),
                status: r.status.as_str(),
                contact: r.contact_email,
                description: r.description,
                pending: r.status == scaikey_domain::registration::RegistrationStatus::Pending,
                id,
            }
        })
        .collect();
    let page = RegistrationsPage { nav, statuses: &STATUSES, status, message, total, rows };
    let code = if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(code, &page, Inline::No)
}

/// `GET /console/registrations?status=…` (pending by default).
pub async fn registrations(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let status = query_param(&req, "status").filter(|s| STATUSES.iter().any(|(v, _)| v == s));
    let message = query_param(&req, "done").and_then(|d| match d.as_str() {
        "rejected" => Some("The request was rejected."),
        _ => None,
    });
    with_cookie(queue(&state, &ctx, &nav, status.as_deref().unwrap_or("PENDING"), message, None).await, c)
}

/// `POST /console/registrations/{id}/{approve|reject}`: the review, with the API's field names
/// (`notes`, `reason`) and messages.
pub async fn review(
    state: web::Data<WebState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (form, ctx, nav, c) = match admin_form(&state, &req, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (raw_id, verb) = path.into_inner();
    let Ok(id) = raw_id.parse::<scaikey_domain::id::RegistrationRequestId>() else {
        return nothing_here();
    };
    let field = |name: &str| crate::pages::form_value(&form, name);
    let outcome = match verb.as_str() {
        "approve" => match state.registrations.approve(&ctx, id, field("notes").filter(|n| !n.trim().is_empty())).await
        {
            Ok(a) => {
                let page = ApprovedPage {
                    nav: &nav,
                    name: &a.app.name,
                    client_id: &a.app.client_id,
                    client_secret: a.client_secret.as_deref(),
                };
                return with_cookie(html(StatusCode::OK, &page, Inline::No), c);
            }
            Err(e) => e,
        },
        "reject" => match state.registrations.reject(&ctx, id, field("reason")).await {
            Ok(_) => return see_other("/console/registrations?done=rejected"),
            Err(e) => e,
        },
        _ => return nothing_here(),
    };
    match &outcome {
        AppError::Invalid(errs) => match errs.errors().first() {
            Some(first) => {
                with_cookie(queue(&state, &ctx, &nav, "PENDING", None, Some((raw_id.as_str(), first))).await, c)
            }
            None => refused(&outcome),
        },
        AppError::Conflict(m) => with_cookie(queue(&state, &ctx, &nav, "PENDING", Some(m), None).await, c),
        other => refused(other),
    }
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct AuditPage<'a> {
    nav: &'a Nav,
    action: &'a str,
    result: &'a str,
    results: &'a [(&'a str, &'a str)],
    rows: Vec<(String, [String; 6])>,
    pager: Pager,
}

/// `GET /console/audit?action=&result=&page=`.
pub async fn audit(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    const RESULTS: [(&str, &str); 4] =
        [("", "Any"), ("success", "Success"), ("failure", "Failure"), ("denied", "Denied")];
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((_, page)) = list_query(&req) else { return bad_page() };
    let action = query_param(&req, "action").map(|a| a.trim().to_string()).unwrap_or_default();
    let result = query_param(&req, "result").filter(|r| RESULTS.iter().any(|(v, _)| v == r)).unwrap_or_default();
    let filter = scaikey_app::ports::AuditFilter {
        action: Some(action.clone()).filter(|a| !a.is_empty()),
        result: scaikey_domain::audit::AuditResult::parse(&result),
        ..scaikey_app::ports::AuditFilter::default()
    };
    let found = match state.audit.list(&ctx, &filter, page).await {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let pager = Pager::of(&found, |p: i64| {
        let q = serde_urlencoded::to_string([
            ("action", action.as_str()),
            ("result", result.as_str()),
            ("page", &p.to_string()),
        ])
        .unwrap_or_default();
        format!("/console/audit?{q}")
    });
    let rows = found
        .items
        .into_iter()
        .map(|e| {
            (
                e.id.to_string(),
                [
                    e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    e.action,
                    e.actor_id.unwrap_or_else(|| e.actor_type.as_str().to_string()),
                    format!("{} {}", e.resource_type, e.resource_id.unwrap_or_default()).trim().to_string(),
                    e.result.as_str().to_string(),
                    e.ip.unwrap_or_default(),
                ],
            )
        })
        .collect();
    let page = AuditPage { nav: &nav, action: &action, result: &result, results: &RESULTS, rows, pager };
    with_cookie(html(StatusCode::OK, &page, Inline::No), c)
}

struct SessionRow {
    id: String,
    user: String,
    created: String,
    seen: String,
    ip: String,
    agent: String,
}

#[derive(Template)]
#[template(path = "console_sessions.html")]
struct SessionsPage<'a> {
    nav: &'a Nav,
    message: Option<&'a str>,
    rows: Vec<SessionRow>,
    pager: Pager,
}

/// `GET /console/sessions`: the active sessions within reach, each revocable.
pub async fn sessions(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some((_, page)) = list_query(&req) else { return bad_page() };
    let filter = scaikey_app::ports::SessionFilter::default();
    let found = match state.sessions.list(&ctx, &filter, page).await {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let pager = Pager::of(&found, |n| page_link("/console/sessions", "", n));
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let rows = found
        .items
        .into_iter()
        .map(|s| SessionRow {
            id: s.id.to_string(),
            user: s.user_id.to_string(),
            created: time(s.created_at),
            seen: time(s.last_seen_at),
            ip: s.ip.unwrap_or_default(),
            agent: s.user_agent.unwrap_or_default().chars().take(60).collect(),
        })
        .collect();
    let message = query_param(&req, "done").filter(|d| d == "revoked").map(|_| "The session was revoked.");
    let page = SessionsPage { nav: &nav, message, rows, pager };
    with_cookie(html(StatusCode::OK, &page, Inline::No), c)
}

/// `POST /console/sessions/{id}/revoke` (confirmed with `confirm=yes`).
pub async fn revoke_session(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (form, ctx, _, _) = match admin_form(&state, &req, &body).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    if crate::pages::form_value(&form, "confirm") != Some("yes") {
        return error_page(StatusCode::BAD_REQUEST, "Confirm the revocation: tick the box beside the button.");
    }
    let Ok(id) = id.parse::<scaikey_domain::id::SessionId>() else {
        return nothing_here();
    };
    match state.sessions.revoke(&ctx, id).await {
        Ok(_) => see_other("/console/sessions?done=revoked"),
        Err(e) => refused(&e),
    }
}

/// The last 24 hours as an SVG line chart (plotters): sign-ins and tokens issued per hour.
fn day_chart(counts: &[scaikey_app::ports::HourlyCount]) -> Result<String, String> {
    use plotters::prelude::*;
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let max = counts.iter().map(|c| c.sign_ins.max(c.tokens)).max().unwrap_or(0).max(1);
        let last = i32::try_from(counts.len()).unwrap_or(24) - 1;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(0i32..last.max(1), 0i64..max + max / 10 + 1)
            .map_err(|e| err(&e))?;
        let label = |i: &i32| {
            usize::try_from(*i)
                .ok()
                .and_then(|i| counts.get(i))
                .map(|c| c.hour.format("%H:00").to_string())
                .unwrap_or_default()
        };
        chart.configure_mesh().x_labels(12).x_label_formatter(&label).draw().map_err(|e| err(&e))?;
        let series = |pick: fn(&scaikey_app::ports::HourlyCount) -> i64| {
            counts.iter().enumerate().map(move |(i, c)| (i32::try_from(i).unwrap_or(0), pick(c)))
        };
        chart
            .draw_series(LineSeries::new(series(|c| c.sign_ins), BLUE.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label("Sign-ins")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(LineSeries::new(series(|c| c.tokens), RED.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label("Tokens issued")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// `GET /console/activity.svg`: the dashboard's chart, for the admin's reach.
pub async fn activity_chart(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, _, _) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let counts = match state.audit.last_day(&ctx).await {
        Ok(c) => c,
        Err(e) => return refused(&e),
    };
    match day_chart(&counts) {
        Ok(svg) => HttpResponse::Ok()
            .insert_header((actix_web::http::header::CONTENT_TYPE, "image/svg+xml"))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .insert_header((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((
                actix_web::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ))
            .body(svg),
        Err(e) => {
            tracing::error!(error = %e, "chart failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// `GET /console/audit/{id}`: one event with its details.
pub async fn audit_event(state: web::Data<WebState>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let (ctx, nav, c) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<scaikey_domain::id::AuditEventId>() else {
        return nothing_here();
    };
    let e = match state.audit.get(&ctx, id).await {
        Ok(e) => e,
        Err(e) => return refused(&e),
    };
    let or_dash = |v: Option<String>| directory::or_dash(v);
    let d = resource::Detail {
        title: format!("{} · {}", e.action, e.result.as_str()),
        back: "/console/audit".into(),
        back_label: "Audit log".into(),
        message: None,
        error: None,
        edit: None,
        facts: vec![
            ("ID", e.id.to_string()),
            ("When", e.occurred_at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()),
            ("Action", e.action),
            ("Result", e.result.as_str().into()),
            ("Actor", format!("{} {}", e.actor_type.as_str(), e.actor_id.unwrap_or_default()).trim().to_string()),
            ("Resource", format!("{} {}", e.resource_type, e.resource_id.unwrap_or_default()).trim().to_string()),
            ("Tenant", or_dash(e.tenant_id.map(|t| t.to_string()))),
            ("Partner", or_dash(e.partner_id.map(|p| p.to_string()))),
            ("IP", or_dash(e.ip)),
            ("Browser", or_dash(e.user_agent)),
            ("Details", serde_json::to_string_pretty(&e.details).unwrap_or_default()),
        ],
        sections: Vec::new(),
        actions: Vec::new(),
    };
    with_cookie(html(StatusCode::OK, &resource::DetailPage { nav: &nav, d }, Inline::No), c)
}

/// A preview page the console's own tenant form may frame (every other page refuses frames).
fn framable(mut r: HttpResponse) -> HttpResponse {
    use actix_web::http::header::{CONTENT_SECURITY_POLICY, HeaderValue, X_FRAME_OPTIONS};
    let csp = r
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("frame-ancestors 'none'", "frame-ancestors 'self'"));
    if let Some(csp) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
        r.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
    }
    r.headers_mut().insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    r
}

/// The login page as `branding` would show it; only what the hosted pages would show of it
/// ([`PageBranding::from_document`](scaikey_domain::tenant::PageBranding::from_document)).
fn preview_page(branding: &serde_json::Value) -> HttpResponse {
    let b = scaikey_domain::tenant::PageBranding::from_document(branding);
    let nonce = random_token();
    let page = crate::pages::LoginPage::preview(&b, &nonce);
    let inline = if b.primary_color.is_some() { Inline::Style(&nonce) } else { Inline::No };
    framable(html(StatusCode::OK, &page, inline))
}

/// `POST /console/tenants/preview`: the preview of the form's `branding` as typed.
pub async fn preview_posted(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match admin_form(&state, &req, &body).await {
        Ok((form, ..)) => form,
        Err(r) => return framable(r),
    };
    let mut errs = scaikey_domain::validation::ValidationErrors::new();
    match forms::Posted(&form).json("branding", &mut errs) {
        Some(doc) => preview_page(&doc.unwrap_or_default()),
        None => framable(error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The branding is not valid JSON yet; the preview follows once it is.",
        )),
    }
}

/// `GET /console/tenants/preview` (a new tenant) and `GET /console/tenants/{id}/preview`.
pub async fn preview_stored(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let (ctx, _, _) = match admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return framable(r),
    };
    let Some(raw) = req.match_info().get("id") else { return preview_page(&serde_json::Value::Null) };
    let Ok(id) = raw.parse::<scaikey_domain::id::TenantId>() else {
        return framable(nothing_here());
    };
    match state.tenants.get(&ctx, id).await {
        Ok(t) => preview_page(&t.branding),
        Err(e) => framable(refused(&e)),
    }
}

/// The console's one script: the tenant form's live preview (the page works without it).
pub const CONSOLE_SCRIPT: &str = include_str!("../templates/console.js");

/// `GET /assets/console.js`.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CONSOLE_SCRIPT)
}

/// Registers the console's resource pages (after the fixed paths they would otherwise shadow).
pub(crate) fn resources(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/tenants/preview", web::get().to(preview_stored))
        .route("/console/tenants/preview", web::post().to(preview_posted))
        .route("/console/tenants/{id}/preview", web::get().to(preview_stored))
        .route("/console/audit/{id}", web::get().to(audit_event));
    resource::routes::<directory::Partners>(cfg);
    resource::routes::<directory::Tenants>(cfg);
    resource::routes::<directory::Users>(cfg);
    resource::routes::<groups::Groups>(cfg);
    resource::routes::<applications::Applications>(cfg);
    resource::routes::<federation::IdentityProviders>(cfg);
    resource::routes::<federation::Agents>(cfg);
}

/// `GET /assets/console.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CONSOLE_STYLESHEET)
}

//! "Forgot password" and the mailed links (contract §10): `/login/forgot` asks for an address and
//! always answers the same text; `/login/reset?token=…` sets a password through a reset or
//! invitation link. What is mailed, and whether a link works, is
//! [`scaikey_app::mail_links::MailLinkService`]'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use scaikey_app::AppError;
use scaikey_app::mail_links::{FORGOT_ANSWER, LINK_INVALID, LinkOutcome};
use scaikey_domain::mail_link::Purpose;

use crate::WebState;
use crate::pages::{
    Inline, csrf_token, error_page, form_value, html, internal, meta, posted_form, query_param, with_cookie,
};

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage<'a> {
    csrf: &'a str,
    interaction: Option<&'a str>,
    back: &'a str,
    enabled: bool,
    done: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage<'a> {
    csrf: &'a str,
    token: Option<&'a str>,
    invitation: bool,
    done: bool,
    error: Option<&'a str>,
}

/// An interaction token as the login page links it: base64url only, else dropped (it is put
/// into a link).
fn interaction(raw: Option<&str>) -> Option<&str> {
    raw.filter(|i| {
        !i.is_empty() && i.len() <= 4096 && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn forgot_html(req: &HttpRequest, state: &WebState, interaction: Option<&str>, done: Option<&str>) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    let back = match interaction {
        Some(i) => format!("/login?interaction={i}"),
        None => "/account".to_string(),
    };
    let page = ForgotPage { csrf: &csrf, interaction, back: &back, enabled: state.links.enabled(), done };
    with_cookie(html(StatusCode::OK, &page, Inline::No), new_cookie)
}

/// `GET /login/forgot[?interaction=…]`.
pub async fn forgot_page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let i = query_param(&req, "interaction");
    forgot_html(&req, &state, interaction(i.as_deref()), None)
}

/// `POST /login/forgot` (`email`): the same answer whether or not the address has an account.
pub async fn forgot_submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let Some(email) = form_value(&form, "email") else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let i = interaction(form_value(&form, "interaction"));
    match state.links.forgot(email, &meta(&req)).await {
        Ok(()) => forgot_html(&req, &state, i, Some(FORGOT_ANSWER)),
        // Mail is off: the page says so.
        Err(AppError::Conflict(_)) => forgot_html(&req, &state, i, None),
        Err(e) => internal(&e),
    }
}

fn reset_html(req: &HttpRequest, status: StatusCode, page: ResetPage<'_>) -> HttpResponse {
    let (csrf, new_cookie) = csrf_token(req);
    with_cookie(html(status, &ResetPage { csrf: &csrf, ..page }, Inline::No), new_cookie)
}

fn invalid(req: &HttpRequest) -> HttpResponse {
    let page = ResetPage { csrf: "", token: None, invitation: false, done: false, error: Some(LINK_INVALID) };
    reset_html(req, StatusCode::BAD_REQUEST, page)
}

/// `GET /login/reset?token=…`: the form, when the link can still be used (this does not use it).
pub async fn reset_page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let Some(token) = query_param(&req, "token") else { return invalid(&req) };
    match state.links.open(&token).await {
        Ok(Some(purpose)) => reset_html(
            &req,
            StatusCode::OK,
            ResetPage {
                csrf: "",
                token: Some(&token),
                invitation: purpose == Purpose::Invitation,
                done: false,
                error: None,
            },
        ),
        Ok(None) => invalid(&req),
        Err(e) => internal(&e),
    }
}

/// `POST /login/reset` (`token`, `new_password`).
pub async fn reset_submit(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let (Some(token), Some(password)) = (form_value(&form, "token"), form_value(&form, "new_password")) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    match state.links.set_password(token, password, &meta(&req)).await {
        Ok(LinkOutcome::Done(purpose)) => reset_html(
            &req,
            StatusCode::OK,
            ResetPage { csrf: "", token: None, invitation: purpose == Purpose::Invitation, done: true, error: None },
        ),
        Ok(LinkOutcome::Invalid) => invalid(&req),
        Err(AppError::Invalid(errs)) => {
            let message = errs.errors().first().map(|e| e.msg.clone()).unwrap_or_default();
            let invitation = matches!(state.links.open(token).await, Ok(Some(Purpose::Invitation)));
            reset_html(
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                ResetPage { csrf: "", token: Some(token), invitation, done: false, error: Some(&message) },
            )
        }
        Err(e) => internal(&e),
    }
}

//! Federated sign-in routes (contract §11): the login page's identity-provider buttons
//! (`POST /login/idp`), the OIDC callback (`GET /oauth/callback/{idp_id}`) and the SAML
//! service provider (`GET /saml/{idp_id}/metadata`, `POST /saml/{idp_id}/acs`,
//! `GET /saml/{idp_id}/continue`). The browser-binding cookie set on the way upstream is
//! `HttpOnly` and `SameSite=Lax`: the upstream's redirect back (a top-level GET) carries it, the
//! IdP's cross-site POST to the ACS does not, which is why SAML finishes at `continue`.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::oidc::Outcome;
use scaikey_app::oidc::federated::{AcsResult, CallbackResult};

use crate::WebState;
use crate::pages::{
    decode_pairs, error_page, form_value, internal, login_html, meta, outcome, posted_form, see_other, signed_in,
};

/// Largest SAML form accepted (a signed response with its certificate is a few kilobytes).
const MAX_SAML_FORM_BYTES: usize = 256 * 1024;

/// The cookie that binds an upstream callback to the browser that started the sign-in.
const BINDING_COOKIE: &str = "scaikey_federation";
/// The binding cookie's path: the OIDC callback and the SAML continue step both read it.
const CALLBACK_PATH: &str = "/";

/// The 303 to the upstream provider, setting the binding cookie (`SameSite=Lax`: the upstream's
/// redirect back is a top-level GET, which carries it).
pub(crate) fn to_upstream(url: &str, binding: &str, secure: bool) -> HttpResponse {
    let c = Cookie::build(BINDING_COOKIE, binding.to_string())
        .path(CALLBACK_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(Duration::minutes(30))
        .finish();
    let mut r = see_other(url);
    let _ = r.add_cookie(&c);
    r
}

/// `POST /login/idp`: a login page's "Sign in with …" button.
pub async fn start(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = match posted_form(&req, &body) {
        Ok(f) => f,
        Err((status, message)) => return error_page(status, message),
    };
    let (Some(i), Some(idp)) = (form_value(&form, "interaction"), form_value(&form, "idp_id")) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    match state.oidc.federate(i, idp, &meta(&req)).await {
        Ok(Outcome::Login(v)) => login_html(&req, &v, "", "", StatusCode::OK),
        Ok(o) => outcome(o, state.secure_cookies),
        Err(e) => internal(&e),
    }
}

/// `GET /oauth/callback/{idp_id}`: the upstream's answer. The binding cookie goes whatever the
/// outcome (the sign-in it bound is used up).
pub async fn callback(state: web::Data<WebState>, req: HttpRequest, idp: web::Path<String>) -> HttpResponse {
    let Some(pairs) = decode_pairs(req.query_string().as_bytes()) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in response is malformed.");
    };
    let binding = req.cookie(BINDING_COOKIE).map(|c| c.value().to_string());
    let secure = state.secure_cookies;
    finished(state.oidc.upstream_callback(&idp, &pairs, binding.as_deref(), &meta(&req)).await, secure)
}

/// `GET /saml/{idp_id}/metadata`: the SP metadata to import at the IdP.
pub async fn saml_metadata(state: web::Data<WebState>, idp: web::Path<String>) -> HttpResponse {
    match state.oidc.saml_metadata(&idp).await {
        Ok(Some(xml)) => HttpResponse::Ok()
            .insert_header((actix_web::http::header::CONTENT_TYPE, "application/samlmetadata+xml"))
            .insert_header((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(xml),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "No SAML identity provider here."),
        Err(e) => internal(&e),
    }
}

/// `POST /saml/{idp_id}/acs`: the IdP's HTTP-POST response. A cross-site form post by design,
/// so it carries no CSRF token; what protects it is the signature, the request ID it answers
/// and the single-use relay state.
pub async fn saml_acs(
    state: web::Data<WebState>,
    req: HttpRequest,
    idp: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if body.len() > MAX_SAML_FORM_BYTES {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The sign-in response is too large.");
    }
    let Some(form) = decode_pairs(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in response is malformed.");
    };
    match state.oidc.saml_acs(&idp, &form, &meta(&req)).await {
        Ok(AcsResult::Continue(to)) => see_other(&to),
        Ok(AcsResult::Refused(message)) => error_page(StatusCode::BAD_REQUEST, &message),
        Err(e) => internal(&e),
    }
}

/// `GET /saml/{idp_id}/continue?h=…`: finishes a SAML sign-in in the browser that started it.
pub async fn saml_continue(state: web::Data<WebState>, req: HttpRequest, idp: web::Path<String>) -> HttpResponse {
    let Some(pairs) = decode_pairs(req.query_string().as_bytes()) else {
        return error_page(StatusCode::BAD_REQUEST, "The sign-in response is malformed.");
    };
    let binding = req.cookie(BINDING_COOKIE).map(|c| c.value().to_string());
    let secure = state.secure_cookies;
    let handle = form_value(&pairs, "h");
    finished(state.oidc.saml_continue(&idp, handle, binding.as_deref(), &meta(&req)).await, secure)
}

/// The end of a federated sign-in (OIDC callback or SAML continue): signed in and on, or the
/// page; the binding cookie goes either way (the sign-in it bound is used up).
fn finished(result: Result<CallbackResult, scaikey_app::AppError>, secure: bool) -> HttpResponse {
    without_binding(match result {
        Ok(CallbackResult::SignedIn { cookie, expires_at, next }) => {
            signed_in(outcome(next, secure), &cookie, expires_at, secure)
        }
        Ok(CallbackResult::Done(o)) => outcome(o, secure),
        Err(e) => internal(&e),
    })
}

fn without_binding(mut r: HttpResponse) -> HttpResponse {
    let mut gone = Cookie::build(BINDING_COOKIE, "").path(CALLBACK_PATH).http_only(true).finish();
    gone.make_removal();
    let _ = r.add_cookie(&gone);
    r
}

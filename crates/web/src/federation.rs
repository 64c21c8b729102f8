//! Federated sign-in routes (contract §11): the login page's identity-provider buttons
//! (`POST /login/idp`) and the upstream provider's callback (`GET /oauth/callback/{idp_id}`).
//! The browser-binding cookie set on the way upstream is sent back only to the callback path.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scaikey_app::oidc::Outcome;
use scaikey_app::oidc::federated::CallbackResult;

use crate::WebState;
use crate::pages::{
    decode_pairs, error_page, form_value, internal, login_html, meta, outcome, posted_form, see_other, signed_in,
};

/// The cookie that binds an upstream callback to the browser that started the sign-in.
const BINDING_COOKIE: &str = "scaikey_federation";
/// The only path the binding cookie is sent to.
const CALLBACK_PATH: &str = "/oauth/callback";

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
    let mut r = match state.oidc.upstream_callback(&idp, &pairs, binding.as_deref(), &meta(&req)).await {
        Ok(CallbackResult::SignedIn { cookie, expires_at, next }) => {
            signed_in(outcome(next, secure), &cookie, expires_at, secure)
        }
        Ok(CallbackResult::Done(o)) => outcome(o, secure),
        Err(e) => internal(&e),
    };
    let mut gone = Cookie::build(BINDING_COOKIE, "").path(CALLBACK_PATH).http_only(true).finish();
    gone.make_removal();
    let _ = r.add_cookie(&gone);
    r
}

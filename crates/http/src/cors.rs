//! CORS for the endpoints browser-based clients call (contract §8, issue of SPAs): the token,
//! userinfo and revocation endpoints answer an origin that some active application lists in
//! `allowed_origins`; discovery and the JWKS are public documents for any origin. The admin API
//! sends no CORS headers: a browser page on another origin cannot call it.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;

fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| !o.is_empty() && o.len() <= 2048)
}

/// Adds the CORS answer for `req`'s origin when an application allows it.
pub async fn allow(state: &AppState, req: &HttpRequest, mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin(req)
        && state.oidc.origin_allowed(o).await
        && let Ok(v) = HeaderValue::from_str(o)
    {
        r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        r.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("WWW-Authenticate"));
    }
    r
}

/// `OPTIONS` on a CORS endpoint: the preflight, answered for allowed origins only (a refused
/// origin gets a 204 without CORS headers, which the browser treats as a refusal).
pub async fn preflight(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut r = HttpResponse::NoContent().finish();
    r.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    let Some(o) = origin(&req) else { return r };
    if !state.oidc.origin_allowed(o).await {
        return r;
    }
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(o) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization, Content-Type"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    r
}

/// Public documents (discovery, JWKS): readable from any origin.
pub fn public(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// `OPTIONS` on a public document.
pub async fn public_preflight() -> HttpResponse {
    let mut r = public(HttpResponse::NoContent().finish());
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, OPTIONS"));
    r.headers_mut().insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    r
}

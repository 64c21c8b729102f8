//! An actix-web extractor (feature `actix`).
//!
//! Register a [`Verifier`] as app data (`App::new().app_data(web::Data::new(verifier))`); a
//! handler that takes [`Bearer`] then runs only for a verified token, and every refusal is
//! answered with its RFC 6750 status, `WWW-Authenticate` challenge and a JSON body
//! `{"error", "error_description"}`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};

use crate::error::VerifyError;
use crate::remote::Verifier;
use crate::token::Verified;

/// A verified bearer token, extracted from the request.
#[derive(Debug, Clone)]
pub struct Bearer(pub Verified);

impl ResponseError for VerifyError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED)
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code()).json(serde_json::json!({
            "error": self.error_code().unwrap_or(if self.status() == 503 { "temporarily_unavailable" } else { "invalid_token" }),
            "error_description": self.to_string(),
        }));
        if let Ok(v) = HeaderValue::from_str(&self.challenge(None)) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }
}

impl FromRequest for Bearer {
    type Error = VerifyError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, VerifyError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().map(|d| d.get_ref().clone());
        let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_string));
        Box::pin(async move {
            let Some(verifier) = verifier else {
                return Err(VerifyError::Unavailable("no Verifier registered as app data".into()));
            };
            let header = match header {
                None => None,
                Some(Ok(h)) => Some(h),
                Some(Err(_)) => return Err(VerifyError::MalformedHeader),
            };
            verifier.verify_header(header.as_deref()).await.map(Bearer)
        })
    }
}

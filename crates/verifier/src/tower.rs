//! A tower layer (feature `tower`), for axum, tonic and plain hyper services.
//!
//! [`VerifyLayer`] verifies the request's bearer token (and, if asked, its scopes) before the
//! inner service runs, and puts the [`Verified`] token in the request's extensions; a refusal
//! is answered with its RFC 6750 status and `WWW-Authenticate` challenge and an empty body.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, StatusCode, header};
use tower_layer::Layer;
use tower_service::Service;

use crate::remote::Verifier;
use crate::token::Verified;

/// Verifies bearer tokens in front of a service.
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Verifier,
    scopes: Vec<String>,
    realm: Option<String>,
}

impl VerifyLayer {
    /// Requires a token `verifier` accepts.
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        VerifyLayer { verifier, scopes: Vec::new(), realm: None }
    }

    /// Also requires these scopes (403 `insufficient_scope` otherwise).
    #[must_use]
    pub fn require_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| (*s).to_string()).collect();
        self
    }

    /// Names the `realm` in challenges.
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = Some(realm.to_string());
        self
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService { inner, layer: self.clone() }
    }
}

/// The service [`VerifyLayer`] wraps around another.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh one waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_string));
            let outcome = match header {
                Some(Err(_)) => Err(crate::VerifyError::MalformedHeader),
                None => layer.verifier.verify_header(None).await,
                Some(Ok(h)) => layer.verifier.verify_header(Some(&h)).await,
            };
            let scopes: Vec<&str> = layer.scopes.iter().map(String::as_str).collect();
            match outcome.and_then(|v: Verified| v.require_scopes(&scopes).map(|()| v)) {
                Ok(v) => {
                    req.extensions_mut().insert(v);
                    inner.call(req).await
                }
                Err(e) => {
                    let mut r = Response::new(ResBody::default());
                    *r.status_mut() = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
                    if let Ok(v) = HeaderValue::from_str(&e.challenge(layer.realm.as_deref())) {
                        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                    }
                    Ok(r)
                }
            }
        })
    }
}

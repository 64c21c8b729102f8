//! Bounds on what one client can hold (issue 17): a body must arrive within its deadline, a
//! handler must finish within its own, and one client IP may have only so many requests in
//! flight. Header-read and keep-alive timeouts are the HTTP server's own settings (wired by the
//! binary); these are the phases actix leaves open.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::Stream;

/// The limits, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Longest a request body may take to arrive, from the end of the headers.
    pub body: Duration,
    /// Longest a handler may run.
    pub handler: Duration,
    /// Most requests in flight from one client IP.
    pub per_ip: usize,
}

/// The in-flight count per client IP, shared by the workers.
#[derive(Debug)]
pub struct Limiter {
    limits: RequestLimits,
    in_flight: Mutex<HashMap<IpAddr, usize>>,
}

impl Limiter {
    /// A limiter with no request in flight.
    #[must_use]
    pub fn new(limits: RequestLimits) -> Arc<Limiter> {
        Arc::new(Limiter { limits, in_flight: Mutex::new(HashMap::new()) })
    }

    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut m = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(ip).or_insert(0);
        if *n >= self.limits.per_ip {
            return None;
        }
        *n += 1;
        Some(Slot { limiter: self.clone(), ip })
    }
}

/// One request's place in its IP's count; freed when dropped (also when the client goes away).
struct Slot {
    limiter: Arc<Limiter>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self.limiter.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// A request body that fails once its deadline passes.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<actix_web::rt::time::Sleep>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

fn too_many(retry_after: u64) -> HttpResponse {
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, retry_after.to_string()))
        .json(serde_json::json!({"detail": "Too many requests in flight from this address"}))
}

/// The middleware (`App::wrap(from_fn(limit))`, with `web::Data<Arc<Limiter>>` in the app data).
pub async fn limit(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(limiter) = req.app_data::<web::Data<Arc<Limiter>>>().map(|d| d.get_ref().clone()) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let slot = match req.peer_addr().map(|a| a.ip()) {
        Some(ip) => match limiter.enter(ip) {
            Some(s) => Some(s),
            None => return Ok(req.into_response(too_many(1))),
        },
        None => None,
    };
    let body = std::mem::replace(req.parts_mut().1, Payload::None);
    let deadline = Deadline { inner: body, sleep: Box::pin(actix_web::rt::time::sleep(limiter.limits.body)) };
    let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(deadline);
    req.set_payload(Payload::from(boxed));
    // The request must not be cloned before routing (actix mutates it in place), so the
    // timeout answers as an error carrying its response.
    let path = req.path().to_string();
    let out = match actix_web::rt::time::timeout(limiter.limits.handler, next.call(req)).await {
        Ok(r) => r.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            tracing::warn!(path, "a request ran past the handler timeout");
            let r = HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(serde_json::json!({"detail": "The request took too long"}));
            Err(actix_web::error::InternalError::from_response("handler timeout", r).into())
        }
    };
    drop(slot);
    out
}

//! Prometheus metrics (`GET /metrics`, OpenMetrics text) with the official `prometheus-client`
//! crate: one registry per server (no global state, so several servers in one test process stay
//! apart).
//!
//! - `scaikey_http_requests_total{method, route, status}` and
//!   `scaikey_http_request_duration_seconds{method, route}`: every request, by route *pattern*
//!   (`/api/v1/admin/users/{id}`), so the label set stays small whatever the paths;
//! - `scaikey_audit_events_total{action, result}`: the events of the audit queue, counted before
//!   aggregation — logins by result (`auth.login`), token issuance and refusals (`auth.token`,
//!   `auth.token_refused`), authorizations, refused writes (admin writes themselves are recorded
//!   in their own transaction and counted by `scaikey_http_requests_total`);
//! - gauges read at scrape time from [`Gauges`]: audit queue drops, database pool use, revocation
//!   list size.
//!
//! Access: with `SCAIKEY_METRICS_TOKEN` set, a scrape must send it as a bearer token; without,
//! only loopback peers may scrape.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use scaikey_app::ports::AuditSink;
use scaikey_domain::audit::AuditRecord;

use crate::state::AppState;

type Labels = Vec<(&'static str, String)>;

/// Values only the wiring can read (queue, pool, revocation list), read at each scrape.
pub trait Gauges: Send + Sync {
    /// `(name, help, value)` of each gauge.
    fn read(&self) -> Vec<(&'static str, &'static str, i64)>;
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    durations: Family<Labels, Histogram>,
    audit_events: Family<Labels, Counter>,
    gauges: Vec<(&'static str, Gauge<i64, AtomicI64>)>,
    source: Option<Arc<dyn Gauges>>,
    token: Option<String>,
}

type AtomicI64 = std::sync::atomic::AtomicI64;

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("protected", &self.token.is_some()).finish_non_exhaustive()
    }
}

fn duration_histogram() -> Histogram {
    // 0.5 ms … ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// A registry with every metric; `source` feeds the gauges; `token` guards the scrape.
    pub fn new(source: Option<Arc<dyn Gauges>>, token: Option<String>) -> Metrics {
        let mut registry = Registry::with_prefix("scaikey");
        let requests = Family::<Labels, Counter>::default();
        let durations = Family::<Labels, Histogram>::new_with_constructor(duration_histogram as fn() -> Histogram);
        let audit_events = Family::<Labels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route pattern and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route pattern", durations.clone());
        registry.register(
            "audit_events",
            "Events of the audit queue by action and result (before aggregation)",
            audit_events.clone(),
        );
        let mut gauges = Vec::new();
        if let Some(s) = &source {
            for (name, help, _) in s.read() {
                let g = Gauge::<i64, AtomicI64>::default();
                registry.register(name, help, g.clone());
                gauges.push((name, g));
            }
        }
        Metrics { registry, requests, durations, audit_events, gauges, source, token }
    }

    /// Counts one audited event (`details.count` of a tallied one).
    pub fn audited(&self, r: &AuditRecord) {
        let n = r.details.get("count").and_then(serde_json::Value::as_u64).unwrap_or(1);
        let labels = vec![("action", r.action.to_string()), ("result", r.result.as_str().to_string())];
        self.audit_events.get_or_create(&labels).inc_by(n);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let base = vec![("method", method.to_string()), ("route", route.to_string())];
        self.durations.get_or_create(&base).observe(seconds);
        let mut with_status = base;
        with_status.push(("status", status.to_string()));
        self.requests.get_or_create(&with_status).inc();
    }

    /// The OpenMetrics text.
    pub fn render(&self) -> String {
        if let Some(s) = &self.source {
            for (name, value) in s.read().into_iter().map(|(n, _, v)| (n, v)) {
                if let Some((_, g)) = self.gauges.iter().find(|(n, _)| *n == name) {
                    g.set(value);
                }
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    fn may_scrape(&self, req: &HttpRequest) -> bool {
        match &self.token {
            Some(t) => req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .is_some_and(|(scheme, sent)| {
                    scheme.eq_ignore_ascii_case("bearer")
                        && sent.len() == t.len()
                        && sent.bytes().zip(t.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
                }),
            None => req.peer_addr().is_some_and(|a| a.ip().is_loopback()),
        }
    }
}

/// Counts every request by route pattern and status (`App::wrap(from_fn(track))`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    let method = req.method().as_str().to_string();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
        m.observe(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// `GET /metrics`.
pub async fn scrape(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.metrics.may_scrape(&req) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .json(serde_json::json!({"detail": "Metrics need the metrics token"}));
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8"))
        .body(state.metrics.render())
}

/// An [`AuditSink`] that counts each record into [`Metrics`] and passes it on.
pub struct CountingSink {
    /// Where the counts go.
    pub metrics: Arc<Metrics>,
    /// Where the records go.
    pub inner: Arc<dyn AuditSink>,
}

impl std::fmt::Debug for CountingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountingSink")
    }
}

impl AuditSink for CountingSink {
    fn submit(&self, record: AuditRecord, at: DateTime<Utc>) {
        self.metrics.audited(&record);
        self.inner.submit(record, at);
    }

    fn written(&self, record: &AuditRecord) {
        self.metrics.audited(record);
        self.inner.written(record);
    }
}

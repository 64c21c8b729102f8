//! Client ID metadata documents (contract §12): with `SCAIKEY_CIMD=on`, an authorization request
//! whose `client_id` is a document URL no application has yet makes ScaiKey fetch the document
//! and register the client from it as a dynamic registration would ([`RegistrationService::register`]:
//! the same metadata rules, the same per-IP limit, the same `SCAIKEY_DCR_POLICY`). Once approved
//! it is an application like any other, found by its `client_id`. A document that cannot be
//! used is remembered as refused for as long as its `Cache-Control` allows (at least a minute),
//! so a retrying client does not make ScaiKey fetch it again and again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::cimd;
use scaikey_domain::registration::{RegistrationStatus, effective_status};

use super::RegistrationService;
use super::dynamic::{DcrError, DcrSettings, Source};
use crate::error::AppError;
use crate::ports::Clock;
use crate::ports::cimd::ClientMetadataFetcher;
use crate::sync::lock;

/// Most refusals remembered (oldest forgotten past this).
const MAX_REMEMBERED: usize = 10_000;
/// Most documents one client IP makes this process fetch a minute (an unknown URL costs an
/// outbound request, so it is bounded before the registration limit could count it).
const FETCHES_PER_MINUTE: u32 = 30;

/// What became of a document client ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CimdOutcome {
    /// Registered and approved: its application exists.
    Ready,
    /// Registered, waiting for an admin.
    Pending,
    /// Not usable; the text says why.
    Refused(String),
}

/// Client ID metadata documents.
pub struct CimdClients {
    registrations: Arc<RegistrationService>,
    fetcher: Arc<dyn ClientMetadataFetcher>,
    settings: DcrSettings,
    loopback_allowed: bool,
    clock: Arc<dyn Clock>,
    refused: Mutex<HashMap<String, (DateTime<Utc>, String)>>,
    /// Fetches per client IP in the current minute.
    fetches: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl std::fmt::Debug for CimdClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CimdClients").field("loopback_allowed", &self.loopback_allowed).finish_non_exhaustive()
    }
}

impl CimdClients {
    /// Wires it; `loopback_allowed` outside production (http document URLs on loopback hosts).
    pub fn new(
        registrations: Arc<RegistrationService>,
        fetcher: Arc<dyn ClientMetadataFetcher>,
        settings: DcrSettings,
        loopback_allowed: bool,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            registrations,
            fetcher,
            settings,
            loopback_allowed,
            clock,
            refused: Mutex::default(),
            fetches: Mutex::default(),
        }
    }

    /// Counts a fetch for `ip`; `false` past the minute's bound.
    fn may_fetch(&self, ip: Option<&str>, now: DateTime<Utc>) -> bool {
        let mut m = lock(&self.fetches);
        if m.len() >= MAX_REMEMBERED {
            m.retain(|_, (start, _)| now - *start < Duration::minutes(1));
        }
        let e = m.entry(ip.unwrap_or_default().to_string()).or_insert((now, 0));
        if now - e.0 >= Duration::minutes(1) {
            *e = (now, 0);
        }
        e.1 += 1;
        e.1 <= FETCHES_PER_MINUTE
    }

    /// Whether `client_id` is a document URL.
    #[must_use]
    pub fn handles(&self, client_id: &str) -> bool {
        cimd::document_url(client_id, self.loopback_allowed).is_some()
    }

    fn refuse(&self, url: &str, text: String, cache_control: Option<&str>) -> CimdOutcome {
        let until = self.clock.now() + Duration::seconds(cimd::cache_seconds(cache_control));
        let mut m = lock(&self.refused);
        if m.len() >= MAX_REMEMBERED {
            m.clear();
        }
        m.insert(url.to_string(), (until, text.clone()));
        CimdOutcome::Refused(text)
    }

    /// Resolves a document client ID that no application has: its registration's state, or a
    /// new registration from the fetched document.
    pub async fn resolve(&self, client_id: &str, meta: &RequestMeta) -> Result<CimdOutcome, AppError> {
        let now = self.clock.now();
        if let Some((request, _)) = self.registrations.repo.by_dynamic_client_id(client_id).await? {
            return Ok(match effective_status(request.status, request.expires_at, now) {
                RegistrationStatus::Approved => CimdOutcome::Ready,
                RegistrationStatus::Pending => CimdOutcome::Pending,
                _ => CimdOutcome::Refused("The registration of this application was rejected or has expired.".into()),
            });
        }
        if let Some((until, text)) = lock(&self.refused).get(client_id).cloned()
            && until > now
        {
            return Ok(CimdOutcome::Refused(text));
        }
        if !self.may_fetch(meta.ip.as_deref(), now) {
            return Ok(CimdOutcome::Refused(
                "Too many applications were registered from your network. Try again later.".into(),
            ));
        }
        let doc = match self.fetcher.fetch(client_id).await {
            Ok(d) => d,
            Err(e) => {
                // In production the reason stays in the log: what a fetch met must not make
                // ScaiKey a scanner of other hosts.
                tracing::info!(client_id, reason = %e, "client metadata document not read");
                let text = if self.loopback_allowed {
                    format!("The application's metadata document could not be read: {e}")
                } else {
                    "The application's metadata document could not be read.".to_string()
                };
                return Ok(self.refuse(client_id, text, None));
            }
        };
        let cache = doc.cache_control.as_deref();
        let m = match cimd::read_document(&doc.body, client_id) {
            Ok(m) => m,
            Err(e) => {
                return Ok(self.refuse(
                    client_id,
                    format!("The application's metadata document is not usable: {e}"),
                    cache,
                ));
            }
        };
        match self.registrations.register(m, Source::Document(client_id.to_string()), meta, &self.settings).await {
            Ok(r) if r.request.status == RegistrationStatus::Approved => Ok(CimdOutcome::Ready),
            Ok(_) => Ok(CimdOutcome::Pending),
            Err(DcrError::InvalidMetadata(_, text)) => {
                Ok(self.refuse(client_id, format!("The application's metadata document is not usable: {text}"), cache))
            }
            Err(DcrError::RateLimited) => Ok(CimdOutcome::Refused(
                "Too many applications were registered from your network. Try again later.".into(),
            )),
            // Another request registered the same document meanwhile: its registration decides.
            Err(DcrError::Failed(AppError::Conflict(_))) => {
                match self.registrations.repo.by_dynamic_client_id(client_id).await? {
                    Some((request, _)) if request.status == RegistrationStatus::Approved => Ok(CimdOutcome::Ready),
                    Some(_) => Ok(CimdOutcome::Pending),
                    None => Ok(CimdOutcome::Refused("The application could not be registered. Try again.".into())),
                }
            }
            Err(DcrError::Failed(e)) => Err(e),
        }
    }
}

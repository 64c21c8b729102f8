//! Client ID metadata documents fetched over HTTP (contract §12): no redirects, a short timeout,
//! a size cap read as the body arrives (a server that lies about its length gains nothing).

use std::time::Duration;

use async_trait::async_trait;
use scaikey_app::ports::cimd::{ClientMetadataFetcher, FetchedDocument};
use scaikey_domain::cimd::{FETCH_TIMEOUT_SECONDS, MAX_DOCUMENT_BYTES};

/// Fetches client metadata documents with reqwest.
#[derive(Debug, Clone)]
pub struct HttpDocuments {
    http: reqwest::Client,
    public_only: bool,
}

impl HttpDocuments {
    /// The fetcher; with `public_only` (production) it reaches public addresses only.
    ///
    /// # Errors
    /// When the TLS stack cannot be set up.
    pub fn new(public_only: bool) -> Result<Self, reqwest::Error> {
        let http = crate::guard::client(Duration::from_secs(FETCH_TIMEOUT_SECONDS), public_only)?;
        Ok(Self { http, public_only })
    }
}

#[async_trait]
impl ClientMetadataFetcher for HttpDocuments {
    async fn fetch(&self, url: &str) -> Result<FetchedDocument, String> {
        if !crate::guard::allowed(url, self.public_only) {
            return Err("it is not at an address ScaiKey connects to".into());
        }
        let mut r =
            self.http.get(url).header(reqwest::header::ACCEPT, "application/json").send().await.map_err(|e| {
                if e.is_timeout() {
                    "it did not answer in time".to_string()
                } else {
                    "it could not be reached".to_string()
                }
            })?;
        if r.status() != reqwest::StatusCode::OK {
            return Err(format!("it answered {}", r.status().as_u16()));
        }
        let cache_control =
            r.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(|_| "its answer broke off".to_string())? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("it is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
        }
        let body = serde_json::from_slice(&body).map_err(|_| "it is not JSON".to_string())?;
        Ok(FetchedDocument { body, cache_control })
    }
}

//! Client ID metadata documents (contract §12): fetching the document a URL client ID names.

use async_trait::async_trait;

/// A fetched client metadata document.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedDocument {
    /// The JSON body.
    pub body: serde_json::Value,
    /// Its `Cache-Control` header.
    pub cache_control: Option<String>,
}

/// Fetches documents: no redirects followed, at most
/// [`scaikey_domain::cimd::MAX_DOCUMENT_BYTES`], within
/// [`scaikey_domain::cimd::FETCH_TIMEOUT_SECONDS`]; a 200 with a JSON body, else an error
/// saying why (safe to show).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ClientMetadataFetcher: Send + Sync {
    /// GETs `url`.
    async fn fetch(&self, url: &str) -> Result<FetchedDocument, String>;
}

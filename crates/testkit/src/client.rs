//! A small HTTP client for the admin API that never panics on a status: tests assert on
//! [`Resp`].

use reqwest::Method;
use serde_json::Value;

/// An answer: status, JSON body (or `Null`), headers.
#[derive(Debug, Clone)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Parsed JSON body; `Value::Null` when empty, `Value::String` when not JSON.
    pub body: Value,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// `body["detail"]` as text.
    #[must_use]
    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or_default()
    }

    /// The first 422 entry's `loc`, joined with dots.
    #[must_use]
    pub fn first_loc(&self) -> String {
        self.locs().into_iter().next().unwrap_or_default()
    }

    /// Reads a response whole.
    pub(crate) async fn read(res: reqwest::Response) -> anyhow::Result<Resp> {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(Resp { status, body, headers })
    }

    /// Every 422 entry's `loc`, each joined with dots.
    #[must_use]
    pub fn locs(&self) -> Vec<String> {
        self.body["detail"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|e| {
                        e["loc"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                                    .collect::<Vec<_>>()
                                    .join(".")
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `body["id"]` as text.
    #[must_use]
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_default().to_string()
    }
}

/// A client bound to one server and, optionally, one bearer token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl ApiClient {
    pub(crate) fn new(base: &str, token: Option<String>) -> Self {
        ApiClient { base: base.to_string(), token, http: reqwest::Client::new() }
    }

    /// The bearer token held.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Sends `body` as raw bytes with a JSON content type.
    pub async fn raw(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> anyhow::Result<Resp> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        Resp::read(req.send().await?).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> anyhow::Result<Resp> {
        self.raw(Method::GET, path, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Resp> {
        self.raw(Method::POST, path, Some(serde_json::to_vec(&body)?)).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Resp> {
        self.raw(Method::PATCH, path, Some(serde_json::to_vec(&body)?)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Resp> {
        self.raw(Method::DELETE, path, None).await
    }
}

//! What ScaiKey may connect to on behalf of an upstream (contract §11–12): in production only
//! public addresses, so an issuer, an endpoint a discovery document names or a client metadata
//! document URL cannot point ScaiKey at its own network (cloud metadata, admin ports, the
//! database). Names are checked once resolved ([`PublicResolver`]); address literals, which
//! reqwest does not resolve, before each request ([`Guarded`]). Outside production every
//! address is allowed, for local providers and tests.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use openidconnect::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use scaikey_domain::federated::{fetchable, is_public};

/// A resolver answering only the public addresses of a name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A reqwest client for upstream calls: redirects off, bounded time, and (with `public_only`)
/// public addresses only.
pub(crate) fn client(timeout: std::time::Duration, public_only: bool) -> Result<reqwest::Client, reqwest::Error> {
    let mut b = reqwest::Client::builder()
        // A redirect could lead a server-side request anywhere; upstreams answer directly.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("ScaiKey/", env!("CARGO_PKG_VERSION")));
    if public_only {
        b = b.dns_resolver(std::sync::Arc::new(PublicResolver));
    }
    b.build()
}

/// Whether `url` may be requested.
pub(crate) fn allowed(url: &str, public_only: bool) -> bool {
    url::Url::parse(url).is_ok_and(|u| fetchable(&u, public_only))
}

/// The HTTP client openidconnect calls: refuses address literals outside the public space
/// before reqwest connects.
#[derive(Debug, Clone)]
pub(crate) struct Guarded {
    pub(crate) http: reqwest::Client,
    pub(crate) public_only: bool,
}

impl<'c> AsyncHttpClient<'c> for Guarded {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        if !allowed(&request.uri().to_string(), self.public_only) {
            return Box::pin(async { Err(HttpClientError::Other("an address ScaiKey does not connect to".into())) });
        }
        self.http.call(request)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use scaikey_app::ports::cimd::ClientMetadataFetcher;

    use super::*;

    #[tokio::test]
    async fn in_production_only_public_addresses_are_reached() {
        let docs = crate::documents::HttpDocuments::new(true).unwrap();
        for url in [
            "https://127.0.0.1:9/c.json",
            "https://[::1]:9/c.json",
            "https://169.254.169.254/latest",
            "https://10.0.0.5/x",
        ] {
            let e = docs.fetch(url).await.unwrap_err();
            assert!(e.contains("not at an address"), "{url}: {e}");
        }
        // A name resolving to loopback only: refused by the resolver, before any connection.
        let e = docs.fetch("https://localhost.:9/c.json").await.unwrap_err();
        assert!(e.contains("could not be reached"), "{e}");
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        assert!(PublicResolver.resolve(name).await.is_err());
        // Outside production a loopback document server is fine to ask (it is just not there).
        let dev = crate::documents::HttpDocuments::new(false).unwrap();
        assert!(dev.fetch("http://127.0.0.1:9/c.json").await.unwrap_err().contains("could not be reached"));
        assert!(!allowed("https://10.0.0.5/x", true) && allowed("https://10.0.0.5/x", false));
    }
}

//! A verifier that finds the issuer's keys by discovery and keeps them fresh (feature `remote`).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::bearer_token;
use crate::error::VerifyError;
use crate::keys::KeySet;
use crate::token::{Policy, Verified, verify};

/// The default shortest time between two JWKS fetches, however many unknown `kid`s arrive: a
/// flood of forged tokens costs the issuer at most one request per interval.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(10);
/// The default age after which the keys are fetched again even if every `kid` is known (ScaiKey
/// serves its JWKS with `max-age=300`).
pub const DEFAULT_MAX_KEY_AGE: Duration = Duration::from_secs(300);

/// Why a [`Verifier`] cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The discovery document or the JWKS could not be fetched.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The discovery document names another issuer than the one configured (RFC 8414 §3.3).
    #[error("the discovery document names issuer {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// Configured.
        expected: String,
        /// Found.
        found: String,
    },
    /// The JWKS is unusable.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeySetError),
}

/// How a [`Verifier`] is built; see [`Verifier::builder`].
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    policy: Policy,
    min_refresh: Duration,
    max_key_age: Duration,
    introspection: Option<(String, String)>,
    http: Option<reqwest::Client>,
}

impl VerifierBuilder {
    /// Only these algorithms (default both `ES256` and `RS256`).
    #[must_use]
    pub fn algorithms(mut self, algs: &[scaikey_domain::oidc::signing_key::SigningAlg]) -> Self {
        self.policy.algorithms = algs.to_vec();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 5 s).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.policy.leeway_seconds = leeway.as_secs();
        self
    }

    /// The shortest time between JWKS fetches caused by unknown `kid`s (default 10 s).
    #[must_use]
    pub fn min_refresh_interval(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// The age after which keys are fetched again (default 300 s).
    #[must_use]
    pub fn max_key_age(mut self, d: Duration) -> Self {
        self.max_key_age = d;
        self
    }

    /// Also ask the issuer's RFC 7662 introspection endpoint about every token that passes the
    /// local checks, authenticating as this client, so a revoked token is refused at once (one
    /// round trip per request). The client must be the token's audience: its `client_id`, or an
    /// application whose `allowed_resources` name the service's resource.
    #[must_use]
    pub fn introspect_as(mut self, client_id: &str, client_secret: &str) -> Self {
        self.introspection = Some((client_id.to_string(), client_secret.to_string()));
        self
    }

    /// Uses this HTTP client (timeouts, proxies, TLS roots) instead of a default one.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Reads the issuer's discovery document, checks its `issuer`, and fetches the JWKS.
    pub async fn discover(self) -> Result<Verifier, SetupError> {
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| SetupError::Fetch { url: String::new(), reason: e.to_string() })?,
        };
        let url = format!("{}/.well-known/openid-configuration", self.policy.issuer.trim_end_matches('/'));
        let doc: serde_json::Value = get_json(&http, &url).await.map_err(|reason| SetupError::Fetch { url, reason })?;
        let found = doc.get("issuer").and_then(serde_json::Value::as_str).unwrap_or_default();
        if found != self.policy.issuer {
            return Err(SetupError::IssuerMismatch { expected: self.policy.issuer, found: found.to_string() });
        }
        let endpoint = |name: &str| doc.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
        let jwks_uri = endpoint("jwks_uri").ok_or_else(|| SetupError::Fetch {
            url: "jwks_uri".into(),
            reason: "not in the discovery document".into(),
        })?;
        let introspection = match self.introspection {
            Some((id, secret)) => Some(Introspection {
                endpoint: endpoint("introspection_endpoint").ok_or_else(|| SetupError::Fetch {
                    url: "introspection_endpoint".into(),
                    reason: "not in the discovery document".into(),
                })?,
                client_id: id,
                client_secret: secret,
            }),
            None => None,
        };
        let jwks =
            get_json(&http, &jwks_uri).await.map_err(|reason| SetupError::Fetch { url: jwks_uri.clone(), reason })?;
        let keys = KeySet::from_jwks(&jwks)?;
        Ok(Verifier {
            inner: Arc::new(Inner {
                http,
                policy: self.policy,
                jwks_uri,
                introspection,
                min_refresh: self.min_refresh,
                max_key_age: self.max_key_age,
                keys: RwLock::new(Arc::new(keys)),
                fetched_at: RwLock::new(Instant::now()),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

#[derive(Debug)]
struct Introspection {
    endpoint: String,
    client_id: String,
    client_secret: String,
}

struct Inner {
    http: reqwest::Client,
    policy: Policy,
    jwks_uri: String,
    introspection: Option<Introspection>,
    min_refresh: Duration,
    max_key_age: Duration,
    keys: RwLock<Arc<KeySet>>,
    fetched_at: RwLock<Instant>,
    refreshing: tokio::sync::Mutex<()>,
}

/// Verifies ScaiKey access tokens for one service; cheap to clone (shared state).
///
/// Keys come from the issuer's JWKS (found by discovery), are fetched again when they are older
/// than the maximum age or when a token names an unknown `kid` (at most once per minimum
/// interval), and are kept when a fetch fails. ScaiKey publishes a rotated-in key before it
/// signs and keeps rotated-out keys until their tokens expire, so a rotation never refuses a
/// valid token.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.policy.issuer)
            .field("audience", &self.inner.policy.audience)
            .field("introspection", &self.inner.introspection.is_some())
            .finish_non_exhaustive()
    }
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value, String> {
    let r = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("status {}", r.status()));
    }
    r.json().await.map_err(|e| e.to_string())
}

impl Verifier {
    /// A verifier for tokens of `issuer` (as in its discovery document) meant for `audience`
    /// (this service's resource indicator, e.g. `https://reports.example.com`).
    #[must_use]
    pub fn builder(issuer: &str, audience: &str) -> VerifierBuilder {
        VerifierBuilder {
            policy: Policy::new(issuer, audience),
            min_refresh: DEFAULT_MIN_REFRESH,
            max_key_age: DEFAULT_MAX_KEY_AGE,
            introspection: None,
            http: None,
        }
    }

    /// The policy tokens are held to.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn age(&self) -> Duration {
        self.inner.fetched_at.read().unwrap_or_else(std::sync::PoisonError::into_inner).elapsed()
    }

    /// Fetches the JWKS again unless another task just did or `min_age` has not passed since the
    /// last fetch. A failed fetch keeps the keys held.
    async fn refresh(&self, min_age: Duration) -> Result<(), VerifyError> {
        let _one = self.inner.refreshing.lock().await;
        if self.age() < min_age {
            return Ok(());
        }
        // Whatever the outcome, wait the interval before the next attempt.
        *self.inner.fetched_at.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        let jwks = get_json(&self.inner.http, &self.inner.jwks_uri).await.map_err(VerifyError::Unavailable)?;
        let keys = KeySet::from_jwks(&jwks).map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        *self.inner.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
        Ok(())
    }

    /// Verifies a token (without the `Bearer ` prefix); see [`crate::verify`]. With
    /// [`VerifierBuilder::introspect_as`], a token that passes is also introspected.
    pub async fn verify(&self, token: &str) -> Result<Verified, VerifyError> {
        if self.age() >= self.inner.max_key_age {
            // Stale keys are still good keys: a failed refresh is logged, not fatal.
            if let Err(e) = self.refresh(self.inner.max_key_age).await {
                tracing::warn!(error = %e, "JWKS refresh failed; keeping the keys held");
            }
        }
        let verified = match verify(&self.keys(), &self.inner.policy, token) {
            Err(VerifyError::UnknownKey) => {
                self.refresh(self.inner.min_refresh).await?;
                verify(&self.keys(), &self.inner.policy, token)?
            }
            other => other?,
        };
        if let Some(i) = &self.inner.introspection {
            self.introspect(i, token).await?;
        }
        Ok(verified)
    }

    /// Verifies the token of an `Authorization` header value (`Bearer <token>`; the scheme is
    /// case-insensitive). No header, or another scheme, is [`VerifyError::Missing`].
    pub async fn verify_header(&self, authorization: Option<&str>) -> Result<Verified, VerifyError> {
        self.verify(bearer_token(authorization)?).await
    }

    async fn introspect(&self, i: &Introspection, token: &str) -> Result<(), VerifyError> {
        let r = self
            .inner
            .http
            .post(&i.endpoint)
            .basic_auth(&i.client_id, Some(&i.client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        if !r.status().is_success() {
            return Err(VerifyError::Unavailable(format!("introspection answered {}", r.status())));
        }
        let body: serde_json::Value = r.json().await.map_err(|e| VerifyError::Unavailable(e.to_string()))?;
        if body.get("active").and_then(serde_json::Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(VerifyError::Revoked)
        }
    }
}

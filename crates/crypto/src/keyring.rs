//! The process's key ring: the [`JwtCodec`] over the published keys, reloaded when the keys in
//! the database change (another process or `scaikey keys rotate` rotated them) or when a
//! pre-published key's activation time passes.
//!
//! Signing and verifying read the current codec through a `RwLock<Arc<…>>`: an uncontended read
//! lock and a reference-count increment per token, no allocation.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scaikey_app::AppError;
use scaikey_app::ports::keys::{RotationRequest, SigningKeyInfo, SigningKeyRepository, SigningKeys, StoredSigningKey};
use scaikey_app::ports::{AccessToken, TokenCodec, TokenRejection};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::oidc::signing_key::{self as rule, RotationPolicy};

use crate::jwt::JwtCodec;
use crate::keys::{KeyMaterial, SigningAlg, generate};
use crate::master::MasterKey;

/// What the ring needs besides its keys.
#[derive(Debug, Clone)]
pub struct KeyringConfig {
    /// Token issuer.
    pub issuer: String,
    /// The audience of ScaiKey's own APIs.
    pub audience: String,
    /// The algorithm of access tokens.
    pub alg: SigningAlg,
    /// How rotations are carried out.
    pub policy: RotationPolicy,
}

/// The published keys' identities and which of them sign: when it is unchanged, so is the codec.
type Fingerprint = Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>, bool)>;

struct Loaded {
    fingerprint: Fingerprint,
    codec: JwtCodec,
    jwks: Arc<serde_json::Value>,
}

/// Signs and verifies with the current keys; see the module docs.
pub struct Keyring {
    repo: Arc<dyn SigningKeyRepository>,
    master: Arc<MasterKey>,
    config: KeyringConfig,
    current: RwLock<Arc<Loaded>>,
    /// One reload at a time, so a slow one never replaces a newer one.
    reloading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

/// `(kid, activates_at, retires_at, signs)` of each published key, in stored order.
fn fingerprint(keys: &[StoredSigningKey], now: DateTime<Utc>) -> Fingerprint {
    let mut signs = vec![false; keys.len()];
    for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
        let idx: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].alg == alg.as_str()).collect();
        let schedules: Vec<_> = idx.iter().map(|&i| keys[i].schedule).collect();
        if let Some(j) = rule::signer(&schedules, now) {
            signs[idx[j]] = true;
        }
    }
    keys.iter().zip(signs).map(|(k, s)| (k.kid.clone(), k.schedule.activates_at, k.schedule.retires_at, s)).collect()
}

/// The state of each stored key, as administrators see it.
fn describe(keys: &[StoredSigningKey], now: DateTime<Utc>) -> Vec<SigningKeyInfo> {
    let mut out = Vec::with_capacity(keys.len());
    for alg in rule::SigningAlg::ALL {
        let of_alg: Vec<&StoredSigningKey> = keys.iter().filter(|k| k.alg == alg.as_str()).collect();
        let schedules: Vec<_> = of_alg.iter().map(|k| k.schedule).collect();
        for (k, state) in of_alg.iter().zip(rule::states(&schedules, now)) {
            out.push(SigningKeyInfo { kid: k.kid.clone(), alg, schedule: k.schedule, state });
        }
    }
    out.sort_by(|a, b| (a.schedule.created_at, &a.kid).cmp(&(b.schedule.created_at, &b.kid)));
    out
}

impl Keyring {
    /// Loads the published keys, first making (and storing) a key for each algorithm that has
    /// none, and builds the ring. Both algorithms always have a key: access tokens use
    /// `config.alg`, ID tokens the client's choice (contract §8).
    pub async fn open(
        repo: Arc<dyn SigningKeyRepository>,
        master: Arc<MasterKey>,
        config: KeyringConfig,
    ) -> anyhow::Result<Keyring> {
        let now = Utc::now();
        let mut stored = repo.published(now).await?;
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            if stored.iter().any(|k| k.alg == alg.as_str()) {
                continue;
            }
            let fresh = tokio::task::spawn_blocking(move || generate(alg)).await??;
            repo.insert(&fresh.seal(&master)?).await?;
            tracing::info!(kid = %fresh.kid, alg = alg.as_str(), "generated a new token signing key");
            stored = repo.published(now).await?;
        }
        let loaded = build(&config, &master, &stored, now)?;
        Ok(Keyring { repo, master, config, current: RwLock::new(Arc::new(loaded)), reloading: Default::default() })
    }

    fn current(&self) -> Arc<Loaded> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Rebuilds the codec if the published keys or the signers changed; `true` if it did.
    pub async fn refresh(&self) -> anyhow::Result<bool> {
        let _one = self.reloading.lock().await;
        let now = Utc::now();
        let stored = self.repo.published(now).await?;
        if fingerprint(&stored, now) == self.current().fingerprint {
            return Ok(false);
        }
        let loaded = build(&self.config, &self.master, &stored, now)?;
        tracing::info!(signing_kid = loaded.codec.signing_kid(), keys = stored.len(), "signing keys reloaded");
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(loaded);
        Ok(true)
    }

    /// The `kid` that signs access tokens now.
    #[must_use]
    pub fn signing_kid(&self) -> String {
        self.current().codec.signing_kid().to_string()
    }

    /// The algorithms ID tokens can be signed with.
    #[must_use]
    pub fn id_token_algorithms(&self) -> Vec<&'static str> {
        self.current().codec.id_token_algorithms()
    }

    /// The `alg` of access tokens.
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        self.config.alg.as_str()
    }

    async fn rotate_keys(&self, request: &RotationRequest, audit: &AuditRecord) -> anyhow::Result<()> {
        let now = Utc::now();
        let plan = rule::plan_rotation(&self.config.policy, now, request.emergency);
        let published = self.repo.published(now).await?;
        let mut new = Vec::new();
        let mut retire = Vec::new();
        for &alg in &request.algorithms {
            let alg = SigningAlg::from(alg);
            let mut fresh = tokio::task::spawn_blocking(move || generate(alg)).await??;
            fresh.schedule = plan.new_key;
            new.push(fresh.seal(&self.master)?);
            for k in published.iter().filter(|k| k.alg == alg.as_str()) {
                let at = rule::retire(k.schedule.retires_at, plan.previous_retire_at);
                if k.schedule.retires_at != Some(at) {
                    retire.push((k.kid.clone(), at));
                }
            }
        }
        self.repo.rotate(&new, &retire, now, audit).await?;
        for k in &new {
            tracing::info!(kid = %k.kid, alg = %k.alg, activates_at = %k.schedule.activates_at, "signing key rotated");
        }
        self.refresh().await?;
        Ok(())
    }
}

fn build(
    config: &KeyringConfig,
    master: &MasterKey,
    stored: &[StoredSigningKey],
    now: DateTime<Utc>,
) -> anyhow::Result<Loaded> {
    let keys: Vec<KeyMaterial> = stored.iter().map(|k| KeyMaterial::open(k, master)).collect::<anyhow::Result<_>>()?;
    let codec = JwtCodec::new(&config.issuer, &config.audience, &keys, config.alg, now)?;
    Ok(Loaded { fingerprint: fingerprint(stored, now), jwks: Arc::new(codec.jwks().clone()), codec })
}

impl TokenCodec for Keyring {
    fn sign(&self, token: &AccessToken) -> anyhow::Result<String> {
        self.current().codec.sign(token)
    }

    fn verify(&self, jwt: &str) -> Result<AccessToken, TokenRejection> {
        self.current().codec.verify(jwt)
    }

    fn verify_any_audience(&self, jwt: &str) -> Result<AccessToken, TokenRejection> {
        self.current().codec.verify_any_audience(jwt)
    }

    fn id_token_hint(&self, jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.current().codec.id_token_hint(jwt)
    }

    fn sign_id_token(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        alg: scaikey_domain::application::IdTokenAlg,
    ) -> anyhow::Result<String> {
        self.current().codec.sign_id_token(claims, alg)
    }
}

fn internal(e: anyhow::Error) -> AppError {
    match e.downcast::<scaikey_app::RepoError>() {
        Ok(r) => AppError::from(r),
        Err(e) => AppError::Internal(e),
    }
}

#[async_trait]
impl SigningKeys for Keyring {
    fn jwks(&self) -> Arc<serde_json::Value> {
        self.current().jwks.clone()
    }

    async fn list(&self) -> Result<Vec<SigningKeyInfo>, AppError> {
        let now = Utc::now();
        Ok(describe(&self.repo.published(now).await?, now))
    }

    async fn rotate(&self, request: &RotationRequest, audit: &AuditRecord) -> Result<Vec<SigningKeyInfo>, AppError> {
        self.rotate_keys(request, audit).await.map_err(internal)?;
        self.list().await
    }
}

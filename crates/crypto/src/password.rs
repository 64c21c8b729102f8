//! Argon2id password hashing at the OWASP parameters (m = 19 MiB, t = 2, p = 1), run on
//! tokio's blocking pool behind a semaphore of one permit per core, so hashing never occupies
//! the async workers and never runs more hashes at once than there are cores.

use std::sync::Arc;

pub use argon2::Params;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Version};
use async_trait::async_trait;
use rand::RngCore;
use scaikey_app::ports::PasswordHasher;
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
pub const OWASP_M_COST_KIB: u32 = 19_456;
/// Iterations.
pub const OWASP_T_COST: u32 = 2;
/// Lanes.
pub const OWASP_P_COST: u32 = 1;

/// Argon2id hasher; clone freely (the semaphore is shared).
#[derive(Clone, Debug)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    params: Params,
}

impl Argon2Hasher {
    /// A hasher allowing `concurrency` hashes at once, at the OWASP parameters.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(OWASP_M_COST_KIB, OWASP_T_COST, OWASP_P_COST, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        Ok(Self { permits: Arc::new(Semaphore::new(concurrency.max(1))), params })
    }

    fn argon(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes synchronously (benchmarks and tests).
    pub fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Ok(Self::argon(params.clone())
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hash: {e}"))?
            .to_string())
    }

    /// The parameters in use.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(f).await?)
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        self.run(move || Self::hash_blocking(&params, &password)).await?
    }

    async fn verify(&self, password: String, phc: String) -> anyhow::Result<bool> {
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else { return false };
            // Verification uses the parameters recorded in the hash itself.
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_carry_owasp_parameters() {
        let h = Argon2Hasher::new(2).unwrap();
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!h.verify("wrong".into(), phc).await.unwrap());
        assert!(!h.verify("x".into(), "not a phc".into()).await.unwrap());
    }
}

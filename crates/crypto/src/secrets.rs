//! Client secrets: 256 random bits from the OS, shown once as base64url; stored as
//! HMAC-SHA-256 under a key derived from the master key, compared in constant time. A fast keyed
//! hash is enough because the secrets are random, not chosen by people (contract §3).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use scaikey_app::ports::ClientSecrets;

use crate::master::MasterKey;

/// HMAC-SHA-256 client secrets.
pub struct HmacClientSecrets {
    key: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for HmacClientSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacClientSecrets(..)")
    }
}

impl HmacClientSecrets {
    /// Keys the HMAC with the master key's `client-secret` subkey.
    #[must_use]
    pub fn new(master: &MasterKey) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &master.derive("scaikey/client-secret/v1")),
            rng: SystemRandom::new(),
        }
    }
}

impl ClientSecrets for HmacClientSecrets {
    fn generate(&self) -> anyhow::Result<(String, Vec<u8>)> {
        let mut raw = [0u8; 32];
        self.rng.fill(&mut raw).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        let secret = URL_SAFE_NO_PAD.encode(raw);
        let digest = hmac::sign(&self.key, secret.as_bytes()).as_ref().to_vec();
        Ok((secret, digest))
    }

    fn verify(&self, secret: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.key, secret.as_bytes(), stored).is_ok()
    }

    fn digest(&self, secret: &str) -> Vec<u8> {
        hmac::sign(&self.key, secret.as_bytes()).as_ref().to_vec()
    }

    fn random_bytes(&self, n: usize) -> anyhow::Result<Vec<u8>> {
        let mut out = vec![0u8; n];
        self.rng.fill(&mut out).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_under_their_key() {
        let m = MasterKey::from_base64(&MasterKey::generate_base64().unwrap()).unwrap();
        let s = HmacClientSecrets::new(&m);
        let (secret, digest) = s.generate().unwrap();
        assert_eq!(secret.len(), 43, "256 bits in base64url");
        assert!(s.verify(&secret, &digest));
        assert!(!s.verify("guess", &digest));
        assert!(!s.verify(&secret, &digest[..31]));
        let other = HmacClientSecrets::new(&MasterKey::from_base64(&MasterKey::generate_base64().unwrap()).unwrap());
        assert!(!other.verify(&secret, &digest));
        assert_ne!(s.generate().unwrap().0, secret);
    }
}

//! The master key: AES-256-GCM encryption of secrets stored in the database (private signing
//! keys, later identity-provider secrets). A blob is `1 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`;
//! the associated data binds it to its row (e.g. the key ID), so blobs cannot be swapped.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

const VERSION: u8 = 1;

/// A 256-bit key that encrypts secrets at rest.
pub struct MasterKey {
    key: LessSafeKey,
    raw: [u8; 32],
    rng: SystemRandom,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// From 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<MasterKey> {
        if bytes.len() != 32 {
            bail!("the master key must be 32 bytes (base64 of 32 random bytes), got {}", bytes.len());
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("invalid master key"))?;
        let mut raw = [0u8; 32];
        raw.copy_from_slice(bytes);
        Ok(MasterKey { key: LessSafeKey::new(key), raw, rng: SystemRandom::new() })
    }

    /// From the base64 text of `SCAIKEY_MASTER_KEY`.
    pub fn from_base64(text: &str) -> anyhow::Result<MasterKey> {
        let bytes = STANDARD.decode(text.trim()).context("the master key is not valid base64")?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key, as base64 text (for `development` and the testkit).
    pub fn generate_base64() -> anyhow::Result<String> {
        let mut k = [0u8; 32];
        SystemRandom::new().fill(&mut k).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        Ok(STANDARD.encode(k))
    }

    /// A 256-bit subkey for `purpose` (HMAC-SHA-256 of the purpose under the master key), so
    /// each use of the master key gets its own independent key.
    #[must_use]
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.raw), purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts `plain`, bound to `aad`.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts a blob made by [`MasterKey::seal`] with the same `aad`. Fails on a wrong key,
    /// wrong `aad` or any tampering.
    pub fn open(&self, blob: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != VERSION {
            bail!("not a sealed secret");
        }
        let nonce: [u8; NONCE_LEN] = blob[1..1 + NONCE_LEN].try_into()?;
        let mut buf = blob[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong master key or tampered data"))?;
        Ok(plain.to_vec())
    }
}

impl scaikey_app::ports::SecretSealer for MasterKey {
    fn seal(&self, plain: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        MasterKey::seal(self, plain, aad)
    }

    fn open(&self, blob: &[u8], aad: &[u8]) -> anyhow::Result<Vec<u8>> {
        MasterKey::open(self, blob, aad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = MasterKey::from_base64(&MasterKey::generate_base64().unwrap()).unwrap();
        let blob = k.seal(b"secret", b"kid-1").unwrap();
        assert!(!blob.windows(6).any(|w| w == b"secret"));
        assert_eq!(k.open(&blob, b"kid-1").unwrap(), b"secret");
        assert!(k.open(&blob, b"kid-2").is_err());
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(k.open(&bad, b"kid-1").is_err());
        let other = MasterKey::from_base64(&MasterKey::generate_base64().unwrap()).unwrap();
        assert!(other.open(&blob, b"kid-1").is_err());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }
}

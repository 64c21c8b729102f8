//! Signing keys: generated (on first start and by rotation) and stored encrypted under the
//! master key. [`crate::keyring::Keyring`] loads them in every process; the domain's
//! `signing_key` rules decide which one signs.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use scaikey_app::ports::keys::StoredSigningKey;
use scaikey_domain::oidc::signing_key::KeySchedule;
use serde_json::json;

use crate::master::MasterKey;

/// Token signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256 (default: fast to sign, small tokens).
    Es256,
    /// RSA PKCS#1 v1.5 with SHA-256, 2048-bit keys, for clients that only do RSA.
    Rs256,
}

impl SigningAlg {
    /// The other supported algorithm.
    #[must_use]
    pub const fn other(self) -> SigningAlg {
        match self {
            SigningAlg::Es256 => SigningAlg::Rs256,
            SigningAlg::Rs256 => SigningAlg::Es256,
        }
    }

    /// JOSE name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Es256 => "ES256",
            SigningAlg::Rs256 => "RS256",
        }
    }

    /// Parses a JOSE name.
    pub fn parse(s: &str) -> anyhow::Result<SigningAlg> {
        match s {
            "ES256" => Ok(SigningAlg::Es256),
            "RS256" => Ok(SigningAlg::Rs256),
            other => bail!("unsupported signing algorithm {other:?}; use ES256 or RS256"),
        }
    }
}

impl From<scaikey_domain::oidc::signing_key::SigningAlg> for SigningAlg {
    fn from(a: scaikey_domain::oidc::signing_key::SigningAlg) -> Self {
        match a {
            scaikey_domain::oidc::signing_key::SigningAlg::Es256 => SigningAlg::Es256,
            scaikey_domain::oidc::signing_key::SigningAlg::Rs256 => SigningAlg::Rs256,
        }
    }
}

/// A decrypted key pair: the private key as DER (PKCS#8 for EC, PKCS#1 for RSA) and the
/// public JWK.
#[derive(Clone)]
pub struct KeyMaterial {
    /// Key ID.
    pub kid: String,
    /// Algorithm.
    pub alg: SigningAlg,
    /// Private key DER.
    pub private_der: Vec<u8>,
    /// Public JWK (with `kid`, `alg`, `use`).
    pub public_jwk: serde_json::Value,
    /// When it signs and retires.
    pub schedule: KeySchedule,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// Generates a new key pair that signs from now on; callers reschedule it.
pub fn generate(alg: SigningAlg) -> anyhow::Result<KeyMaterial> {
    let schedule = KeySchedule::immediate(chrono::Utc::now());
    let kid = ulid::Ulid::new().to_string();
    match alg {
        SigningAlg::Es256 => {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| anyhow::anyhow!("EC key generation failed"))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                .map_err(|_| anyhow::anyhow!("EC key parse failed"))?;
            let point = pair.public_key().as_ref();
            // Uncompressed SEC1 point: 0x04 ‖ x(32) ‖ y(32).
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            });
            Ok(KeyMaterial { kid, alg, private_der: pkcs8.as_ref().to_vec(), public_jwk: jwk, schedule })
        }
        SigningAlg::Rs256 => {
            let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).context("RSA key generation")?;
            let der = key.to_pkcs1_der().context("RSA key encoding")?;
            let jwk = json!({
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            });
            Ok(KeyMaterial { kid, alg, private_der: der.as_bytes().to_vec(), public_jwk: jwk, schedule })
        }
    }
}

impl KeyMaterial {
    /// The stored form: the private key sealed under `master` (bound to the `kid`).
    pub fn seal(&self, master: &MasterKey) -> anyhow::Result<StoredSigningKey> {
        Ok(StoredSigningKey {
            kid: self.kid.clone(),
            alg: self.alg.as_str().to_string(),
            public_jwk: self.public_jwk.clone(),
            private_key_enc: master.seal(&self.private_der, self.kid.as_bytes())?,
            schedule: self.schedule,
        })
    }

    /// Opens a stored key.
    pub fn open(stored: &StoredSigningKey, master: &MasterKey) -> anyhow::Result<KeyMaterial> {
        let der = master.open(&stored.private_key_enc, stored.kid.as_bytes()).with_context(|| {
            format!(
                "signing key {} cannot be decrypted: is SCAIKEY_MASTER_KEY the key it was stored under?",
                stored.kid
            )
        })?;
        Ok(KeyMaterial {
            kid: stored.kid.clone(),
            alg: SigningAlg::parse(&stored.alg)?,
            private_der: der,
            public_jwk: stored.public_jwk.clone(),
            schedule: stored.schedule,
        })
    }
}

//! The issuer's public keys, from its JWK Set.

use std::collections::HashMap;

use jsonwebtoken::DecodingKey;
use scaikey_domain::oidc::signing_key::SigningAlg;

/// A public key by `kid`, with the one algorithm it may verify.
pub(crate) struct PublicKey {
    pub(crate) alg: SigningAlg,
    pub(crate) key: DecodingKey,
}

/// The verification keys of one issuer, by `kid`.
///
/// Built from a JWK Set document. Only signature keys (`use` absent or `sig`) of the kinds
/// ScaiKey signs with are kept: EC P-256 for `ES256`, RSA for `RS256`; anything else in the set
/// (encryption keys, other curves) is skipped, so an issuer may publish more than this crate uses.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

/// A JWK Set that cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JWK Set: {0}")]
pub struct KeySetError(pub String);

fn text<'a>(jwk: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(serde_json::Value::as_str)
}

impl KeySet {
    /// Reads a JWK Set (`{"keys": [...]}`). Keys without a `kid` or of unsupported kinds are
    /// skipped; a key whose declared `alg` does not fit its kind, or whose numbers do not parse,
    /// is an error (the document is broken, not merely richer than this crate).
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<KeySet, KeySetError> {
        let list = jwks
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| KeySetError("no \"keys\" array".into()))?;
        let mut keys = HashMap::new();
        for jwk in list {
            let (Some(kid), Some(kty)) = (text(jwk, "kid"), text(jwk, "kty")) else { continue };
            if text(jwk, "use").is_some_and(|u| u != "sig") {
                continue;
            }
            let declared = text(jwk, "alg");
            let parsed = match (kty, text(jwk, "crv")) {
                ("EC", Some("P-256")) => {
                    let (Some(x), Some(y)) = (text(jwk, "x"), text(jwk, "y")) else {
                        return Err(KeySetError(format!("EC key {kid} lacks x or y")));
                    };
                    DecodingKey::from_ec_components(x, y).map(|k| (SigningAlg::Es256, k))
                }
                ("RSA", _) => {
                    let (Some(n), Some(e)) = (text(jwk, "n"), text(jwk, "e")) else {
                        return Err(KeySetError(format!("RSA key {kid} lacks n or e")));
                    };
                    DecodingKey::from_rsa_components(n, e).map(|k| (SigningAlg::Rs256, k))
                }
                _ => continue,
            };
            let (alg, key) = parsed.map_err(|e| KeySetError(format!("key {kid}: {e}")))?;
            if declared.is_some_and(|d| d != alg.as_str()) {
                return Err(KeySetError(format!("key {kid} declares alg {declared:?} but is a {kty} key")));
            }
            keys.insert(kid.to_string(), PublicKey { alg, key });
        }
        Ok(KeySet { keys })
    }

    /// The key of `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    /// `true` if `kid` is in the set.
    #[must_use]
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// How many keys the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// `true` when the set holds no usable key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const X: &str = "nTPyP836ULnDUaBvkwaOtXztDFkz75_4QtNqWs68-9E";
    const Y: &str = "hYKF3CUce6_unSWQooqLv3xeecvwrblSYX24sMV02tM";

    #[test]
    fn keeps_signature_keys_it_can_use_and_refuses_broken_ones() {
        let set = KeySet::from_jwks(&json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "a", "alg": "ES256", "use": "sig", "x": X, "y": Y},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc", "x": X, "y": Y},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": X},
            {"kty": "EC", "crv": "P-256", "x": X, "y": Y},
        ]}))
        .unwrap();
        assert_eq!((set.len(), set.contains("a"), set.contains("enc"), set.contains("ed")), (1, true, false, false));
        assert!(KeySet::from_jwks(&json!({"nope": []})).is_err());
        let lying = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "a", "alg": "RS256", "x": X, "y": Y}]});
        assert!(KeySet::from_jwks(&lying).unwrap_err().0.contains("declares"));
        assert!(KeySet::from_jwks(&json!({"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB"}]})).is_err());
    }
}

//! Access tokens as RFC 9068 JWTs (`typ: at+jwt`; contract §2 and §7 claims), and the JWKS
//! document.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use scaikey_app::ports::{AccessToken, TokenCodec, TokenRejection};
use scaikey_domain::delegation::Actor;
use scaikey_domain::principal::Principal;
use scaikey_verifier::{KeySet, Policy, VerifyError};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyMaterial, SigningAlg};

/// The JOSE `typ` of access tokens (RFC 9068 §2.1).
const ACCESS_TOKEN_TYP: &str = "at+jwt";

#[derive(Debug, Serialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
    scope: String,
    tenant_id: Option<String>,
    partner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    act: Option<ActClaim>,
}

/// RFC 8693 `act`: who acts for the subject, nested for chains.
#[derive(Debug, Serialize, Deserialize)]
struct ActClaim {
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    act: Option<Box<ActClaim>>,
}

impl ActClaim {
    fn of(a: &Actor) -> ActClaim {
        ActClaim {
            sub: a.sub.clone(),
            client_id: a.client_id.clone(),
            act: a.act.as_deref().map(|x| Box::new(ActClaim::of(x))),
        }
    }
}

/// The domain's actor of a verified token's `act`.
fn actor(a: &scaikey_verifier::Actor) -> Actor {
    Actor { sub: a.sub.clone(), client_id: a.client_id.clone(), act: a.act.as_deref().map(|x| Box::new(actor(x))) }
}

struct Verifier {
    key: DecodingKey,
    alg: Algorithm,
}

/// How tokens are signed. ES256 uses a `ring` key pair parsed once: jsonwebtoken 9 re-parses
/// the PKCS#8 key on every `encode`, which halves the sign rate on the token endpoint's hot path.
enum Signer {
    /// ES256 with a cached key pair and the pre-encoded JOSE header.
    Es256 { pair: Box<EcdsaKeyPair>, rng: SystemRandom, header_b64: String },
    /// RS256 through jsonwebtoken.
    Rs256(EncodingKey),
}

/// One algorithm's signing key.
struct SigningKey {
    kid: String,
    alg: Algorithm,
    signer: Signer,
}

/// Signs access tokens with the active key of the configured algorithm and ID tokens with the
/// active key of the client's (`ES256` or `RS256`); verifies with every active key (by `kid`).
pub struct JwtCodec {
    issuer: String,
    /// The `aud` that [`TokenCodec::verify`] accepts (ScaiKey's own APIs).
    audience: String,
    kid: String,
    alg: Algorithm,
    signing: Signer,
    /// The first active key of each algorithm, for ID tokens.
    id_signing: Vec<SigningKey>,
    /// For ID token hints.
    verifiers: HashMap<String, Verifier>,
    jwks: serde_json::Value,
    keyset: KeySet,
    policy: Policy,
    any_audience: Policy,
    /// Access tokens this codec verified, by the SHA-256 of the whole token: one map for
    /// [`TokenCodec::verify`] and one for [`TokenCodec::verify_any_audience`]. A hit skips the
    /// signature check (the bytes are exactly the ones verified) but never the expiry; a codec
    /// is rebuilt whenever the key set changes, so a withdrawn key's tokens leave with it.
    verified: [std::sync::Mutex<HashMap<[u8; 32], AccessToken>>; 2],
}

/// Most verified tokens each map keeps; past it the map starts again (bounded memory, and
/// tokens in use are verified again once).
const VERIFIED_CAPACITY: usize = 4_096;

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtCodec").field("issuer", &self.issuer).field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn jose(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::Es256 => Algorithm::ES256,
        SigningAlg::Rs256 => Algorithm::RS256,
    }
}

fn decoding_key(k: &KeyMaterial) -> anyhow::Result<DecodingKey> {
    let s = |name: &str| -> anyhow::Result<String> {
        k.public_jwk
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("key {} lacks {name}", k.kid))
    };
    Ok(match k.alg {
        SigningAlg::Es256 => DecodingKey::from_ec_components(&s("x")?, &s("y")?)?,
        SigningAlg::Rs256 => DecodingKey::from_rsa_components(&s("n")?, &s("e")?)?,
    })
}

impl JwtCodec {
    /// Builds the codec. `keys` are all published keys; the one of each algorithm that the
    /// domain's `signing_key::signer` picks at `now` signs (access tokens with `alg`'s, ID tokens
    /// with the client's). Tokens carry `iss = issuer` and the `aud` of each [`AccessToken`];
    /// only tokens with `aud = audience` verify.
    pub fn new(
        issuer: &str,
        audience: &str,
        keys: &[KeyMaterial],
        alg: SigningAlg,
        now: DateTime<Utc>,
    ) -> anyhow::Result<JwtCodec> {
        let signer_of = |a: SigningAlg| {
            let of_alg: Vec<&KeyMaterial> = keys.iter().filter(|k| k.alg == a).collect();
            let schedules: Vec<_> = of_alg.iter().map(|k| k.schedule).collect();
            scaikey_domain::oidc::signing_key::signer(&schedules, now).map(|i| of_alg[i])
        };
        let active = signer_of(alg).ok_or_else(|| anyhow::anyhow!("no {} key", alg.as_str()))?;
        let signing = signer(active, ACCESS_TOKEN_TYP)?;
        let mut id_signing = Vec::new();
        for a in [SigningAlg::Es256, SigningAlg::Rs256] {
            if let Some(k) = signer_of(a) {
                id_signing.push(SigningKey { kid: k.kid.clone(), alg: jose(a), signer: signer(k, "JWT")? });
            }
        }
        let mut verifiers = HashMap::new();
        for k in keys {
            verifiers.insert(k.kid.clone(), Verifier { key: decoding_key(k)?, alg: jose(k.alg) });
        }
        let jwks = serde_json::json!({ "keys": keys.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() });
        // Access tokens verify through the JWKS itself, exactly as a resource server sees it.
        let keyset = KeySet::from_jwks(&jwks)?;
        let policy = Policy::new(issuer, audience);
        let any_audience = Policy { audience: None, ..policy.clone() };
        Ok(JwtCodec {
            keyset,
            policy,
            any_audience,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            kid: active.kid.clone(),
            alg: jose(alg),
            signing,
            id_signing,
            verifiers,
            jwks,
            verified: Default::default(),
        })
    }

    /// The JWKS document (`/.well-known/jwks.json`).
    #[must_use]
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// The `kid` that signs access tokens.
    #[must_use]
    pub fn signing_kid(&self) -> &str {
        &self.kid
    }

    /// The `alg` of issued tokens.
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        match self.alg {
            Algorithm::RS256 => "RS256",
            _ => "ES256",
        }
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The algorithms ID tokens can be signed with (those with an active key).
    #[must_use]
    pub fn id_token_algorithms(&self) -> Vec<&'static str> {
        self.id_signing.iter().map(|k| if k.alg == Algorithm::RS256 { "RS256" } else { "ES256" }).collect()
    }
}

/// A signer for `key` whose ES256 header carries `typ`.
fn signer(key: &KeyMaterial, typ: &str) -> anyhow::Result<Signer> {
    Ok(match key.alg {
        SigningAlg::Es256 => {
            let rng = SystemRandom::new();
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.private_der, &rng)
                .map_err(|_| anyhow::anyhow!("signing key {} is not a P-256 PKCS#8 key", key.kid))?;
            let header = serde_json::json!({"typ": typ, "alg": "ES256", "kid": key.kid});
            Signer::Es256 {
                pair: Box::new(pair),
                rng,
                header_b64: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            }
        }
        SigningAlg::Rs256 => Signer::Rs256(EncodingKey::from_rsa_der(&key.private_der)),
    })
}

/// Signs `payload` as a compact JWS: ES256 with its cached header, RS256 through jsonwebtoken.
fn sign_with(signer: &Signer, kid: &str, typ: &str, payload: &impl Serialize) -> anyhow::Result<String> {
    match signer {
        Signer::Es256 { pair, rng, header_b64 } => {
            let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload)?);
            let mut jwt = String::with_capacity(header_b64.len() + payload.len() + 88);
            jwt.push_str(header_b64);
            jwt.push('.');
            jwt.push_str(&payload);
            // Fixed-size (r ‖ s) signature, as JWS ES256 requires.
            let sig = pair.sign(rng, jwt.as_bytes()).map_err(|_| anyhow::anyhow!("ES256 signing failed"))?;
            let mut sig = sig.as_ref().to_vec();
            scaikey_verifier::es256::normalize(&mut sig);
            jwt.push('.');
            jwt.push_str(&URL_SAFE_NO_PAD.encode(&sig));
            Ok(jwt)
        }
        Signer::Rs256(key) => {
            let mut header = Header::new(Algorithm::RS256);
            header.typ = Some(typ.into());
            header.kid = Some(kid.to_string());
            Ok(encode(&header, payload, key)?)
        }
    }
}

impl TokenCodec for JwtCodec {
    fn sign(&self, t: &AccessToken) -> anyhow::Result<String> {
        let mut c = Claims {
            iss: self.issuer.clone(),
            sub: String::new(),
            aud: t.audience.clone(),
            exp: t.expires_at.timestamp(),
            iat: t.issued_at.timestamp(),
            jti: t.jti.to_string(),
            scope: t.scope.join(" "),
            tenant_id: None,
            partner_id: None,
            sid: None,
            roles: None,
            client_id: None,
            app_id: None,
            scope_level: None,
            agent_id: None,
            act: t.act.as_ref().map(ActClaim::of),
        };
        match &t.principal {
            Principal::User(u) => {
                c.sub = u.user_id.to_string();
                c.sid = Some(u.session_id.to_string());
                c.tenant_id = u.tenant_id.map(|x| x.to_string());
                c.partner_id = u.partner_id.map(|x| x.to_string());
                c.roles = Some(u.roles.iter().map(|r| r.as_str().to_string()).collect());
                c.client_id.clone_from(&t.client_id);
            }
            Principal::Client(cl) => {
                c.sub = cl.client_id.clone();
                c.client_id = Some(cl.client_id.clone());
                c.app_id = Some(cl.app_id.to_string());
                c.scope_level = Some(cl.scope_level.as_str().to_string());
                c.tenant_id = cl.tenant_id.map(|x| x.to_string());
                c.partner_id = cl.partner_id.map(|x| x.to_string());
            }
            Principal::Agent(a) => {
                c.sub = a.client_id.clone();
                c.client_id = Some(a.client_id.clone());
                c.agent_id = Some(a.agent_id.to_string());
                c.tenant_id = Some(a.tenant_id.to_string());
                c.partner_id = a.partner_id.map(|x| x.to_string());
            }
        }
        sign_with(&self.signing, &self.kid, ACCESS_TOKEN_TYP, &c)
    }

    fn sign_id_token(
        &self,
        claims: &serde_json::Map<String, serde_json::Value>,
        alg: scaikey_domain::application::IdTokenAlg,
    ) -> anyhow::Result<String> {
        let want = match alg {
            scaikey_domain::application::IdTokenAlg::Es256 => Algorithm::ES256,
            scaikey_domain::application::IdTokenAlg::Rs256 => Algorithm::RS256,
        };
        let key = self
            .id_signing
            .iter()
            .find(|k| k.alg == want)
            .ok_or_else(|| anyhow::anyhow!("no active {} key for ID tokens", alg.as_str()))?;
        let mut claims = claims.clone();
        claims.insert("iss".into(), serde_json::Value::String(self.issuer.clone()));
        sign_with(&key.signer, &key.kid, "JWT", &claims)
    }

    fn verify(&self, jwt: &str) -> Result<AccessToken, TokenRejection> {
        self.verify_access(jwt, Some(&self.audience))
    }

    fn verify_any_audience(&self, jwt: &str) -> Result<AccessToken, TokenRejection> {
        self.verify_access(jwt, None)
    }

    fn id_token_hint(&self, jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let header = decode_header(jwt).ok()?;
        let v = self.verifiers.get(header.kid.as_deref()?)?;
        if header.alg != v.alg || header.typ.as_deref() == Some(ACCESS_TOKEN_TYP) {
            return None;
        }
        let mut validation = Validation::new(v.alg);
        // A hint may have expired (OIDC RP-Initiated Logout §2); signature and issuer must hold.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["iss", "aud", "sub"]);
        decode::<serde_json::Map<String, serde_json::Value>>(jwt, &v.key, &validation).ok().map(|d| d.claims)
    }
}

impl JwtCodec {
    /// Verifies an access token through `scaikey-verifier` (the one verification path every
    /// service uses); with `audience`, its `aud` must be that one.
    fn verify_access(&self, jwt: &str, audience: Option<&str>) -> Result<AccessToken, TokenRejection> {
        let digest = ring::digest::digest(&ring::digest::SHA256, jwt.as_bytes());
        let key: [u8; 32] = digest.as_ref().try_into().map_err(|_| TokenRejection::Invalid)?;
        let cache = &self.verified[usize::from(audience.is_none())];
        let leeway = i64::try_from(self.policy.leeway_seconds).unwrap_or(0);
        let hit = cache.lock().ok().and_then(|c| c.get(&key).cloned());
        if let Some(t) = hit.filter(|t| Utc::now().timestamp() <= t.expires_at.timestamp() + leeway) {
            return Ok(t);
        }
        let t = self.verify_uncached(jwt, audience)?;
        if let Ok(mut c) = cache.lock() {
            if c.len() >= VERIFIED_CAPACITY {
                c.clear();
            }
            c.insert(key, t.clone());
        }
        Ok(t)
    }

    fn verify_uncached(&self, jwt: &str, audience: Option<&str>) -> Result<AccessToken, TokenRejection> {
        let policy = if audience.is_some() { &self.policy } else { &self.any_audience };
        let v = scaikey_verifier::verify(&self.keyset, policy, jwt).map_err(|e| match e {
            VerifyError::Expired => TokenRejection::Expired,
            VerifyError::WrongIssuer => TokenRejection::WrongIssuer,
            VerifyError::WrongAudience => TokenRejection::WrongAudience,
            _ => TokenRejection::Invalid,
        })?;
        let user_client = if matches!(v.principal, Principal::User(_)) { v.client_id } else { None };
        Ok(AccessToken {
            principal: v.principal,
            scope: v.scopes,
            audience: v.audience,
            client_id: user_client,
            jti: v.jti.parse().map_err(|_| TokenRejection::Invalid)?,
            issued_at: v.issued_at,
            expires_at: v.expires_at,
            act: v.act.as_ref().map(actor),
        })
    }
}

/// Base64url without padding, for callers building JWKs.
#[must_use]
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate;
    use chrono::Duration;
    use scaikey_domain::id::{SessionId, UserId};
    use scaikey_domain::principal::UserPrincipal;
    use scaikey_domain::role::Role;
    use scaikey_domain::role::Roles;
    use ulid::Ulid;

    fn token(exp_in: Duration) -> AccessToken {
        let now = Utc::now();
        AccessToken {
            principal: Principal::User(UserPrincipal {
                user_id: UserId::generate_from(Ulid::new()),
                session_id: SessionId::generate_from(Ulid::new()),
                tenant_id: None,
                partner_id: None,
                roles: Roles::from_iter([Role::SuperAdmin]),
            }),
            scope: vec!["openid".into()],
            audience: "scaikey".into(),
            client_id: None,
            jti: Ulid::new(),
            issued_at: now,
            expires_at: now + exp_in,
            act: None,
        }
    }

    #[test]
    fn verified_tokens_are_remembered_until_they_expire_and_never_for_other_bytes() {
        let k = generate(SigningAlg::Es256).unwrap();
        let codec =
            JwtCodec::new("http://iss", "scaikey", std::slice::from_ref(&k), SigningAlg::Es256, Utc::now()).unwrap();
        let jwt = codec.sign(&token(Duration::minutes(5))).unwrap();
        let first = codec.verify(&jwt).unwrap();
        assert_eq!(codec.verify(&jwt).unwrap(), first, "the remembered answer is the verified one");
        assert_eq!(codec.verified[0].lock().unwrap().len(), 1);
        // One byte of the signature changed is another token, checked in full.
        let mut forged = jwt.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(codec.verify(&forged).is_err());
        // The audience policy is not shared: an any-audience check is verified on its own.
        assert!(codec.verify_any_audience(&jwt).is_ok());
        assert_eq!(codec.verified[1].lock().unwrap().len(), 1);
        // An expired token is refused, and never remembered.
        let short = codec.sign(&token(Duration::seconds(-120))).unwrap();
        assert_eq!(codec.verify(&short), Err(TokenRejection::Expired));
        assert_eq!(codec.verified[0].lock().unwrap().len(), 1, "a refused token is not remembered");
    }

    #[test]
    fn round_trip_both_algorithms_and_rejections() {
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            let k = generate(alg).unwrap();
            let codec = JwtCodec::new("http://iss", "scaikey", std::slice::from_ref(&k), alg, Utc::now()).unwrap();
            let t = token(Duration::minutes(5));
            let jwt = codec.sign(&t).unwrap();
            let back = codec.verify(&jwt).unwrap();
            assert_eq!(back.principal, t.principal);
            assert_eq!(back.expires_at.timestamp(), t.expires_at.timestamp());

            // Expired, other issuer, other key, tampered.
            assert_eq!(codec.verify(&codec.sign(&token(Duration::minutes(-5))).unwrap()), Err(TokenRejection::Expired));
            let other_iss = JwtCodec::new("http://evil", "scaikey", std::slice::from_ref(&k), alg, Utc::now()).unwrap();
            assert_eq!(codec.verify(&other_iss.sign(&t).unwrap()), Err(TokenRejection::WrongIssuer));
            let stranger = JwtCodec::new("http://iss", "scaikey", &[generate(alg).unwrap()], alg, Utc::now()).unwrap();
            assert_eq!(codec.verify(&stranger.sign(&t).unwrap()), Err(TokenRejection::Invalid));
            let mut bad = jwt.clone();
            bad.pop();
            bad.push(if jwt.ends_with('A') { 'B' } else { 'A' });
            assert_eq!(codec.verify(&bad), Err(TokenRejection::Invalid));
            assert_eq!(codec.verify("not.a.jwt"), Err(TokenRejection::Invalid));
        }
    }

    #[test]
    fn id_tokens_use_the_requested_algorithm_and_are_not_access_tokens() {
        use scaikey_domain::application::IdTokenAlg;
        let es = generate(SigningAlg::Es256).unwrap();
        let rs = generate(SigningAlg::Rs256).unwrap();
        let codec =
            JwtCodec::new("http://iss", "scaikey", &[es.clone(), rs.clone()], SigningAlg::Es256, Utc::now()).unwrap();
        assert_eq!(codec.id_token_algorithms(), ["ES256", "RS256"]);
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), "usr_1".into());
        claims.insert("aud".into(), "ck_1".into());
        for (alg, kid) in [(IdTokenAlg::Es256, &es.kid), (IdTokenAlg::Rs256, &rs.kid)] {
            let t = codec.sign_id_token(&claims, alg).unwrap();
            let h = decode_header(&t).unwrap();
            assert_eq!((h.kid.as_deref(), h.typ.as_deref()), (Some(kid.as_str()), Some("JWT")));
            assert_eq!(format!("{:?}", h.alg), alg.as_str());
            // An ID token never passes as an access token, but is a valid id_token_hint.
            assert_eq!(codec.verify(&t), Err(TokenRejection::Invalid));
            assert_eq!(codec.id_token_hint(&t).and_then(|c| c.get("aud").cloned()), Some("ck_1".into()));
        }
        // Access tokens are not hints, and a codec without an RSA key refuses RS256 ID tokens.
        assert!(codec.id_token_hint(&codec.sign(&token(Duration::minutes(1))).unwrap()).is_none());
        let es_only =
            JwtCodec::new("http://iss", "scaikey", std::slice::from_ref(&es), SigningAlg::Es256, Utc::now()).unwrap();
        assert!(es_only.sign_id_token(&claims, IdTokenAlg::Rs256).is_err());
    }

    #[test]
    fn es256_signatures_are_low_s_and_their_high_s_twins_are_refused() {
        let k = generate(SigningAlg::Es256).unwrap();
        let codec =
            JwtCodec::new("http://iss", "scaikey", std::slice::from_ref(&k), SigningAlg::Es256, Utc::now()).unwrap();
        let mut flipped_one = false;
        for _ in 0..64 {
            let jwt = codec.sign(&token(Duration::minutes(1))).unwrap();
            let (head, sig) = jwt.rsplit_once('.').unwrap();
            let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
            assert!(scaikey_verifier::es256::is_low_s(&raw), "ScaiKey signs low-S only");
            assert!(codec.verify(&jwt).is_ok());
            // n − s: mathematically valid, refused as a second spelling of the same token.
            let mut twin = raw.clone();
            scaikey_verifier::es256::negate_s(&mut twin);
            if twin != raw {
                flipped_one = true;
                let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&twin));
                assert_eq!(codec.verify(&forged), Err(TokenRejection::Invalid));
            }
        }
        assert!(flipped_one);
    }

    #[test]
    fn header_carries_kid_and_jwks_lists_keys() {
        let k = generate(SigningAlg::Es256).unwrap();
        let codec =
            JwtCodec::new("http://iss", "scaikey", std::slice::from_ref(&k), SigningAlg::Es256, Utc::now()).unwrap();
        let jwt = codec.sign(&token(Duration::minutes(1))).unwrap();
        assert_eq!(decode_header(&jwt).unwrap().kid.as_deref(), Some(k.kid.as_str()));
        assert_eq!(codec.jwks()["keys"][0]["kid"], k.kid.as_str());
        assert_eq!(codec.jwks()["keys"][0]["crv"], "P-256");
    }
}

//! Benchmark W2: the ES256 signing ceiling and how close token encoding gets to it, on one core.
//!
//! - raw: `ring` ECDSA P-256 signing of a real token's signing input with a pre-parsed key;
//! - JwtCodec::sign: ScaiKey's encoder (claims → JSON → base64url → sign with the cached key);
//! - jsonwebtoken::encode: the same claims through jsonwebtoken 9, which parses the PKCS#8 key
//!   on every call (what ScaiKey did before).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use scaikey_app::ports::{AccessToken, TokenCodec};
use scaikey_crypto::jwt::JwtCodec;
use scaikey_crypto::keys::{SigningAlg, generate};
use scaikey_domain::id::ApplicationId;
use scaikey_domain::principal::{ClientPrincipal, Principal};
use scaikey_domain::scope::ScopeLevel;

fn rate(window: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..200 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let window = if smoke { Duration::from_millis(200) } else { Duration::from_secs(3) };
    let key = generate(SigningAlg::Es256).unwrap();
    let codec = JwtCodec::new(
        "https://id.example.com",
        "scaikey",
        std::slice::from_ref(&key),
        SigningAlg::Es256,
        chrono::Utc::now(),
    )
    .unwrap();
    let now = Utc::now();
    let token = AccessToken {
        principal: Principal::Client(ClientPrincipal {
            app_id: ApplicationId::generate_from(ulid::Ulid::new()),
            client_id: "ck_01m82xbt0mbw2rsfgzccsa0em7".into(),
            scope_level: ScopeLevel::Global,
            tenant_id: None,
            partner_id: None,
            scopes: vec!["admin:read".into(), "admin:write".into()],
        }),
        scope: vec!["admin:read".into(), "admin:write".into()],
        audience: "scaikey".into(),
        client_id: None,
        jti: ulid::Ulid::new(),
        issued_at: now,
        expires_at: now + chrono::Duration::hours(1),
        act: None,
    };
    let sample = codec.sign(&token).unwrap();
    let signing_input = sample.rsplit_once('.').unwrap().0.to_string();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(sample.split('.').nth(1).unwrap()).unwrap()).unwrap();

    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.private_der, &rng).unwrap();
    let raw = rate(window, || {
        std::hint::black_box(pair.sign(&rng, signing_input.as_bytes()).unwrap());
    });
    let ours = rate(window, || {
        std::hint::black_box(codec.sign(&token).unwrap());
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    let old = rate(window, || {
        let k = jsonwebtoken::EncodingKey::from_ec_der(&key.private_der);
        std::hint::black_box(jsonwebtoken::encode(&header, &claims, &k).unwrap());
    });
    println!("signing (W2): ES256, one thread, {} s windows, token of {} bytes", window.as_secs_f64(), sample.len());
    println!("{:<44} {:>12} {:>10}", "case", "per second", "of raw");
    println!("{:<44} {:>12.0} {:>9.2}", "raw ring sign, pre-parsed key", raw, 1.0);
    println!("{:<44} {:>12.0} {:>9.2}", "JwtCodec::sign (cached key pair)", ours, ours / raw);
    println!("{:<44} {:>12.0} {:>9.2}", "jsonwebtoken 9 encode (parses key per call)", old, old / raw);
}

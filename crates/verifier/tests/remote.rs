//! The remote verifier's key handling against a stand-in issuer that counts its JWKS fetches:
//! a flood of tokens with unknown `kid`s costs at most one fetch per interval, a failed fetch
//! keeps the keys held, and discovery must name the configured issuer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_verifier::{SetupError, Verifier, VerifyError};
use serde_json::json;

struct Issuer {
    base: String,
    fetches: Arc<AtomicUsize>,
    broken: Arc<AtomicBool>,
}

async fn issuer(name_in_discovery: Option<&str>) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fetches = Arc::new(AtomicUsize::new(0));
    let broken = Arc::new(AtomicBool::new(false));
    let doc = json!({"issuer": name_in_discovery.unwrap_or(&base), "jwks_uri": format!("{base}/jwks")});
    let (f, b) = (fetches.clone(), broken.clone());
    let app = Router::new().route("/.well-known/openid-configuration", get(move || async move { Json(doc) })).route(
        "/jwks",
        get(move || async move {
            f.fetch_add(1, Ordering::SeqCst);
            if b.load(Ordering::SeqCst) {
                return Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            }
            Ok(Json(json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                "x": "nTPyP836ULnDUaBvkwaOtXztDFkz75_4QtNqWs68-9E", "y": "hYKF3CUce6_unSWQooqLv3xeecvwrblSYX24sMV02tM"}]})))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Issuer { base, fetches, broken }
}

/// A JWT-shaped token naming `kid` (its signature is never reached: the key is unknown).
fn token_with_kid(kid: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(json!({"typ": "at+jwt", "alg": "ES256", "kid": kid}).to_string());
    format!("{h}.e30.c2ln")
}

#[tokio::test]
async fn unknown_kids_refetch_at_a_bounded_rate_and_failures_keep_the_keys() {
    let iss = issuer(None).await;
    let v = Verifier::builder(&iss.base, "https://api.example")
        .min_refresh_interval(Duration::from_millis(300))
        .discover()
        .await
        .unwrap();
    assert_eq!(iss.fetches.load(Ordering::SeqCst), 1);
    for i in 0..50 {
        assert_eq!(v.verify(&token_with_kid(&format!("forged-{i}"))).await.unwrap_err(), VerifyError::UnknownKey);
    }
    // The keys were fetched just now (discovery), so the flood fetches nothing at all.
    assert_eq!(iss.fetches.load(Ordering::SeqCst), 1, "50 forged kids within the interval cost no fetch");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let _ = v.verify(&token_with_kid("again")).await;
    for i in 0..20 {
        let _ = v.verify(&token_with_kid(&format!("more-{i}"))).await;
    }
    assert_eq!(iss.fetches.load(Ordering::SeqCst), 2, "one fetch once the interval passed, however many kids");

    // The issuer fails: the unknown kid is a 503-class answer, and the known key is still held.
    iss.broken.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(matches!(v.verify(&token_with_kid("new")).await, Err(VerifyError::Unavailable(_))));
    // A token of the held key gets past the key lookup (and fails only on its bogus signature).
    assert_eq!(v.verify(&token_with_kid("k1")).await.unwrap_err(), VerifyError::Invalid);
    assert_eq!(v.verify_header(None).await.unwrap_err(), VerifyError::Missing);
    assert_eq!(v.verify_header(Some("Basic abc")).await.unwrap_err(), VerifyError::Missing);
    assert_eq!(v.verify_header(Some("Bearer ")).await.unwrap_err(), VerifyError::MalformedHeader);
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let iss = issuer(Some("https://evil.example")).await;
    let err = Verifier::builder(&iss.base, "https://api.example").discover().await.unwrap_err();
    assert!(matches!(err, SetupError::IssuerMismatch { .. }), "{err}");
    assert!(matches!(
        Verifier::builder("http://127.0.0.1:9", "https://api.example").discover().await,
        Err(SetupError::Fetch { .. })
    ));
}

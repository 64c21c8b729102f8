//! Signing key rotation end to end (contract §8): a routine rotation pre-publishes the new
//! keys, then signs with them while old tokens keep verifying; an emergency rotation withdraws
//! the old keys at once; a second process on the same database follows either; the command
//! line rotates as the API does; only the platform may rotate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use scaikey_testkit::{ApiClient, TestApp, jwt_parts};
use serde_json::{Value, json};

fn kid(token: &str) -> String {
    jwt_parts(token).unwrap().0["kid"].as_str().unwrap().to_string()
}

async fn jwks_kids(app: &ApiClient) -> BTreeSet<String> {
    let r = app.get("/.well-known/jwks.json").await.unwrap();
    assert_eq!(r.status, 200);
    r.body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect()
}

fn kids_in(state: &str, list: &Value) -> BTreeSet<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["state"] == state)
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// Logs in again until the new token's `kid` satisfies `want` (the key poller runs each second).
async fn login_until(app: &TestApp, want: impl Fn(&str) -> bool) -> ApiClient {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = app.super_admin().await.unwrap();
        if want(&kid(c.token().unwrap())) {
            return c;
        }
        assert!(Instant::now() < deadline, "the new key never signed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn routine_rotation_prepublishes_then_signs_and_old_tokens_live_on() {
    let app = TestApp::spawn_with(&[("SCAIKEY_KEY_PREPUBLISH_SECONDS", "3")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let other = app.second_process().await.unwrap();
    let old_kid = kid(admin.token().unwrap());
    let before = admin.get("/api/v1/admin/signing-keys").await.unwrap();
    assert_eq!(before.status, 200);
    assert_eq!(kids_in("signing", &before.body).len(), 2, "one ES256 and one RS256 key sign: {}", before.body);
    assert!(kids_in("signing", &before.body).contains(&old_kid));
    let anon = app.anonymous();
    let published_before = jwks_kids(&anon).await;

    // Only the platform rotates; a tenant admin is refused before the body is read.
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Keys T"})).await.unwrap().id();
    let ta = app.user_with_roles("ta@keys.test", &["tenant_admin"], Some(&t)).await.unwrap();
    assert_eq!(
        ta.post("/api/v1/admin/signing-keys/rotate", json!({"algorithms": ["HS256"]})).await.unwrap().status,
        403
    );
    assert_eq!(ta.get("/api/v1/admin/signing-keys").await.unwrap().status, 403);
    let bad = admin
        .post("/api/v1/admin/signing-keys/rotate", json!({"algorithms": ["HS256", "ES256", "ES256"]}))
        .await
        .unwrap();
    assert_eq!((bad.status, bad.locs()), (422, vec!["body.algorithms.0".to_string(), "body.algorithms.2".to_string()]));

    // A body that does not say it is JSON is not read as JSON.
    let plain = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/signing-keys/rotate", app.base_url))
        .bearer_auth(admin.token().unwrap())
        .header("content-type", "text/plain")
        .body(r#"{"algorithms": ["ES256"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    let rotated = admin.post("/api/v1/admin/signing-keys/rotate", json!({"algorithms": ["ES256"]})).await.unwrap();
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let pending = kids_in("pending", &rotated.body);
    assert_eq!(pending.len(), 1, "{}", rotated.body);
    let new_kid = pending.iter().next().unwrap().clone();
    let old_row =
        rotated.body["items"].as_array().unwrap().iter().find(|k| k["kid"] == old_kid.as_str()).unwrap().clone();
    assert_eq!(old_row["state"], "signing", "the old key signs until the new one activates");
    assert!(old_row["retires_at"].is_string(), "the old key is scheduled to retire: {old_row}");
    // The RS256 key was not part of this rotation.
    assert_eq!(kids_in("signing", &rotated.body).len(), 2);

    // Published at once, by both processes, before it signs anything.
    assert!(jwks_kids(&anon).await.contains(&new_kid));
    let deadline = Instant::now() + Duration::from_secs(3);
    let sibling = other.with_token(admin.token().unwrap());
    while !jwks_kids(&sibling).await.contains(&new_kid) {
        assert!(Instant::now() < deadline, "the second process never published the new key");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kid(app.super_admin().await.unwrap().token().unwrap()), old_kid, "pending keys do not sign");

    // After the pre-publication the new key signs; the old token still works on both processes.
    let fresh = login_until(&app, |k| k == new_kid).await;
    assert_eq!(admin.get("/api/v1/admin/tenants").await.unwrap().status, 200, "a token of the old key still verifies");
    assert_eq!(sibling.get("/api/v1/admin/tenants").await.unwrap().status, 200);
    assert_eq!(other.with_token(fresh.token().unwrap()).get("/api/v1/admin/tenants").await.unwrap().status, 200);
    let now = jwks_kids(&anon).await;
    assert!(now.is_superset(&published_before) && now.contains(&new_kid), "old keys stay published: {now:?}");
    let after = admin.get("/api/v1/admin/signing-keys").await.unwrap();
    assert!(kids_in("verify_only", &after.body).contains(&old_kid), "{}", after.body);
    assert!(kids_in("signing", &after.body).contains(&new_kid));

    // Audited with the actor and what was asked.
    let ev = admin.get("/api/v1/admin/audit?action=signing_key.rotate").await.unwrap();
    assert_eq!(ev.body["pagination"]["total"], 1, "{}", ev.body);
    assert_eq!(ev.body["items"][0]["details"], json!({"algorithms": ["ES256"], "emergency": false}));
    assert_eq!(ev.body["items"][0]["actor_type"], "user");
}

#[tokio::test]
async fn emergency_rotation_withdraws_old_keys_at_once_everywhere() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let other = app.second_process().await.unwrap();
    let old = admin.token().unwrap().to_string();
    let old_kid = kid(&old);
    assert_eq!(other.with_token(&old).get("/api/v1/admin/tenants").await.unwrap().status, 200);

    // The command line rotates as the API does (and is audited as such).
    let settings = app.settings().unwrap();
    let keys =
        scaikey::server::rotate_keys(&settings, scaikey_app::keys::RotationInput { algorithms: None, emergency: true })
            .await
            .unwrap();
    let signing: Vec<_> = keys.iter().filter(|k| k.state.as_str() == "signing").collect();
    assert_eq!(signing.len(), 2);
    assert!(keys.iter().all(|k| k.kid != old_kid), "the old key is withdrawn");

    // Both processes drop the old key within the poll window and sign with the new ones.
    let deadline = Instant::now() + Duration::from_secs(5);
    for base in [&app.base_url, &other.base_url] {
        loop {
            let r = reqwest::Client::new()
                .get(format!("{base}/api/v1/admin/tenants"))
                .bearer_auth(&old)
                .send()
                .await
                .unwrap();
            if r.status() == 401 {
                break;
            }
            assert!(Instant::now() < deadline, "{base} still accepts a token of a withdrawn key");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let fresh = login_until(&app, |k| k != old_kid).await;
    assert!(signing.iter().any(|k| k.kid == kid(fresh.token().unwrap())));
    assert_eq!(other.with_token(fresh.token().unwrap()).get("/api/v1/admin/tenants").await.unwrap().status, 200);
    assert!(!jwks_kids(&app.anonymous()).await.contains(&old_kid));

    let ev = fresh.get("/api/v1/admin/audit?action=signing_key.rotate").await.unwrap();
    assert_eq!(ev.body["items"][0]["details"]["via"], "command line", "{}", ev.body);
    assert_eq!(ev.body["items"][0]["details"]["emergency"], true);
}

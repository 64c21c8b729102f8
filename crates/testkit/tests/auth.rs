//! Login, tokens, well-known documents and probes, end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, ISSUER, TestApp};
use serde_json::{Value, json};

fn claims(token: &str) -> (Value, Value) {
    scaikey_testkit::jwt_parts(token).unwrap()
}

#[tokio::test]
async fn login_issues_an_es256_token_with_the_contract_claims() {
    let app = TestApp::spawn().await.unwrap();
    let r = app
        .anonymous()
        .post("/api/v1/auth/login", json!({"email": ADMIN_EMAIL.to_uppercase(), "password": ADMIN_PASSWORD}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    let expires_in = r.body["expires_in"].as_i64().unwrap();
    assert!((3500..=3600).contains(&expires_in), "{expires_in}");
    let (header, c) = claims(r.body["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES256");
    let kid = header["kid"].as_str().unwrap().to_string();
    assert_eq!(c["iss"], ISSUER);
    assert!(c["sub"].as_str().unwrap().starts_with("usr_"));
    assert!(c["sid"].as_str().unwrap().starts_with("ses_"));
    assert_eq!(c["roles"], json!(["super_admin"]));
    assert_eq!(c["tenant_id"], Value::Null);
    assert_eq!(c["partner_id"], Value::Null);
    for k in ["aud", "exp", "iat", "jti", "scope"] {
        assert!(!c[k].is_null(), "{k}");
    }

    let jwks = app.anonymous().get("/.well-known/jwks.json").await.unwrap();
    assert_eq!(jwks.status, 200);
    assert!(jwks.body["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()));
    let disco = app.anonymous().get("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(disco.body["issuer"], ISSUER);
    assert_eq!(disco.body["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));

    // The session is stored with the login's audit record, in the same transaction.
    let mut conn = app.db.connect().await.unwrap();
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM audit_events WHERE action = 'auth.login' AND result = 'success') AS n",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(n.n, 2);
}

#[tokio::test]
async fn rs256_is_available_by_config() {
    let app = TestApp::spawn_with(&[("SCAIKEY_SIGNING_ALG", "RS256")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let (header, _) = claims(admin.token().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(admin.get("/api/v1/admin/partners").await.unwrap().status, 200);
    let jwks = app.anonymous().get("/.well-known/jwks.json").await.unwrap();
    assert!(jwks.body["keys"].as_array().unwrap().iter().any(|k| k["kty"] == "RSA"));
}

#[tokio::test]
async fn bad_credentials_all_read_the_same() {
    let app = TestApp::spawn().await.unwrap();
    let c = app.anonymous();
    for body in [
        json!({"email": ADMIN_EMAIL, "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": ADMIN_PASSWORD}),
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "tenant_id": "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        json!({"email": ADMIN_EMAIL, "password": "x".repeat(10_000)}),
    ] {
        let r = c.post("/api/v1/auth/login", body).await.unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.body, json!({"detail": "Invalid credentials"}));
    }
    // Malformed input is a 422, never a 500.
    let r = c.post("/api/v1/auth/login", json!({"email": ADMIN_EMAIL})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.password"));
    let r = c.post("/api/v1/auth/login", json!({"email": 1, "password": "x"})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.email"));
    let r =
        c.post("/api/v1/auth/login", json!({"email": "a@b.c", "password": "x", "tenant_id": "nope"})).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.tenant_id"));
    let r = c.raw(reqwest::Method::POST, "/api/v1/auth/login", Some(b"{not json".to_vec())).await.unwrap();
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn bad_bearer_tokens_are_401_with_www_authenticate() {
    let app = TestApp::spawn().await.unwrap();
    let good = app.super_admin().await.unwrap();
    let token = good.token().unwrap().to_string();
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");

    // A token signed by another ScaiKey (other keys) and one from another issuer.
    let other = TestApp::spawn_with(&[("SCAIKEY_ISSUER", "http://elsewhere.test")]).await.unwrap();
    let foreign = other.super_admin().await.unwrap().token().unwrap().to_string();

    for (what, client) in [
        ("missing", app.anonymous()),
        ("garbage", app.with_token("garbage")),
        ("tampered", app.with_token(&tampered)),
        ("foreign", app.with_token(&foreign)),
    ] {
        let r = client.get("/api/v1/admin/tenants").await.unwrap();
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer", "{what}");
        assert!(!r.detail().is_empty(), "{what}");
    }
    let r = app.anonymous().raw(reqwest::Method::GET, "/api/v1/admin/tenants", None).await.unwrap();
    assert_eq!(r.detail(), "Not authenticated");
}

#[tokio::test]
async fn probes_and_openapi() {
    let app = TestApp::spawn().await.unwrap();
    let c = app.anonymous();
    assert_eq!(c.get("/healthz").await.unwrap().status, 200);
    assert_eq!(c.get("/readyz").await.unwrap().status, 200);
    let doc = c.get("/openapi.json").await.unwrap();
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc.body["paths"]["/api/v1/admin/tenants/{tenant_id}"]["patch"].is_object());
    let r = c.get("/no/such/route").await.unwrap();
    assert_eq!((r.status, r.detail()), (404, "Not Found"));

    let prod = TestApp::spawn_with(&[("SCAIKEY_ENV", "production")]).await.unwrap();
    assert_eq!(prod.anonymous().get("/openapi.json").await.unwrap().status, 404);
}

fn second_server(app: &TestApp, master_key: &str) -> scaikey::Settings {
    scaikey::Settings::load_from(
        None,
        [
            ("SCAIKEY_DATABASE_URL", app.db.url.as_str()),
            ("SCAIKEY_LISTEN", "127.0.0.1:0"),
            ("SCAIKEY_LOG", "warn"),
            ("SCAIKEY_ISSUER", ISSUER),
            ("SCAIKEY_MASTER_KEY", master_key),
            ("SCAIKEY_BOOTSTRAP_ADMIN_EMAIL", "second@scaikey.test"),
            ("SCAIKEY_BOOTSTRAP_ADMIN_PASSWORD", "Another-passw0rd"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .unwrap()
}

#[actix_web::test]
async fn a_second_process_shares_keys_and_does_not_bootstrap_again() {
    let app = TestApp::spawn().await.unwrap();
    let first_token = app.super_admin().await.unwrap().token().unwrap().to_string();
    let second = scaikey::start(second_server(&app, &app.master_key)).await.unwrap();
    let handle = second.server.handle();
    actix_web::rt::spawn(second.server);
    let base = format!("http://{}", second.addr);
    let http = reqwest::Client::new();
    // An active super admin exists, so the second bootstrap pair is not created.
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "second@scaikey.test", "password": "Another-passw0rd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Both processes use the same stored key: a token of the first verifies on the second.
    let r = http.get(format!("{base}/api/v1/admin/partners")).bearer_auth(&first_token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    handle.stop(false).await;
}

#[tokio::test]
async fn a_wrong_master_key_stops_start_up_loudly() {
    let app = TestApp::spawn().await.unwrap();
    let other = scaikey_crypto::master::MasterKey::generate_base64().unwrap();
    let err = scaikey::start(second_server(&app, &other)).await.expect_err("start must refuse a wrong master key");
    assert!(format!("{err:#}").contains("cannot be decrypted"), "{err:#}");
}

/// Every operation in the OpenAPI document is routed: unauthenticated calls get an answer from
/// the handler (401, 400, 422, 200…), never the router's 404 "Not Found".
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await.unwrap();
    let c = app.anonymous();
    let doc = c.get("/openapi.json").await.unwrap().body;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete =
                path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (m != reqwest::Method::GET && m != reqwest::Method::DELETE).then(|| b"{}".to_vec());
            let r = c.raw(m, &concrete, body).await.unwrap();
            assert!(!(r.status == 404 && r.detail() == "Not Found"), "{method} {path} is documented but not routed");
            assert_ne!(r.status, 405, "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} operations documented");
}

//! A service of our own accepts ScaiKey tokens through `scaikey-verifier`, written only against
//! its public API: the two example programs of the crate (actix-web and axum) serve against a
//! ScaiKey started here. They accept user and client tokens meant for them, refuse forged,
//! expired, foreign-audience and scope-less ones with RFC 6750 challenges, see revocation at
//! once when asked to introspect, and keep working across a signing-key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

#[allow(dead_code)] // `main` is the example's own; the test serves its routes.
#[path = "../../verifier/examples/actix_service.rs"]
mod actix_example;
#[allow(dead_code)]
#[path = "../../verifier/examples/axum_service.rs"]
mod axum_example;

use std::sync::Arc;
use std::time::{Duration, Instant};

use scaikey_app::ports::{AccessToken, TokenCodec};
use scaikey_domain::principal::{ClientPrincipal, Principal};
use scaikey_testkit::TestApp;
use scaikey_testkit::signin::SignIn;
use scaikey_verifier::{Verifier, VerifyError};
use serde_json::{Value, json};

const RESOURCE: &str = "https://reports.example";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct World {
    app: TestApp,
    tenant: String,
    other_tenant: String,
    web: (String, String),
    service: (String, String),
    reports: (String, String),
}

async fn world() -> World {
    let app = TestApp::spawn_discoverable(&[("SCAIKEY_KEY_PREPUBLISH_SECONDS", "2")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme"})).await.unwrap().id();
    let other_tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Globex"})).await.unwrap().id();
    let client = |body: Value| {
        let admin = &admin;
        async move {
            let r = admin.post("/api/v1/admin/applications", body).await.unwrap();
            assert_eq!(r.status, 201, "{}", r.body);
            (r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string())
        }
    };
    let web = client(json!({"name": "Acme Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
        "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "reports:read"], "allowed_resources": [RESOURCE]}))
    .await;
    let service =
        client(json!({"name": "Nightly export", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": tenant,
        "allowed_scopes": ["reports:read", "metrics:read"], "allowed_resources": [RESOURCE]}))
        .await;
    // The report service's own client, for introspection: the tokens' audience names it.
    let reports =
        client(json!({"name": "Reports API", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": tenant,
        "allowed_scopes": ["reports:read"], "allowed_resources": [RESOURCE]}))
        .await;
    let u = admin
        .post("/api/v1/admin/users", json!({"email": "ana@acme.example", "password": "Ana-Passw0rd!", "tenant_id": tenant, "roles": ["tenant_admin"]}))
        .await
        .unwrap();
    assert_eq!(u.status, 201, "{}", u.body);
    World { app, tenant, other_tenant, web, service, reports }
}

async fn user_token(w: &World) -> String {
    let t = w
        .app
        .sign_in_with_code(&SignIn {
            client_id: &w.web.0,
            client_secret: Some(&w.web.1),
            redirect_uri: REDIRECT,
            scope: "openid reports:read",
            resource: Some(RESOURCE),
            email: "ana@acme.example",
            password: "Ana-Passw0rd!",
        })
        .await
        .unwrap();
    t["access_token"].as_str().unwrap().to_string()
}

async fn client_token(w: &World, scope: &str) -> String {
    let r = w
        .app
        .token_request(
            Some((&w.service.0, &w.service.1)),
            &[("grant_type", "client_credentials"), ("scope", scope), ("resource", RESOURCE)],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["access_token"].as_str().unwrap().to_string()
}

/// Serves the actix example's routes on its own actix system; answers its base URL.
fn serve_actix(verifier: Verifier) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let data = actix_web::web::Data::new(verifier);
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new().app_data(data.clone()).configure(actix_example::routes)
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

async fn serve_axum(verifier: Verifier) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum_example::app(verifier)).await.unwrap() });
    format!("http://{addr}")
}

async fn call(url: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

/// A token signed with ScaiKey's real key (read with the master key) but already expired.
async fn expired_client_token(w: &World) -> String {
    let settings = w.app.settings().unwrap();
    let db = scaikey_persistence::Database::connect(&scaikey_persistence::DbConfig {
        url: settings.database_url.clone(),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let master = Arc::new(scaikey_crypto::master::MasterKey::from_base64(&w.app.master_key).unwrap());
    let ring = scaikey::server::keyring(&settings, &db, master, &w.app.issuer).await.unwrap();
    let now = chrono::Utc::now();
    let app_id = w
        .app
        .super_admin()
        .await
        .unwrap()
        .get("/api/v1/admin/applications?search=Nightly")
        .await
        .unwrap()
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    ring.sign(&service_token(w, app_id, now - chrono::Duration::minutes(10))).unwrap()
}

#[tokio::test]
async fn example_services_accept_scaikey_tokens_and_refuse_the_rest() {
    let w = world().await;
    let verifier = Verifier::builder(&w.app.issuer, RESOURCE)
        .min_refresh_interval(Duration::from_millis(500))
        .discover()
        .await
        .unwrap();
    let actix = serve_actix(verifier.clone());
    let axum = serve_axum(verifier.clone()).await;

    // A user signed in to the portal, and a service with client credentials, both for the API.
    let user = user_token(&w).await;
    let client = client_token(&w, "reports:read").await;
    for base in [&actix, &axum] {
        let (status, _, body) = call(&format!("{base}/reports"), Some(&user)).await;
        assert_eq!(
            (status, &body["kind"], &body["tenant_id"]),
            (200, &json!("user"), &json!(w.tenant)),
            "{base}: {body}"
        );
        let (status, _, body) = call(&format!("{base}/reports"), Some(&client)).await;
        assert_eq!(
            (status, &body["kind"], &body["subject"]),
            (200, &json!("client"), &json!(w.service.0)),
            "{base}: {body}"
        );
    }
    let (_, _, body) = call(&format!("{actix}/reports"), Some(&user)).await;
    assert_eq!(body["client_id"], w.web.0, "a user's token names the application signed in to");
    // The domain's access rule: a tenant admin reaches its own tenant only.
    assert_eq!(call(&format!("{actix}/tenants/{}/reports", w.tenant), Some(&user)).await.0, 200);
    assert_eq!(call(&format!("{actix}/tenants/{}/reports", w.other_tenant), Some(&user)).await.0, 403);

    // Refusals, each with its RFC 6750 answer, on both integrations.
    let admin_api_token = w.app.super_admin().await.unwrap().token().unwrap().to_string();
    let scopeless = client_token(&w, "metrics:read").await;
    let expired = expired_client_token(&w).await;
    let stranger = {
        let key = scaikey_crypto::keys::generate(scaikey_crypto::keys::SigningAlg::Es256).unwrap();
        let codec = scaikey_crypto::jwt::JwtCodec::new(
            &w.app.issuer,
            RESOURCE,
            &[key],
            scaikey_crypto::keys::SigningAlg::Es256,
            chrono::Utc::now(),
        )
        .unwrap();
        codec
            .sign(&service_token(
                &w,
                scaikey_domain::id::ApplicationId::generate_from(ulid::Ulid::new()),
                chrono::Utc::now(),
            ))
            .unwrap()
    };
    let mut tampered = client.clone();
    let dot = tampered.find('.').unwrap();
    tampered.replace_range(dot + 1..dot + 2, if &tampered[dot + 1..dot + 2] == "e" { "f" } else { "e" });
    let cases: [(&str, Option<&str>, u16, &str); 7] = [
        ("no token", None, 401, "Bearer"),
        ("a token for ScaiKey's own API", Some(&admin_api_token), 401, "the token is not meant for this service"),
        ("expired", Some(&expired), 401, "the token has expired"),
        ("signed by a stranger's key", Some(&stranger), 401, "invalid_token"),
        ("tampered", Some(&tampered), 401, "the token is invalid"),
        ("without the scope", Some(&scopeless), 403, "error=\"insufficient_scope\""),
        ("not a JWT", Some("not-a-jwt"), 401, "invalid_token"),
    ];
    for base in [&actix, &axum] {
        for (what, token, status, challenge) in cases {
            let (got, www, _) = call(&format!("{base}/reports"), token).await;
            assert_eq!(got, status, "{base}: {what}");
            assert!(www.starts_with("Bearer") && www.contains(challenge), "{base}: {what}: {www:?}");
        }
    }
    let (_, www, _) = call(&format!("{axum}/reports"), Some(&scopeless)).await;
    assert!(www.contains("realm=\"reports\"") && www.contains("scope=\"reports:read\""), "{www}");

    // Revocation: the signature still holds, so only an introspecting verifier sees it at once.
    let strict =
        Verifier::builder(&w.app.issuer, RESOURCE).introspect_as(&w.reports.0, &w.reports.1).discover().await.unwrap();
    assert!(strict.verify(&user).await.is_ok(), "an active token passes introspection");
    let admin = w.app.super_admin().await.unwrap();
    let sessions = admin.get("/api/v1/admin/sessions?active=true").await.unwrap();
    for s in sessions.body["items"].as_array().unwrap() {
        if s["tenant_id"] == w.tenant.as_str() {
            let r = admin
                .post(&format!("/api/v1/admin/sessions/{}/revoke", s["id"].as_str().unwrap()), json!({}))
                .await
                .unwrap();
            assert_eq!(r.status, 200);
        }
    }
    assert_eq!(strict.verify(&user).await.unwrap_err(), VerifyError::Revoked);
    assert!(verifier.verify(&user).await.is_ok(), "without introspection a revoked token lives until it expires");
    assert!(strict.verify(&client).await.is_ok(), "the client's token was not revoked");
}

/// A client token of the export service for the report API, issued at `issued_at`, living 5 min.
fn service_token(
    w: &World,
    app_id: scaikey_domain::id::ApplicationId,
    issued_at: chrono::DateTime<chrono::Utc>,
) -> AccessToken {
    AccessToken {
        principal: Principal::Client(ClientPrincipal {
            app_id,
            client_id: w.service.0.clone(),
            scope_level: scaikey_domain::scope::ScopeLevel::Tenant,
            tenant_id: Some(w.tenant.parse().unwrap()),
            partner_id: None,
            scopes: vec!["reports:read".into()],
        }),
        scope: vec!["reports:read".into()],
        audience: RESOURCE.into(),
        client_id: None,
        jti: ulid::Ulid::new(),
        issued_at,
        expires_at: issued_at + chrono::Duration::minutes(5),
        act: None,
    }
}

#[tokio::test]
async fn a_service_keeps_working_across_a_signing_key_rotation() {
    let w = world().await;
    let verifier = Verifier::builder(&w.app.issuer, RESOURCE)
        .min_refresh_interval(Duration::from_millis(500))
        .discover()
        .await
        .unwrap();
    let axum = serve_axum(verifier).await;
    let before = client_token(&w, "reports:read").await;
    assert_eq!(call(&format!("{axum}/reports"), Some(&before)).await.0, 200);
    let old_kid = scaikey_testkit::jwt_parts(&before).unwrap().0["kid"].clone();

    let admin = w.app.super_admin().await.unwrap();
    assert_eq!(admin.post("/api/v1/admin/signing-keys/rotate", json!({})).await.unwrap().status, 200);
    // Once the new key signs, the service fetches the JWKS on the unknown kid and accepts it;
    // the token of the old key keeps working.
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let t = client_token(&w, "reports:read").await;
        if scaikey_testkit::jwt_parts(&t).unwrap().0["kid"] != old_kid {
            break t;
        }
        assert!(Instant::now() < deadline, "the rotated key never signed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(call(&format!("{axum}/reports"), Some(&after)).await.0, 200);
    assert_eq!(call(&format!("{axum}/reports"), Some(&before)).await.0, 200);
}

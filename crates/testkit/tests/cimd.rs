//! Client ID metadata documents (contract §12, `SCAIKEY_CIMD=on`): a client whose `client_id` is
//! the URL of its metadata document signs a person in without registering first; the document
//! is fetched by ScaiKey (served here by a small HTTP server that counts its hits) and joins the
//! registration queue under `SCAIKEY_DCR_POLICY`. Documents that lie about their URL, carry a
//! secret, are too large or redirect are refused on an error page, and the refusal is
//! remembered for as long as the document's `Cache-Control` says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scaikey_testkit::TestApp;
use scaikey_testkit::signin::{Browser, SignIn, location};
use serde_json::json;

const CALLBACK: &str = "http://127.0.0.1:9/notes/callback";

#[derive(Clone)]
struct Docs {
    base: String,
    hits: Arc<std::sync::Mutex<HashMap<String, usize>>>,
}

async fn doc(State(d): State<Docs>, Path(name): Path<String>) -> Response {
    *d.hits.lock().unwrap().entry(name.clone()).or_default() += 1;
    let url = format!("{}/{name}", d.base);
    let good = json!({"client_id": url, "client_name": "Notes ✓", "redirect_uris": [CALLBACK],
                      "token_endpoint_auth_method": "none", "scope": "openid profile"});
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, "max-age=600".parse().unwrap());
    match name.as_str() {
        "notes.json" | "queued.json" => (headers, axum::Json(good)).into_response(),
        "liar.json" => {
            (headers, axum::Json(json!({"client_id": "https://elsewhere.example/c.json", "redirect_uris": [CALLBACK]})))
                .into_response()
        }
        "secret.json" => {
            (headers, axum::Json(json!({"client_id": url, "redirect_uris": [CALLBACK], "client_secret": "s"})))
                .into_response()
        }
        "big.json" => {
            let pad = "x".repeat(8 * 1024);
            (headers, axum::Json(json!({"client_id": url, "redirect_uris": [CALLBACK], "pad": pad}))).into_response()
        }
        "moved.json" => (StatusCode::FOUND, [(header::LOCATION, format!("{}/notes.json", d.base))]).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn document_server() -> Docs {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let docs = Docs { base: format!("http://{}/clients", listener.local_addr().unwrap()), hits: Arc::default() };
    let router = axum::Router::new().route("/clients/{name}", axum::routing::get(doc)).with_state(docs.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    docs
}

fn authorize_path(client_id: &str) -> String {
    let q = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    format!("/oauth/authorize?{q}")
}

/// The page (status and text) an authorization request for `client_id` ends on, following
/// ScaiKey's own redirects.
async fn page_for(app: &TestApp, client_id: &str) -> (u16, String) {
    let mut b = Browser::new(&app.base_url).unwrap();
    let mut url = authorize_path(client_id);
    loop {
        let r = b.get(&url).await.unwrap();
        if r.status().is_redirection() {
            url = location(&r).unwrap();
            continue;
        }
        return (r.status().as_u16(), r.text().await.unwrap());
    }
}

#[tokio::test]
async fn a_client_named_by_its_metadata_document_signs_a_person_in() {
    let docs = document_server().await;
    let app = TestApp::spawn_with(&[("SCAIKEY_CIMD", "on"), ("SCAIKEY_DCR_POLICY", "auto")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let discovery = app.anonymous().get("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(discovery.body["client_id_metadata_document_supported"], json!(true));
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme"})).await.unwrap().id();
    let r = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "ana@acme.example", "password": "Ana-Cimd-Passw0rd", "tenant_id": tenant}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);

    // No registration: the document is fetched, the client approved by the policy, and the
    // person signs in (with consent: a third-party application) and gets tokens.
    let client_id = format!("{}/notes.json", docs.base);
    let tokens = app
        .sign_in_with_code(&SignIn {
            client_id: &client_id,
            client_secret: None,
            redirect_uri: CALLBACK,
            scope: "openid profile",
            resource: None,
            email: "ana@acme.example",
            password: "Ana-Cimd-Passw0rd",
        })
        .await
        .unwrap();
    let claims = scaikey_testkit::jwt_parts(tokens["id_token"].as_str().unwrap()).unwrap().1;
    assert_eq!(claims["aud"], json!(client_id));
    let queue = admin.get("/api/v1/admin/registration-requests?status=APPROVED").await.unwrap();
    let req = queue.body["items"].as_array().unwrap().iter().find(|r| r["name"] == "Notes ✓").cloned().unwrap();
    assert_eq!(req["created_by"], json!("cimd"), "{req}");
    // Known now: later requests do not fetch the document again.
    let before = docs.hits.lock().unwrap()["notes.json"];
    assert_eq!(page_for(&app, &client_id).await.0, 200, "the login page");
    assert_eq!(docs.hits.lock().unwrap()["notes.json"], before);

    // Unusable documents: an error page saying why, remembered per Cache-Control.
    for (name, why) in [
        ("liar.json", "client_id is not its URL"),
        ("secret.json", "cannot carry a secret"),
        ("big.json", "larger than"),
        ("moved.json", "answered 302"),
        ("missing.json", "answered 404"),
    ] {
        let url = format!("{}/{name}", docs.base);
        let (status, html) = page_for(&app, &url).await;
        assert!(status == 400 && html.contains(why), "{name}: {status} {html}");
        let (status, _) = page_for(&app, &url).await;
        assert_eq!(status, 400);
    }
    let hits = docs.hits.lock().unwrap().clone();
    assert_eq!(hits["liar.json"], 1, "refusals are remembered: {hits:?}");
    assert_eq!(hits["moved.json"], 1, "{hits:?}");
    assert!(!hits.contains_key("notes.json") || hits["notes.json"] == before, "the redirect was not followed");
}

#[tokio::test]
async fn under_the_approve_policy_a_document_client_waits_for_an_admin() {
    let docs = document_server().await;
    let app = TestApp::spawn_with(&[("SCAIKEY_CIMD", "on")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let client_id = format!("{}/queued.json", docs.base);
    let (status, html) = page_for(&app, &client_id).await;
    assert!(status == 400 && html.contains("waits for an administrator"), "{status}: {html}");
    let queue = admin.get("/api/v1/admin/registration-requests?status=PENDING").await.unwrap();
    let req = queue.body["items"].as_array().unwrap().iter().find(|r| r["name"] == "Notes ✓").cloned().unwrap();
    // Asked again while pending: the same page, one registration, no new fetch.
    assert!(page_for(&app, &client_id).await.1.contains("waits for an administrator"));
    assert_eq!(docs.hits.lock().unwrap()["queued.json"], 1);
    let r = admin
        .post(&format!("/api/v1/admin/registration-requests/{}/approve", req["id"].as_str().unwrap()), json!({}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, html) = page_for(&app, &client_id).await;
    assert!(status == 200 && html.contains(r#"name="password""#), "the login page once approved: {html}");
}

#[tokio::test]
async fn without_cimd_a_url_is_an_unknown_client() {
    let docs = document_server().await;
    let app = TestApp::spawn().await.unwrap();
    let discovery = app.anonymous().get("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(discovery.body["client_id_metadata_document_supported"], json!(false));
    let (status, html) = page_for(&app, &format!("{}/notes.json", docs.base)).await;
    assert!(status == 400 && html.contains("Unknown client"), "{html}");
    assert!(docs.hits.lock().unwrap().is_empty(), "nothing fetched");
}

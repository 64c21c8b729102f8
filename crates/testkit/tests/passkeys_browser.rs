//! Passkeys in a real headless Chromium with a virtual authenticator (`node/passkeys.js`,
//! contract §10): a person adds one from `/account` (named with odd bytes), the password then
//! leads to a second step that the passkey passes, the application's ID token says `amr`
//! `pwd hwk mfa` and `acr` mfa, and the passkey is removed again from the account page. The
//! issuer is `http://localhost:<port>`: the relying-party ID must be a domain name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{TestApp, jwt_parts, tools};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const EMAIL: &str = "ana@acme.example";
const PASSWORD: &str = "Ana-Passw0rd!";
const KEY_NAME: &str = "Laptop ☕ \"<b>\"";

#[tokio::test]
async fn a_person_adds_a_passkey_signs_in_with_it_and_removes_it_in_a_real_browser() {
    let app = TestApp::spawn_on_localhost(&[]).await.unwrap();
    assert!(app.issuer.starts_with("http://localhost:"), "{}", app.issuer);
    let admin = app.super_admin().await.unwrap();
    let tenant = admin
        .post(
            "/api/v1/admin/tenants",
            json!({"name": "Acme", "slug": "acme", "settings": {"mfa_methods": ["webauthn"]}}),
        )
        .await
        .unwrap()
        .id();
    let user = admin
        .post("/api/v1/admin/users", json!({"email": EMAIL, "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    let client = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant, "first_party": true,
                   "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email"], "grant_types": ["authorization_code"]}),
        )
        .await
        .unwrap();
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["client_id"].as_str().unwrap().to_string();
    let secret = client.body["client_secret"].as_str().unwrap().to_string();
    let verifier = format!("{}{}", ulid::Ulid::new(), ulid::Ulid::new());
    let q = serde_urlencoded::to_string([
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "s1"),
        ("nonce", "n1"),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    // A second tenant requires a factor and offers passkeys only.
    let strict = admin
        .post(
            "/api/v1/admin/tenants",
            json!({"name": "Strict", "slug": "strict", "settings": {"mfa_required": true, "mfa_methods": ["webauthn"]}}),
        )
        .await
        .unwrap()
        .id();
    let bo = admin
        .post("/api/v1/admin/users", json!({"email": "bo@strict.example", "password": PASSWORD, "tenant_id": strict}))
        .await
        .unwrap();
    assert_eq!(bo.status, 201, "{}", bo.body);
    let shots = tools::artifacts_dir().unwrap();
    let config = json!({
        "base_url": app.issuer,
        "email": EMAIL,
        "password": PASSWORD,
        "passkey_name": KEY_NAME,
        "authorize_url": format!("{}/oauth/authorize?{q}", app.issuer),
        "verifier": verifier,
        "callback_prefix": REDIRECT,
        "forced": {"email": "bo@strict.example", "password": PASSWORD},
        "screenshots": {"account": shots.join("passkey-account.png"), "second": shots.join("passkey-second-step.png")},
    })
    .to_string();
    let raw = tokio::task::spawn_blocking(move || tools::run_node_script("passkeys.js", &[&config], &[]))
        .await
        .unwrap()
        .unwrap();
    std::fs::write(shots.join("passkeys.json"), &raw).unwrap();
    let out: Value = serde_json::from_str(raw.trim()).unwrap_or_else(|e| panic!("{e}: {raw}"));

    assert_eq!(
        (&out["setup"]["h1"], &out["setup"]["path"]),
        (&json!("Add a passkey"), &json!("/account/mfa/passkey")),
        "{out}"
    );
    assert_eq!(out["added"]["url"], "/account?done=passkey_added", "{out}");
    let mfa = out["added"]["mfa"].as_str().unwrap();
    assert!(mfa.contains(KEY_NAME) && mfa.contains("added"), "{mfa}");
    assert!(!mfa.contains("Set up an authenticator app"), "the tenant offers passkeys only: {mfa}");
    assert_eq!(out["credentials"], 1);

    // The second step offers the passkey alone (no authenticator app, so no code field).
    assert_eq!(out["second"]["h1"], "Two-step sign-in", "{out}");
    assert_eq!(out["second"]["lead"], "Use your passkey to finish signing in.");
    assert_eq!(out["second"]["code_field"], 0);
    let cb = &out["callback"];
    assert_eq!(cb["state"], "s1", "{out}");
    let tokens = app
        .token_request(
            Some((&client_id, &secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", cb["code"].as_str().unwrap()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ],
        )
        .await
        .unwrap();
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let (_, id) = jwt_parts(tokens.body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(id["amr"], json!(["pwd", "hwk", "mfa"]), "{id}");
    assert_eq!(id["acr"], "urn:scaikey:acr:mfa");

    assert_eq!(out["removed"]["url"], "/account?done=passkey_removed", "{out}");
    assert!(!out["removed"]["mfa"].as_str().unwrap().contains(KEY_NAME));
    let errors: Vec<&str> = out["console_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        // Chromium asks for a favicon on its own: a 404 here, refused at the callback's origin.
        .filter(|e| !e.ends_with(" at /favicon.ico"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for png in ["passkey-account.png", "passkey-second-step.png"] {
        let bytes = std::fs::read(shots.join(png)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "{png}");
    }

    // The strict tenant's user had to create a passkey before being signed in.
    let forced = &out["forced"];
    assert_eq!(forced["h1"], "Add a passkey", "{out}");
    assert!(forced["lead"].as_str().unwrap().starts_with("Your organisation requires"), "{forced}");
    assert_eq!((&forced["landed"], &forced["page_h1"]), (&json!("/account"), &json!("Your account")), "{forced}");
    let b = admin.get(&format!("/api/v1/admin/users/{}", bo.id())).await.unwrap();
    assert_eq!(b.body["mfa_methods"], json!(["webauthn"]), "{}", b.body);

    // Enrolment and removal are audited with the person as actor; no factor is left.
    let u = admin.get(&format!("/api/v1/admin/users/{}", user.id())).await.unwrap();
    assert_eq!(u.body["mfa_methods"], json!([]), "{}", u.body);
    for action in ["user.mfa_enrol", "user.mfa_remove"] {
        let ev = admin.get(&format!("/api/v1/admin/audit?action={action}&actor_id={}", user.id())).await.unwrap();
        assert_eq!(ev.body["pagination"]["total"], 1, "{action}: {}", ev.body);
        assert_eq!(ev.body["items"][0]["details"]["method"], "webauthn");
    }
}

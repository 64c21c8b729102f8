//! An authenticator app set up and used in a real headless Chromium (`node/mfa.js`, contract
//! §10): the setup page's QR code renders, the key the page shows yields codes an app would
//! compute, the recovery codes are shown once, and in another browser the password leads to the
//! second step, which refuses a wrong code and lets the right one in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{TestApp, tools};
use serde_json::{Value, json};

const EMAIL: &str = "ana@acme.example";
const PASSWORD: &str = "Ana-Passw0rd!";

#[tokio::test]
async fn a_person_sets_up_an_authenticator_app_and_signs_in_with_it_in_a_real_browser() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let user = admin
        .post("/api/v1/admin/users", json!({"email": EMAIL, "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(user.status, 201, "{}", user.body);
    // Each run shows a new random key, so the pictures go with the run's artifacts, not the
    // tree (docs/screenshots keeps one pair for the docs).
    let shots = tools::artifacts_dir().unwrap();
    let config = json!({
        "base_url": app.base_url,
        "email": EMAIL,
        "password": PASSWORD,
        "screenshots": {"setup": shots.join("mfa-setup.png"), "codes": shots.join("mfa-recovery-codes.png")},
    })
    .to_string();
    let raw =
        tokio::task::spawn_blocking(move || tools::run_node_script("mfa.js", &[&config], &[])).await.unwrap().unwrap();
    std::fs::write(tools::artifacts_dir().unwrap().join("mfa.json"), &raw).unwrap();
    let out: Value = serde_json::from_str(raw.trim()).unwrap_or_else(|e| panic!("{e}: {raw}"));

    let setup = &out["setup"];
    assert_eq!(setup["h1"], "Set up an authenticator app", "{out}");
    assert_eq!(setup["qr_visible"], true);
    assert!(setup["qr_box"]["width"].as_f64().unwrap() >= 150.0, "a scannable size: {}", setup["qr_box"]);
    assert!(setup["otpauth"].as_str().unwrap().starts_with("otpauth://totp/"), "{}", setup["otpauth"]);
    assert_eq!(setup["code_label"], "Code");
    let codes = out["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10, "{out}");
    assert!(codes.iter().all(|c| c.as_str().unwrap().len() == 19));
    let account = out["account"].as_str().unwrap();
    assert!(
        account.contains("An authenticator app is set up") && account.contains("10 recovery codes left"),
        "{account}"
    );

    let second = &out["second"];
    assert_eq!(second["h1"], "Two-step sign-in", "{out}");
    assert_eq!(second["path"], "/account/login");
    assert_eq!(second["error"], "That code is not valid.");
    assert_eq!((&second["landed"], &second["page_h1"]), (&json!("/account"), &json!("Your account")));
    // Nothing but the favicon Chromium asks for on its own and the refused code's deliberate 401.
    let errors: Vec<&str> = out["console_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .filter(|e| !(e.contains("404") && e.ends_with(" at /favicon.ico")))
        .filter(|e| !(e.contains("401") && e.ends_with(" at /login/second-factor")))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    for png in ["mfa-setup.png", "mfa-recovery-codes.png"] {
        let bytes = std::fs::read(shots.join(png)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "{png}");
    }
    let u = admin.get(&format!("/api/v1/admin/users/{}", user.id())).await.unwrap();
    assert_eq!(u.body["mfa_methods"], json!(["totp"]));
}

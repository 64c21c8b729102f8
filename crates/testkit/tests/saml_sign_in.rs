//! SAML sign-in end to end (contract §11) against pysaml2, an IdP no one here wrote, signing
//! with Debian's xmlsec1: ScaiKey's SP metadata, the HTTP-Redirect AuthnRequest, the HTTP-POST
//! response at the ACS, the continue step in the browser that started the sign-in, JIT with the
//! mapped attributes, linking on the next sign-in, and every forgery refused with nothing
//! created: unsigned, tampered, signature wrapping, IdP-initiated, another audience, replay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scaikey_testkit::signin::{Browser, location};
use scaikey_testkit::{ApiClient, TestApp, jwt_parts};
use serde_json::{Value, json};

const RP_REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const VERIFIER: &str = "saml-sign-in-test-verifier-0123456789-abcdefghijklmnop";
const IDP_ENTITY: &str = "https://idp.corp.example/saml2";
const SSO_URL: &str = "http://127.0.0.1:9/idp/sso";

struct World {
    app: TestApp,
    admin: ApiClient,
    client_id: String,
    secret: String,
    idp: String,
    tenant: String,
    key: PathBuf,
    cert: PathBuf,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh RSA key and self-signed certificate for the IdP (openssl).
fn idp_key() -> (TempDir, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("scaikey-saml-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let (key, cert) = (dir.join("idp.key"), dir.join("idp.crt"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Corp IdP", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (TempDir(dir), key, cert)
}

async fn world() -> World {
    let app = TestApp::spawn_discoverable(&[]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Corp"})).await.unwrap().id();
    let rp = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Corp Portal", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant,
                   "redirect_uris": [RP_REDIRECT], "allowed_scopes": ["openid", "email", "profile"]}),
        )
        .await
        .unwrap();
    let (dir, key, cert) = idp_key();
    let idp = admin
        .post(
            "/api/v1/admin/identity-providers",
            json!({"name": "Corp ADFS", "protocol": "SAML", "tenant_id": tenant, "entity_id": IDP_ENTITY,
                   "sso_url": SSO_URL, "certificate": std::fs::read_to_string(&cert).unwrap(),
                   "attribute_mapping": {"department": "department"}}),
        )
        .await
        .unwrap();
    assert_eq!(idp.status, 201, "{}", idp.body);
    assert_eq!(idp.body["redirect_uri"], json!(format!("{}/saml/{}/acs", app.issuer, idp.id())));
    World {
        client_id: rp.body["client_id"].as_str().unwrap().into(),
        secret: rp.body["client_secret"].as_str().unwrap().into(),
        idp: idp.id(),
        tenant,
        key,
        cert,
        _dir: dir,
        app,
        admin,
    }
}

impl World {
    /// The relying party's authorization request with `idp=`, up to the IdP's SSO URL.
    async fn start(&self, b: &mut Browser) -> String {
        let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, VERIFIER.as_bytes()));
        let q = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", RP_REDIRECT),
            ("scope", "openid email profile"),
            ("state", "rp-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("idp", self.idp.as_str()),
        ])
        .unwrap();
        let r = b.get(&format!("/oauth/authorize?{q}")).await.unwrap();
        let to = location(&r).unwrap();
        assert!(to.starts_with(&format!("{SSO_URL}?SAMLRequest=")), "{to}");
        to
    }

    /// pysaml2's answer to the AuthnRequest at `authn_url`.
    async fn idp_answer(&self, mode: &str, authn_url: &str, name_id: &str, email: &str) -> Value {
        let metadata = format!("{}/saml/{}/metadata", self.app.base_url, self.idp);
        let args: Vec<String> = [mode, IDP_ENTITY, SSO_URL]
            .iter()
            .map(|s| (*s).to_string())
            .chain([self.key.display().to_string(), self.cert.display().to_string()])
            .chain([metadata, authn_url.to_string(), name_id.to_string(), email.to_string()])
            .collect();
        let out = tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            scaikey_testkit::tools::run_python_script("saml_idp.py", &a, &[])
        })
        .await
        .unwrap()
        .unwrap();
        serde_json::from_str(out.trim()).unwrap()
    }

    /// Posts the IdP's answer to the ACS (as the IdP's auto-posting page would) and follows to
    /// the end in `b`: the relying party's parameters, or a page.
    async fn post(&self, b: &mut Browser, answer: &Value) -> Result<HashMap<String, String>, (u16, String)> {
        let acs = answer["acs"].as_str().unwrap();
        assert_eq!(acs, format!("{}/saml/{}/acs", self.app.issuer, self.idp));
        let form = [
            ("SAMLResponse", answer["SAMLResponse"].as_str().unwrap()),
            ("RelayState", answer["RelayState"].as_str().unwrap()),
        ];
        let mut r = b.post(acs, &form).await.unwrap();
        loop {
            if !r.status().is_redirection() {
                let s = r.status().as_u16();
                return Err((s, r.text().await.unwrap()));
            }
            let next = location(&r).unwrap();
            if next.starts_with(RP_REDIRECT) {
                return Ok(serde_urlencoded::from_str(next.split_once('?').unwrap().1).unwrap());
            }
            r = b.get(&next).await.unwrap();
        }
    }

    async fn redeem(&self, code: &str) -> Value {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        let r = self.app.token_request(Some((&self.client_id, &self.secret)), &form).await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        jwt_parts(r.body["id_token"].as_str().unwrap()).unwrap().1
    }

    async fn users_named(&self, email: &str) -> Vec<Value> {
        let q = serde_urlencoded::to_string([("tenant_id", self.tenant.as_str()), ("search", email)]).unwrap();
        self.admin.get(&format!("/api/v1/admin/users?{q}")).await.unwrap().body["items"].as_array().unwrap().clone()
    }

    async fn refused(&self, reason: &str) -> bool {
        for _ in 0..30 {
            let r = self.admin.get("/api/v1/admin/audit?action=auth.login&per_page=100").await.unwrap();
            let hit = r.body["items"].as_array().unwrap().iter().any(|e| {
                e["result"] == "failure" && e["details"]["reason"].as_str().is_some_and(|m| m.contains(reason))
            });
            if hit {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }
}

#[tokio::test]
async fn saml_sign_in_through_pysaml2() {
    let w = world().await;
    // ScaiKey's SP metadata: entity ID = the metadata URL, the ACS, signed assertions wanted.
    let md = reqwest::get(format!("{}/saml/{}/metadata", w.app.base_url, w.idp)).await.unwrap();
    assert_eq!(md.headers()["content-type"], "application/samlmetadata+xml");
    let xml = md.text().await.unwrap();
    assert!(xml.contains(&format!("entityID=\"{}/saml/{}/metadata\"", w.app.issuer, w.idp)), "{xml}");
    assert!(xml.contains(&format!("Location=\"{}/saml/{}/acs\"", w.app.issuer, w.idp)), "{xml}");

    // First sign-in (the assertion signed): a user is created with the asserted profile.
    let mut b = Browser::new(&w.app.base_url).unwrap();
    let authn = w.start(&mut b).await;
    let answer = w.idp_answer("assertion", &authn, "kim-7f3a", "kim@corp.example").await;
    let p = w.post(&mut b, &answer).await.unwrap();
    assert_eq!(p["state"], "rp-state");
    let claims = w.redeem(&p["code"]).await;
    assert_eq!(
        (claims["email"].as_str(), claims["given_name"].as_str(), claims["email_verified"].as_bool()),
        (Some("kim@corp.example"), Some("Kim"), Some(true))
    );
    let kim = claims["sub"].as_str().unwrap().to_string();
    let users = w.users_named("kim@corp.example").await;
    assert_eq!((users.len(), users[0]["custom_attributes"].clone()), (1, json!({"department": "R&D"})));

    // The same response again: refused (its sign-in is used up), nothing new.
    let again = w.post(&mut Browser::new(&w.app.base_url).unwrap(), &answer).await.unwrap_err();
    assert_eq!(again.0, 400);

    // The response signed, then both: the same user through the link.
    for mode in ["response", "both"] {
        let mut b = Browser::new(&w.app.base_url).unwrap();
        let authn = w.start(&mut b).await;
        let answer = w.idp_answer(mode, &authn, "kim-7f3a", "kim@corp.example").await;
        let p = w.post(&mut b, &answer).await.unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        assert_eq!(w.redeem(&p["code"]).await["sub"].as_str(), Some(kim.as_str()), "{mode}");
    }

    // Forgeries: an error page each, nothing created, the reason audited.
    for (mode, name_id, email) in [
        ("unsigned", "eve-1", "eve@corp.example"),
        ("tampered", "eve-2", "eve@corp.example"),
        ("idp-initiated", "eve-3", "eve@corp.example"),
        ("audience", "eve-4", "eve@corp.example"),
    ] {
        let mut b = Browser::new(&w.app.base_url).unwrap();
        let authn = w.start(&mut b).await;
        let answer = w.idp_answer(mode, &authn, name_id, email).await;
        let (status, html) = w.post(&mut b, &answer).await.expect_err(mode);
        assert!(status == 400 && html.contains("Signing in through Corp ADFS failed"), "{mode}: {status} {html}");
    }
    assert!(w.users_named("eve@corp.example").await.is_empty());
    assert!(w.users_named("mallory@evil.example").await.is_empty());
    for reason in ["must be signed", "InResponseTo", "AudienceRequirement"] {
        assert!(w.refused(reason).await, "{reason}");
    }

    // Signature wrapping: only what the signature covers is read, so the forged assertion
    // never signs anyone in (the signed one may, as itself).
    let mut b = Browser::new(&w.app.base_url).unwrap();
    let authn = w.start(&mut b).await;
    let answer = w.idp_answer("wrapped", &authn, "kim-7f3a", "kim@corp.example").await;
    if let Ok(p) = w.post(&mut b, &answer).await {
        let claims = w.redeem(&p["code"]).await;
        assert_eq!((claims["sub"].as_str(), claims["email"].as_str()), (Some(kim.as_str()), Some("kim@corp.example")));
    }
    assert!(w.users_named("mallory@evil.example").await.is_empty(), "the wrapped assertion was read");

    // A continue URL replayed or used in another browser: an error page.
    let mut b = Browser::new(&w.app.base_url).unwrap();
    let authn = w.start(&mut b).await;
    let answer = w.idp_answer("assertion", &authn, "kim-7f3a", "kim@corp.example").await;
    let form = [
        ("SAMLResponse", answer["SAMLResponse"].as_str().unwrap()),
        ("RelayState", answer["RelayState"].as_str().unwrap()),
    ];
    let r = b.post(answer["acs"].as_str().unwrap(), &form).await.unwrap();
    let cont = location(&r).unwrap();
    assert!(cont.starts_with(&format!("/saml/{}/continue?h=", w.idp)), "{cont}");
    let mut other = Browser::new(&w.app.base_url).unwrap();
    assert_eq!(other.get(&cont).await.unwrap().status(), 400);
    assert_eq!(b.get(&cont).await.unwrap().status(), 400, "used up by the other browser's try");
    assert!(w.refused("callback in another browser").await);

    // Metadata of something that is not a SAML IdP: 404.
    let r = reqwest::get(format!("{}/saml/idp_01HZY3K7Q8W9E2R4T6Y8V0A2B4/metadata", w.app.base_url)).await.unwrap();
    assert_eq!(r.status(), 404);
}

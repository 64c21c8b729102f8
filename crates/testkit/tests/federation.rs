//! Identity providers and MCP agents end to end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_testkit::TestApp;
use serde_json::{Value, json};

/// A self-signed certificate made with `openssl req -x509` for these tests.
const CERT: &str = include_str!("../../domain/tests/fixtures/saml-idp.pem");

#[tokio::test]
async fn oidc_and_saml_providers_with_a_sealed_secret() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Fed"})).await.unwrap().id();
    let secret = "upstream-client-secret-123";
    let oidc = |extra: Value| {
        let mut b = json!({"name": "Google", "protocol": "OIDC", "tenant_id": t, "issuer": "https://accounts.google.com", "client_id": "abc.apps"});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    for (extra, loc) in [
        (json!({"issuer": "http://accounts.google.com"}), "body.issuer"),
        (json!({"client_id": null}), "body.client_id"),
        (json!({"scopes": ["profile"]}), "body.scopes"),
        (json!({"sso_url": "https://x.example/sso"}), "body.sso_url"),
        (json!({"protocol": "LDAP"}), "body.protocol"),
    ] {
        let r = admin.post("/api/v1/admin/identity-providers", oidc(extra.clone())).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{extra}: {}", r.body);
    }
    let r = admin.post("/api/v1/admin/identity-providers", oidc(json!({"client_secret": secret}))).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(id.starts_with("idp_"));
    assert_eq!(
        (r.body["client_secret_set"].as_bool(), r.body["scopes"].clone()),
        (Some(true), json!(["openid", "profile", "email"]))
    );
    assert!(!r.body.to_string().contains(secret), "the secret is never returned");
    assert!(
        !admin.get(&format!("/api/v1/admin/identity-providers/{id}")).await.unwrap().body.to_string().contains(secret)
    );

    // Stored sealed: not in the row, not in the audit log; only the master key opens it.
    let mut conn = app.db.connect().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        client_secret_enc: Vec<u8>,
    }
    let row: Sealed =
        diesel::sql_query("SELECT client_secret_enc FROM identity_providers").get_result(&mut conn).await.unwrap();
    assert!(!row.client_secret_enc.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let key = scaikey_crypto::master::MasterKey::from_base64(&app.master_key).unwrap();
    assert_eq!(key.open(&row.client_secret_enc, id.as_bytes()).unwrap(), secret.as_bytes());
    let stranger =
        scaikey_crypto::master::MasterKey::from_base64(&scaikey_crypto::master::MasterKey::generate_base64().unwrap())
            .unwrap();
    assert!(stranger.open(&row.client_secret_enc, id.as_bytes()).is_err());
    #[derive(diesel::QueryableByName)]
    struct Hits {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let hits: Hits =
        diesel::sql_query("SELECT count(*) AS n FROM audit_events a WHERE strpos(row_to_json(a)::text, $1) > 0")
            .bind::<diesel::sql_types::Text, _>(secret)
            .get_result(&mut conn)
            .await
            .unwrap();
    assert_eq!(hits.n, 0);

    // PATCH: null clears the secret; the protocol never changes.
    let p = admin
        .patch(&format!("/api/v1/admin/identity-providers/{id}"), json!({"client_secret": null, "enabled": false}))
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.body["client_secret_set"].as_bool(), p.body["enabled"].as_bool()),
        (200, Some(false), Some(false))
    );
    let p = admin.patch(&format!("/api/v1/admin/identity-providers/{id}"), json!({"protocol": "SAML"})).await.unwrap();
    assert_eq!((p.status, p.first_loc().as_str()), (422, "body.protocol"));

    // SAML: the certificate must parse.
    let saml = json!({"name": "Okta", "protocol": "SAML", "tenant_id": t, "entity_id": "http://www.okta.com/exk1", "sso_url": "https://acme.okta.com/sso", "certificate": CERT});
    let r = admin.post("/api/v1/admin/identity-providers", saml.clone()).await.unwrap();
    assert_eq!((r.status, r.body["protocol"].as_str()), (201, Some("SAML")), "{}", r.body);
    let mut bad = saml.clone();
    bad["certificate"] = json!("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----");
    let r = admin.post("/api/v1/admin/identity-providers", bad).await.unwrap();
    assert_eq!((r.status, r.first_loc().as_str()), (422, "body.certificate"));
    let mut no_url = saml.clone();
    no_url.as_object_mut().unwrap().remove("sso_url");
    assert_eq!(admin.post("/api/v1/admin/identity-providers", no_url).await.unwrap().first_loc(), "body.sso_url");

    assert_eq!(admin.get("/api/v1/admin/identity-providers").await.unwrap().body["pagination"]["total"], 2);
    assert_eq!(admin.delete(&format!("/api/v1/admin/identity-providers/{id}")).await.unwrap().status, 204);
    assert_eq!(admin.get(&format!("/api/v1/admin/identity-providers/{id}")).await.unwrap().status, 404);
}

#[tokio::test]
async fn agents_within_reach() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t1 = admin.post("/api/v1/admin/tenants", json!({"name": "A1"})).await.unwrap().id();
    let t2 = admin.post("/api/v1/admin/tenants", json!({"name": "A2"})).await.unwrap().id();
    let ta = app.user_with_roles("ta@agents.test", &["tenant_admin"], Some(&t1)).await.unwrap();
    let r = ta
        .post("/api/v1/admin/agents", json!({"name": "Researcher", "allowed_tools": ["web.search", "fs:read"], "allowed_scopes": ["openid"], "rate_limit_rpm": 60}))
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body["tenant_id"].as_str(), r.body["rate_limit_rpm"].as_i64()),
        (201, Some(t1.as_str()), Some(60)),
        "{}",
        r.body
    );
    let id = r.id();
    assert!(id.starts_with("agt_"));
    for (body, loc) in [
        (json!({"name": "x", "rate_limit_rpm": 0}), "body.rate_limit_rpm"),
        (json!({"name": "x", "allowed_tools": ["rm -rf /"]}), "body.allowed_tools.0"),
        (json!({"name": "x", "status": "sleeping"}), "body.status"),
        (json!({"allowed_tools": []}), "body.name"),
    ] {
        let r = ta.post("/api/v1/admin/agents", body.clone()).await.unwrap();
        assert_eq!((r.status, r.first_loc()), (422, loc.to_string()), "{body}");
    }
    let p = ta
        .patch(&format!("/api/v1/admin/agents/{id}"), json!({"rate_limit_rpm": null, "status": "suspended"}))
        .await
        .unwrap();
    assert_eq!(
        (p.status, &p.body["rate_limit_rpm"], p.body["status"].as_str()),
        (200, &json!(null), Some("suspended"))
    );
    assert_eq!(ta.post("/api/v1/admin/agents", json!({"name": "Theirs", "tenant_id": t2})).await.unwrap().status, 403);
    let other = admin.post("/api/v1/admin/agents", json!({"name": "Other", "tenant_id": t2})).await.unwrap().id();
    assert_eq!(ta.get(&format!("/api/v1/admin/agents/{other}")).await.unwrap().status, 404);
    assert_eq!(ta.delete(&format!("/api/v1/admin/agents/{other}")).await.unwrap().status, 404);
    assert_eq!(ta.get("/api/v1/admin/agents").await.unwrap().body["pagination"]["total"], 1);
    assert_eq!(
        admin.get(&format!("/api/v1/admin/agents?tenant_id={t2}")).await.unwrap().body["pagination"]["total"],
        1
    );
    assert_eq!(ta.delete(&format!("/api/v1/admin/agents/{id}")).await.unwrap().status, 204);
}

//! Token exchange (RFC 8693, contract §12) end to end: a gateway turns a person's token into one
//! for a downstream API (same subject, narrowed scope, the API as audience, `act` naming the
//! gateway), the API exchanges that again with its own token as actor (nested `act`), and
//! exchanges are refused for clients not allowed to, tokens meant for someone else, wider
//! scopes, foreign resources and revoked sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::signin::SignIn;
use scaikey_testkit::{ApiClient, TestApp, jwt_parts};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const ORDERS: &str = "https://orders.example";
const BILLING: &str = "https://billing.example";

async fn application(admin: &ApiClient, body: Value) -> (String, String) {
    let r = admin.post("/api/v1/admin/applications", body).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    (r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string())
}

async fn exchange(app: &TestApp, client: &(String, String), extra: &[(&str, &str)]) -> scaikey_testkit::Resp {
    let mut form = vec![("grant_type", TE), ("subject_token_type", AT)];
    form.extend_from_slice(extra);
    app.token_request(Some((&client.0, &client.1)), &form).await.unwrap()
}

#[tokio::test]
async fn tokens_are_exchanged_down_a_chain_and_refused_when_not_meant_for_the_client() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let ana = admin
        .post(
            "/api/v1/admin/users",
            json!({"email": "ana@acme.example", "password": "Ana-Exchange-1", "tenant_id": tenant}),
        )
        .await
        .unwrap()
        .id();
    let gateway = application(
        &admin,
        json!({"name": "Gateway", "application_type": "WEB", "scope": "TENANT", "tenant_id": tenant, "first_party": true,
               "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email", "orders:read", "orders:write"],
               "grant_types": ["authorization_code", TE], "token_exchange_allowed": true, "allowed_resources": [ORDERS]}),
    )
    .await;
    let orders = application(
        &admin,
        json!({"name": "Orders API", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": tenant,
               "allowed_scopes": ["orders:read"], "grant_types": ["client_credentials", TE],
               "token_exchange_allowed": true, "allowed_resources": [ORDERS, BILLING]}),
    )
    .await;
    let plain = application(
        &admin,
        json!({"name": "Plain", "application_type": "SERVICE", "scope": "TENANT", "tenant_id": tenant,
               "allowed_scopes": ["orders:read"], "grant_types": ["client_credentials"]}),
    )
    .await;

    let signed_in = app
        .sign_in_with_code(&SignIn {
            client_id: &gateway.0,
            client_secret: Some(&gateway.1),
            redirect_uri: REDIRECT,
            scope: "openid email orders:read",
            resource: None,
            email: "ana@acme.example",
            password: "Ana-Exchange-1",
        })
        .await
        .unwrap();
    let ana_token = signed_in["access_token"].as_str().unwrap().to_string();

    // The gateway exchanges Ana's token for one the orders API accepts.
    let r = exchange(&app, &gateway, &[("subject_token", &ana_token), ("resource", ORDERS), ("scope", "orders:read")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["issued_token_type"], AT);
    assert_eq!(r.body["token_type"], "Bearer");
    let first = r.body["access_token"].as_str().unwrap().to_string();
    let (_, c) = jwt_parts(&first).unwrap();
    assert_eq!(c["sub"], ana.as_str());
    assert_eq!(c["aud"], ORDERS);
    assert_eq!(c["scope"], "orders:read");
    assert_eq!(c["act"], json!({"sub": gateway.0, "client_id": gateway.0}));

    // The orders API exchanges it again for billing, acting with its own token: a nested act.
    let own = app.token_request(Some((&orders.0, &orders.1)), &[("grant_type", "client_credentials")]).await.unwrap();
    let own = own.body["access_token"].as_str().unwrap().to_string();
    let r = exchange(
        &app,
        &orders,
        &[("subject_token", &first), ("actor_token", &own), ("actor_token_type", AT), ("audience", BILLING)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, c) = jwt_parts(r.body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(c["sub"], ana.as_str());
    assert_eq!(c["aud"], BILLING);
    assert_eq!(c["scope"], "orders:read");
    assert_eq!(c["act"]["sub"], orders.0.as_str());
    assert_eq!(c["act"]["act"]["sub"], gateway.0.as_str());
    assert!(c["exp"].as_i64().unwrap() <= jwt_parts(&ana_token).unwrap().1["exp"].as_i64().unwrap());

    // Refusals.
    let r = exchange(&app, &plain, &[("subject_token", &ana_token)]).await;
    assert_eq!(r.body["error"], "unauthorized_client", "{}", r.body);
    let plain_token =
        app.token_request(Some((&plain.0, &plain.1)), &[("grant_type", "client_credentials")]).await.unwrap();
    let plain_token = plain_token.body["access_token"].as_str().unwrap().to_string();
    let r = exchange(&app, &gateway, &[("subject_token", &plain_token), ("resource", ORDERS)]).await;
    assert_eq!(r.body["error"], "invalid_grant", "someone else's token: {}", r.body);
    let r = exchange(&app, &gateway, &[("subject_token", &ana_token), ("scope", "orders:write")]).await;
    assert_eq!(r.body["error"], "invalid_scope", "wider than the subject token: {}", r.body);
    let r = exchange(&app, &gateway, &[("subject_token", &ana_token), ("resource", BILLING)]).await;
    assert_eq!(r.body["error"], "invalid_target", "{}", r.body);
    let r = exchange(&app, &gateway, &[("subject_token", "not-a-token")]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    let r = app
        .token_request(
            Some((&gateway.0, &gateway.1)),
            &[("grant_type", TE), ("subject_token", &ana_token), ("subject_token_type", "urn:x")],
        )
        .await
        .unwrap();
    assert_eq!(r.body["error"], "invalid_request", "{}", r.body);

    // Once Ana's session is revoked, neither her token nor the exchanged one can be exchanged.
    let sid = jwt_parts(&ana_token).unwrap().1["sid"].as_str().unwrap().to_string();
    let r = admin.post(&format!("/api/v1/admin/sessions/{sid}/revoke"), json!({})).await.unwrap();
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
    let r = exchange(&app, &gateway, &[("subject_token", &ana_token), ("resource", ORDERS)]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
    let r = exchange(&app, &orders, &[("subject_token", &first), ("audience", BILLING)]).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);

    // Audited: the successes with the chain, the refusals with their error.
    let ok = admin.get("/api/v1/admin/audit?action=auth.token_exchange&result=success").await.unwrap();
    assert_eq!(ok.body["pagination"]["total"], 2, "{}", ok.body);
    let failed = admin.get("/api/v1/admin/audit?action=auth.token_exchange&result=failure").await.unwrap();
    assert!(failed.body["pagination"]["total"].as_i64().unwrap() >= 6, "{}", failed.body);
}

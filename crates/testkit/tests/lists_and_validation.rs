//! The admin API as a whole: `search` on every list (literal, case-insensitive), every
//! validation problem in one 422, and the dashboard reading the caller's own writes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ApiClient, TestApp};
use serde_json::{Value, json};

/// Names with the bytes a LIKE pattern or a careless query treats specially.
const ODD: [&str; 6] = ["50% off_deal", "500 offer", "it's \"quoted\"", "back\\slash", "Ünïcødé ÆØ", "plain"];

async fn names_found(admin: &ApiClient, list: &str, term: &str) -> Vec<String> {
    let q = serde_urlencoded::to_string([("search", term), ("per_page", "100")]).unwrap();
    let r = admin.get(&format!("{list}?{q}")).await.unwrap();
    assert_eq!(r.status, 200, "{list} {term:?}: {}", r.body);
    let mut names: Vec<String> =
        r.body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(r.body["pagination"]["total"], names.len(), "{list} {term:?}");
    names
}

#[tokio::test]
async fn every_list_searches_literally_and_case_insensitively() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Search Co"})).await.unwrap().id();
    for (i, name) in ODD.iter().enumerate() {
        let made = [
            admin.post("/api/v1/admin/agents", json!({"name": name, "tenant_id": t})).await.unwrap(),
            admin
                .post(
                    "/api/v1/admin/identity-providers",
                    json!({"name": name, "tenant_id": t, "protocol": "OIDC", "issuer": format!("https://idp{i}.example.com"), "client_id": "scaikey"}),
                )
                .await
                .unwrap(),
            admin
                .post(
                    "/api/v1/admin/registration-requests",
                    json!({"scope": "TENANT", "tenant_id": t, "name": name, "application_type": "SERVICE", "contact_email": format!("c{i}@x.example")}),
                )
                .await
                .unwrap(),
            admin.post("/api/v1/admin/groups", json!({"name": name, "tenant_id": t})).await.unwrap(),
            admin.post("/api/v1/admin/applications", json!({"name": name, "tenant_id": t, "application_type": "SERVICE", "scope": "TENANT"})).await.unwrap(),
        ];
        for r in made {
            assert_eq!(r.status, 201, "{name}: {}", r.body);
        }
    }
    let lists = [
        "/api/v1/admin/agents",
        "/api/v1/admin/identity-providers",
        "/api/v1/admin/registration-requests",
        "/api/v1/admin/groups",
        "/api/v1/admin/applications",
    ];
    for list in lists {
        assert_eq!(names_found(&admin, list, "%").await, ["50% off_deal"], "{list}");
        // Application search also matches client IDs, which all read `ck_…`.
        let underscore: Vec<String> = if list.ends_with("applications") {
            let mut all: Vec<String> = ODD.iter().map(|s| (*s).to_string()).collect();
            all.sort();
            all
        } else {
            vec!["50% off_deal".into()]
        };
        assert_eq!(names_found(&admin, list, "_").await, underscore, "{list}");
        assert_eq!(names_found(&admin, list, "0% OFF").await, ["50% off_deal"], "{list}");
        // Random client IDs may contain "50" too: those applications match by client ID.
        let mut fifty = vec!["50% off_deal".to_string(), "500 offer".to_string()];
        if list.ends_with("applications") {
            let all = admin.get(&format!("{list}?per_page=100")).await.unwrap();
            for a in all.body["items"].as_array().unwrap() {
                let (name, cid) = (a["name"].as_str().unwrap(), a["client_id"].as_str().unwrap());
                if !name.contains("50") && cid.to_lowercase().contains("50") {
                    fifty.push(name.to_string());
                }
            }
            fifty.sort();
        }
        assert_eq!(names_found(&admin, list, "50").await, fifty, "{list}");
        assert_eq!(names_found(&admin, list, "\\").await, ["back\\slash"], "{list}");
        assert_eq!(names_found(&admin, list, "'s \"").await, ["it's \"quoted\""], "{list}");
        assert_eq!(names_found(&admin, list, "ünïcødé æø").await, ["Ünïcødé ÆØ"], "{list}");
        assert_eq!(names_found(&admin, list, "nothing like it").await, Vec::<String>::new(), "{list}");
    }
    // The other lists take the same odd terms without error.
    for list in ["/api/v1/admin/partners", "/api/v1/admin/tenants", "/api/v1/admin/users"] {
        for term in ["%", "_", "\\", "'\"", "ünï"] {
            let q = serde_urlencoded::to_string([("search", term)]).unwrap();
            assert_eq!(admin.get(&format!("{list}?{q}")).await.unwrap().status, 200, "{list} {term:?}");
        }
    }
    // Search within reach: a tenant admin of another tenant finds none of them.
    let other = admin.post("/api/v1/admin/tenants", json!({"name": "Elsewhere"})).await.unwrap().id();
    let outsider = app.user_with_roles("ta@elsewhere.example", &["tenant_admin"], Some(&other)).await.unwrap();
    for list in ["/api/v1/admin/agents", "/api/v1/admin/identity-providers", "/api/v1/admin/groups"] {
        assert_eq!(names_found(&outsider, list, "50").await, Vec::<String>::new(), "{list}");
    }
}

#[tokio::test]
async fn a_422_lists_every_failing_field_of_every_resource() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Valid"})).await.unwrap().id();
    let cases: [(&str, Value, &[&str]); 10] = [
        ("/api/v1/admin/partners", json!({"name": "", "slug": "Bad Slug!"}), &["body.name", "body.slug"]),
        // Wrong JSON types are reported for every field too, not only the first.
        (
            "/api/v1/admin/partners",
            json!({"name": 5, "slug": ["x"], "max_tenants": "many"}),
            &["body.name", "body.slug", "body.max_tenants"],
        ),
        (
            "/api/v1/admin/tenants",
            json!({"name": " ", "slug": "UPPER", "contact_email": "nope"}),
            &["body.name", "body.slug", "body.contact_email"],
        ),
        (
            "/api/v1/admin/users",
            // The password policy is the tenant's: checked once the rest of the input is valid.
            json!({"email": "not-an-email", "password": "short", "tenant_id": t, "roles": ["emperor"], "first_name": ""}),
            &["body.email", "body.first_name", "body.roles"],
        ),
        ("/api/v1/admin/groups", json!({"name": "", "tenant_id": "tnt_bad"}), &["body.name", "body.tenant_id"]),
        (
            "/api/v1/admin/applications",
            json!({"name": "", "application_type": "ROBOT", "scope": "TENANT", "tenant_id": t, "token_lifetime": 1}),
            &["body.name", "body.application_type", "body.token_lifetime"],
        ),
        (
            "/api/v1/admin/registration-requests",
            json!({"scope": "TENANT", "tenant_id": t, "name": "", "application_type": "SERVICE", "contact_email": "x"}),
            &["body.name", "body.contact_email"],
        ),
        (
            "/api/v1/admin/identity-providers",
            json!({"name": "", "tenant_id": t, "protocol": "OIDC", "issuer": "http://insecure.example", "client_id": "c"}),
            &["body.name", "body.issuer"],
        ),
        (
            "/api/v1/admin/agents",
            json!({"name": "", "tenant_id": t, "allowed_tools": ["bad tool"], "rate_limit_rpm": 0}),
            &["body.name", "body.allowed_tools.0", "body.rate_limit_rpm"],
        ),
        (
            "/api/v1/admin/agents",
            json!({"name": [], "tenant_id": t, "rate_limit_rpm": "fast"}),
            &["body.name", "body.rate_limit_rpm"],
        ),
    ];
    for (path, body, expected) in cases {
        let r = admin.post(path, body.clone()).await.unwrap();
        assert_eq!(r.status, 422, "{path} {body}: {}", r.body);
        let mut got = r.locs();
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{path} {body}: {}", r.body);
    }
    // Nothing was created by any of them.
    assert_eq!(admin.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"], 0);
}

#[tokio::test]
async fn the_dashboard_shows_the_callers_own_writes_at_once() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let before = admin.get("/api/v1/admin/dashboard/stats").await.unwrap();
    assert_eq!(before.status, 200, "{}", before.body);
    let p = admin.post("/api/v1/admin/partners", json!({"name": "Fresh"})).await.unwrap();
    assert_eq!(p.status, 201);
    let after = admin.get("/api/v1/admin/dashboard/stats").await.unwrap();
    assert_eq!(
        after.body["partners"].as_i64().unwrap(),
        before.body["partners"].as_i64().unwrap() + 1,
        "{}",
        after.body
    );
    let t = admin.post("/api/v1/admin/tenants", json!({"name": "Fresh tenant", "partner_id": p.id()})).await.unwrap();
    assert_eq!(t.status, 201);
    let again = admin.get("/api/v1/admin/dashboard/stats").await.unwrap();
    assert_eq!(again.body["tenants"].as_i64().unwrap(), after.body["tenants"].as_i64().unwrap() + 1);
    // A refused write changes nothing and the counts stay as they are.
    assert_eq!(admin.post("/api/v1/admin/partners", json!({"name": ""})).await.unwrap().status, 422);
    assert_eq!(admin.get("/api/v1/admin/dashboard/stats").await.unwrap().body["partners"], again.body["partners"]);
}

#[tokio::test]
async fn json_bodies_must_say_so_and_answers_are_not_cached_or_sniffed() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let http = reqwest::Client::new();
    let token = admin.token().unwrap().to_string();
    let send = |ct: Option<&'static str>| {
        let mut r = http
            .post(format!("{}/api/v1/admin/partners", app.base_url))
            .bearer_auth(&token)
            .body(r#"{"name": "Typed"}"#);
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.send()
    };
    for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let r = send(ct).await.unwrap();
        assert_eq!(r.status().as_u16(), 415, "{ct:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["detail"], "Content-Type must be application/json");
    }
    assert_eq!(admin.get("/api/v1/admin/partners").await.unwrap().body["pagination"]["total"], 0, "nothing stored");
    let r = send(Some("application/json; charset=utf-8")).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let h = r.headers();
    assert_eq!(
        (h["cache-control"].to_str().unwrap(), h["x-content-type-options"].to_str().unwrap()),
        ("no-store", "nosniff")
    );
    // Refusals too; public documents keep their own caching.
    let refused = app.anonymous().get("/api/v1/admin/partners").await.unwrap();
    assert_eq!((refused.status, refused.headers["cache-control"].to_str().unwrap()), (401, "no-store"));
    let jwks = app.anonymous().get("/.well-known/jwks.json").await.unwrap();
    assert_eq!(jwks.headers["cache-control"].to_str().unwrap(), "public, max-age=300");
    assert_eq!(jwks.headers["x-content-type-options"].to_str().unwrap(), "nosniff");
    assert!(jwks.headers.get("strict-transport-security").is_none(), "no HSTS on an http issuer");
}

//! Login throttling end to end (contract §10): a guessing loop against one account is slowed
//! after five failures whether or not the account exists (same answer, same `Retry-After`),
//! the wait holds in a second process on the same database, the hosted login shows it, it is
//! audited as `throttled`; one client IP is capped at thirty failures a minute, and
//! `X-Forwarded-For` counts only from a trusted proxy.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use scaikey_testkit::TestApp;
use scaikey_testkit::signin::{Browser, field};
use serde_json::{Value, json};

const PASSWORD: &str = "Right-Passw0rd-42";

async fn login(base: &str, email: &str, password: &str, forwarded_for: Option<&str>) -> (u16, Option<String>, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("X-Forwarded-For", ip);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn guessing_one_account_is_slowed_alike_whether_it_exists_or_not() {
    let app = TestApp::spawn().await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    let u = admin
        .post("/api/v1/admin/users", json!({"email": "known@acme.example", "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(u.status, 201, "{}", u.body);

    let mut throttled = Vec::new();
    for email in ["known@acme.example", "nobody@acme.example"] {
        for i in 0..5 {
            let (status, _, body) = login(&app.base_url, email, "Wrong-guess-1", None).await;
            assert_eq!((status, &body["detail"]), (401, &json!("Invalid credentials")), "{email} try {i}");
        }
        // The sixth try waits, even with the right password, and says for how long.
        let (status, retry, body) = login(&app.base_url, &email.to_uppercase(), PASSWORD, None).await;
        assert_eq!(status, 429, "{email}: {body}");
        let secs: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=30).contains(&secs), "{secs}");
        throttled.push(body);
    }
    assert_eq!(throttled[0], throttled[1], "known and unknown accounts answer alike");

    // Another process on the same database holds the same wait.
    let sibling = app.second_process().await.unwrap();
    assert_eq!(login(&sibling.base_url, "known@acme.example", PASSWORD, None).await.0, 429);

    // The hosted login shows the wait instead of checking the password.
    let mut b = Browser::new(&app.base_url).unwrap();
    let html = b.get("/account").await.unwrap().text().await.unwrap();
    let csrf = field(&html, "csrf").unwrap();
    let r = b
        .post("/account/login", &[("csrf", &csrf), ("email", "known@acme.example"), ("password", PASSWORD)])
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("Too many failed attempts"));

    // Audited as refused logins with reason `throttled`.
    let start = Instant::now();
    loop {
        let events = admin.get("/api/v1/admin/audit?action=auth.login&result=failure&page_size=100").await.unwrap();
        let reasons: Vec<String> = events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["details"]["reason"].as_str().map(str::to_string))
            .collect();
        if reasons.iter().any(|r| r == "throttled") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "no throttled audit entry in {reasons:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Another account is not held back by these.
    admin
        .post("/api/v1/admin/users", json!({"email": "other@acme.example", "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    assert_eq!(login(&app.base_url, "other@acme.example", PASSWORD, None).await.0, 200);
}

#[tokio::test]
async fn one_client_ip_gets_thirty_failures_a_minute_and_only_a_trusted_proxy_names_it() {
    let app = TestApp::spawn_with(&[("SCAIKEY_TRUSTED_PROXIES", "127.0.0.1/32")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let tenant = admin.post("/api/v1/admin/tenants", json!({"name": "Acme", "slug": "acme"})).await.unwrap().id();
    admin
        .post("/api/v1/admin/users", json!({"email": "real@acme.example", "password": PASSWORD, "tenant_id": tenant}))
        .await
        .unwrap();
    // Thirty failures from one client behind the proxy, each on another account.
    for i in 0..30 {
        let (status, _, _) =
            login(&app.base_url, &format!("spray{i}@acme.example"), "Wrong-guess-1", Some("203.0.113.5")).await;
        assert_eq!(status, 401, "try {i}");
    }
    // That client is now held back for any account; the proxy's other clients are not.
    let (status, retry, _) = login(&app.base_url, "real@acme.example", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(status, 429);
    assert!(retry.unwrap().parse::<u64>().unwrap() <= 60);
    assert_eq!(login(&app.base_url, "real@acme.example", PASSWORD, Some("203.0.113.6")).await.0, 200);
    // A client cannot pick its own address by prepending one: the proxy's last hop counts.
    assert_eq!(login(&app.base_url, "real@acme.example", PASSWORD, Some("198.51.100.1, 203.0.113.5")).await.0, 429);
    // The session records the address the proxy named.
    let sessions = admin.get("/api/v1/admin/sessions").await.unwrap();
    let ips: Vec<&str> = sessions.body["items"].as_array().unwrap().iter().filter_map(|s| s["ip"].as_str()).collect();
    assert!(ips.contains(&"203.0.113.6"), "{ips:?}");

    // Without trusted proxies the header is ignored: every try is the socket's address.
    let plain = TestApp::spawn().await.unwrap();
    for i in 0..30 {
        let fake = format!("192.0.2.{i}");
        let (status, _, _) =
            login(&plain.base_url, &format!("spray{i}@acme.example"), "Wrong-guess-1", Some(&fake)).await;
        assert_eq!(status, 401, "try {i}");
    }
    assert_eq!(login(&plain.base_url, "nobody@acme.example", "x", Some("192.0.2.200")).await.0, 429);
}

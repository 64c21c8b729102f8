//! A real headless Chromium (driven by the pinned playwright-core) against a running ScaiKey:
//! proves the browser tooling of `scaikey_testkit::tools` installs and works.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use scaikey_testkit::{ISSUER, TestApp, tools};
use serde_json::Value;

#[tokio::test]
async fn chromium_renders_the_health_probe_and_the_discovery_document() {
    let app = TestApp::spawn().await.unwrap();
    let shot = tools::artifacts_dir().unwrap().join("browser-smoke.png");
    let _ = std::fs::remove_file(&shot);
    let (base, path) = (app.base_url.clone(), shot.to_str().unwrap().to_string());
    let out = tokio::task::spawn_blocking(move || tools::run_node_script("smoke.js", &[&base, &path], &[]))
        .await
        .unwrap()
        .unwrap();
    let r: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));

    assert!(!r["browser"].as_str().unwrap().is_empty(), "{r}");
    let health = &r["healthz"];
    assert_eq!(health["status"], 200, "{r}");
    assert!(health["content_type"].as_str().unwrap().starts_with("application/json"), "{r}");
    assert!(health["text"].as_str().unwrap().contains(r#""status":"ok""#), "{r}");

    let disco = &r["discovery"];
    assert_eq!(disco["status"], 200, "{r}");
    assert!(disco["content_type"].as_str().unwrap().starts_with("application/json"), "{r}");
    let text = disco["text"].as_str().unwrap();
    assert!(text.contains(&format!(r#""issuer":"{ISSUER}""#)), "{text}");

    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 100, "{} bytes", png.len());
}

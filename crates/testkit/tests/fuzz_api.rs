//! A bounded property-based fuzz of the whole API from its OpenAPI document with a stock tool
//! (schemathesis, pinned in `crates/testkit/py/requirements.lock`): examples, boundary
//! coverage and random inputs for every operation, and not one 5xx allowed (issue 17).
//!
//! It runs as a platform client (a GLOBAL SERVICE application with `admin:read admin:write`),
//! so a generated request that changes the bootstrap admin (MFA disable, password reset) does
//! not cut the fuzzer's own token. Signing-key rotation is left out: an emergency rotation would
//! withdraw the key that signed that token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::process::Command;

use scaikey_testkit::{TestApp, tools};
use serde_json::json;

/// Seconds of fuzzing; the whole test stays around a minute on two cores.
const BUDGET_SECONDS: &str = "45";

#[tokio::test]
async fn no_generated_request_gets_a_server_error() {
    let app = TestApp::spawn_discoverable(&[("SCAIKEY_MAX_REQUESTS_PER_IP", "1024")]).await.unwrap();
    let admin = app.super_admin().await.unwrap();
    let platform = admin
        .post(
            "/api/v1/admin/applications",
            json!({"name": "Fuzzer", "application_type": "SERVICE", "scope": "GLOBAL",
                   "allowed_scopes": ["admin:read", "admin:write"]}),
        )
        .await
        .unwrap();
    assert_eq!(platform.status, 201, "{}", platform.body);
    let token = app
        .token_request(
            Some((platform.body["client_id"].as_str().unwrap(), platform.body["client_secret"].as_str().unwrap())),
            &[("grant_type", "client_credentials"), ("scope", "admin:read admin:write")],
        )
        .await
        .unwrap();
    assert_eq!(token.status, 200, "{}", token.body);
    let bearer = format!("Authorization: Bearer {}", token.body["access_token"].as_str().unwrap());
    let schema = format!("{}/openapi.json", app.base_url);
    let st = tools::python_tool("schemathesis").unwrap();
    // Its cache and reports go to a scratch directory, not the source tree.
    let scratch = std::env::temp_dir().join(format!("scaikey-fuzz-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&scratch).unwrap();
    let cwd = scratch.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(st)
            .current_dir(&cwd)
            .args(["run", &schema, "--checks", "not_a_server_error", "--header", &bearer])
            .args(["--phases", "examples,coverage,fuzzing", "--max-time", BUDGET_SECONDS, "--workers", "1"])
            .args(["--exclude-operation-id", "rotate_signing_keys", "--request-timeout", "10", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // A check that fails (a 5xx) is listed under FAILURES; the tool's own runtime errors (seen
    // once: CPython's AST recursion check inside hypothesis) are under ERRORS and say nothing
    // about ScaiKey, so they are reported but do not fail the test.
    assert!(!text.contains("FAILURES") && !text.contains("Server error"), "schemathesis found server errors:\n{text}");
    if !out.status.success() {
        eprintln!("schemathesis ended with errors of its own:\n{}", &text[text.len().saturating_sub(4000)..]);
    }
    assert!(text.contains("passed"), "{text}");
    std::fs::remove_dir_all(scratch).ok();
}

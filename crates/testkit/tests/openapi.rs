//! The OpenAPI document is one stock tools accept and one that tells the truth: it validates as
//! OpenAPI 3.1, every operation has a unique snake_case `operationId` and a tag and names the
//! answers it can give, and a Python client generated from it (openapi-python-client, no warning
//! allowed) drives a real server, each answer checked against the document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use scaikey_testkit::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, tools};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = tools::artifacts_dir().unwrap().join(format!("openapi-{name}-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The document a running server serves, written to `dir/openapi.json`.
async fn served_document(app: &TestApp, dir: &Path) -> (Value, PathBuf) {
    let r = app.anonymous().get("/openapi.json").await.unwrap();
    assert_eq!(r.status, 200);
    let file = dir.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&r.body).unwrap()).unwrap();
    (r.body, file)
}

fn output(c: &mut Command) -> (bool, String) {
    let out = c.output().unwrap_or_else(|e| panic!("starting {c:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Each operation with its path and method.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((path.clone(), method.to_string(), op));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_document_validates_as_openapi_3_1() {
    let app = TestApp::spawn().await.unwrap();
    let dir = scratch("validate");
    let (doc, file) = served_document(&app, &dir).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let validator = tools::python_tool("openapi-spec-validator").unwrap();
    let (ok, text) = tokio::task::spawn_blocking(move || {
        output(Command::new(validator).args(["--schema", "3.1", "--validation-errors", "all"]).arg(&file))
    })
    .await
    .unwrap();
    assert!(ok && text.contains(": OK"), "openapi-spec-validator refused the document:\n{text}");
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn operations_are_unique_tagged_and_name_their_answers() {
    let app = TestApp::spawn().await.unwrap();
    let doc = app.anonymous().get("/openapi.json").await.unwrap().body;
    let tags: BTreeSet<&str> = doc["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    let responses = &doc["components"]["responses"];
    let mut ids = BTreeSet::new();
    let ops = operations(&doc);
    assert!(ops.len() >= 60, "only {} operations", ops.len());
    for (path, method, op) in &ops {
        let what = format!("{} {path}", method.to_uppercase());
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{what}: no operationId"));
        assert!(
            id.split('_').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
            "{what}: operationId {id} is not snake_case"
        );
        assert!(ids.insert(id), "{what}: operationId {id} is used twice");
        let op_tags = op["tags"].as_array().unwrap_or_else(|| panic!("{what}: no tag"));
        assert!(!op_tags.is_empty(), "{what}: no tag");
        for t in op_tags {
            assert!(tags.contains(t.as_str().unwrap()), "{what}: tag {t} is not declared");
        }
        let answers = op["responses"].as_object().unwrap();
        assert!(answers.keys().any(|s| s.starts_with('2')), "{what}: no success answer");
        for (status, answer) in answers {
            if let Some(r) = answer["$ref"].as_str() {
                let name = r.strip_prefix("#/components/responses/").unwrap();
                assert!(responses[name].is_object(), "{what} {status}: {r} is not defined");
            }
        }
        // Admin API operations share the contract's 401/403; OAuth endpoints answer RFC 6750.
        let bearer = op["security"].as_array().is_some_and(|s| !s.is_empty()) && path.starts_with("/api/");
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let has = |s: &str| answers.contains_key(s);
        if bearer {
            assert!(has("401") && has("403"), "{what}: needs a bearer token but documents no 401/403");
            assert_eq!(answers["401"]["$ref"], "#/components/responses/Unauthorized", "{what}");
        }
        if params.iter().any(|p| p["in"] == "path") {
            assert!(has("404"), "{what}: has a path ID but documents no 404");
        }
        if op["requestBody"]["content"].get("application/json").is_some() {
            assert!(has("413") && has("422"), "{what}: takes JSON but documents no 413/422");
        }
        if params.iter().any(|p| p["in"] == "query") {
            assert!(has("422"), "{what}: has query parameters but documents no 422");
        }
        if path.starts_with("/api/") {
            assert!(has("503"), "{what}: documents no 503");
        }
        if let Some(page) = params.iter().find(|p| p["name"] == "per_page") {
            assert_eq!((page["schema"]["minimum"].as_i64(), page["schema"]["maximum"].as_i64()), (Some(1), Some(100)));
        }
        if method == "delete" && path != "/api/v1/admin/registration-requests/{request_id}" {
            assert!(answers["204"]["content"].is_null(), "{what}: a delete answers 204 without a body");
        }
        if method == "post" && op["responses"].get("201").is_some() {
            assert!(!has("200"), "{what}: documents both 200 and 201");
        }
    }
    // The ID shapes and the enums the server enforces are declared.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["PartnerId"]["pattern"], "^prt_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
    assert_eq!(schemas["Status"]["enum"], serde_json::json!(["active", "suspended"]));
    assert_eq!(schemas["UserCreate"]["properties"]["email"]["format"], "email");
    assert_eq!(schemas["PartnerCreate"]["properties"]["name"]["maxLength"], 255);
    let cancel = &doc["paths"]["/api/v1/admin/registration-requests/{request_id}"]["delete"]["responses"];
    assert_eq!(cancel["200"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/RegistrationOut");
}

#[tokio::test]
async fn a_generated_python_client_drives_the_server() {
    let app = TestApp::spawn().await.unwrap();
    let dir = scratch("client");
    let (_, file) = served_document(&app, &dir).await;
    let generator = tools::python_tool("openapi-python-client").unwrap();
    // The generator formats its output with ruff from the same environment.
    let bin = generator.parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let package = dir.join("scaikey_client");
    let (ok, text) = {
        let (file, package, path) = (file.clone(), package.clone(), path.clone());
        tokio::task::spawn_blocking(move || {
            output(
                Command::new(generator)
                    .args(["generate", "--meta", "none", "--fail-on-warning", "--path"])
                    .arg(&file)
                    .arg("--output-path")
                    .arg(&package)
                    .env("PATH", path)
                    .env("COLUMNS", "200"),
            )
        })
        .await
        .unwrap()
    };
    // A skipped operation or schema is a warning; none is allowed.
    assert!(ok && !text.to_lowercase().contains("warning"), "openapi-python-client:\n{text}");
    let generated = std::fs::read_dir(package.join("api")).unwrap().count();
    assert!(generated >= 14, "only {generated} API modules generated");

    let base = app.base_url.clone();
    let pythonpath = dir.display().to_string();
    let doc = file.display().to_string();
    let out = tokio::task::spawn_blocking(move || {
        tools::run_python_script(
            "openapi_client_smoke.py",
            &[&base, &doc],
            &[
                ("PYTHONPATH", &pythonpath),
                ("SCAIKEY_ADMIN_EMAIL", ADMIN_EMAIL),
                ("SCAIKEY_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ],
        )
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e:#}"));
    let report: Value = serde_json::from_str(out.trim().lines().last().unwrap()).unwrap();
    assert_eq!(report["ok"], true, "{out}");
    assert!(report["swept"].as_u64().unwrap() >= 120, "{out}");
    let answers: Vec<&str> = report["answers"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for seen in ["login:200", "login:401", "create_partner:201", "create_partner:409", "create_partner:422"] {
        assert!(answers.contains(&seen), "{seen} not exercised: {out}");
    }
    for seen in ["list_partners:200", "list_partners:401", "list_partners:403", "get_partner:404"] {
        assert!(answers.contains(&seen), "{seen} not exercised: {out}");
    }
    std::fs::remove_dir_all(dir).ok();
}

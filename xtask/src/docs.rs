//! `cargo xtask docs`: writes `docs/openapi.json` (from `scaikey openapi`) and one Markdown page
//! per tag under `docs/reference/api/`, in the style of the published seed pages. With
//! `--check`, fails when the committed files differ from what would be generated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::Value;

pub fn run(check: bool) -> anyhow::Result<()> {
    let out = crate::cargo()
        .args(["run", "-q", "-p", "scaikey", "--", "openapi"])
        .output()
        .context("running scaikey openapi")?;
    if !out.status.success() {
        bail!("scaikey openapi failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let doc: Value = serde_json::from_slice(&out.stdout).context("parsing the OpenAPI document")?;
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    files.insert(PathBuf::from("docs/openapi.json"), format!("{}\n", serde_json::to_string_pretty(&doc)?));
    for (tag, page) in pages(&doc) {
        files.insert(PathBuf::from(format!("docs/reference/api/{}.md", slug(&tag))), page);
    }
    let root = crate::root();
    let mut stale = Vec::new();
    for (path, content) in &files {
        let full = root.join(path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current != *content {
            stale.push(path.display().to_string());
            if !check {
                if let Some(dir) = full.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&full, content)?;
            }
        }
    }
    // Pages of tags that no longer exist are stale too.
    if let Ok(rd) = std::fs::read_dir(root.join("docs/reference/api")) {
        for e in rd.filter_map(Result::ok) {
            let rel = PathBuf::from("docs/reference/api").join(e.file_name());
            if !files.contains_key(&rel) {
                stale.push(rel.display().to_string());
                if !check {
                    std::fs::remove_file(e.path())?;
                }
            }
        }
    }
    if check && !stale.is_empty() {
        bail!("API docs are stale ({}); run `cargo xtask docs` and commit", stale.join(", "));
    }
    eprintln!("xtask: API docs {}", if stale.is_empty() { "up to date" } else { "regenerated" });
    Ok(())
}

fn slug(tag: &str) -> String {
    tag.to_lowercase().replace(' ', "-")
}

fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// A schema's type in the seed pages' notation: `string`, `string` \| `null`, array of …, links.
fn type_of(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let n = ref_name(r);
        return format!("[`{n}`](#schema-{})", n.to_lowercase());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            return alts.iter().map(type_of).collect::<Vec<_>>().join(" \\| ");
        }
    }
    let one = |t: &str| -> String {
        match t {
            "array" => format!("array of {}", s.get("items").map_or_else(|| "_any_".into(), type_of)),
            "object" => "object".into(),
            other => match s.get("format").and_then(Value::as_str) {
                Some(f) if other == "string" => format!("`string` (`{f}`)"),
                _ => format!("`{other}`"),
            },
        }
    };
    match s.get("type") {
        Some(Value::String(t)) => one(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(" \\| "),
        _ => "_any_".into(),
    }
}

fn collect_refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str).filter(|r| r.starts_with("#/components/schemas/")) {
                out.insert(ref_name(r).to_string());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

fn pages(doc: &Value) -> Vec<(String, String)> {
    let schemas = &doc["components"]["schemas"];
    let mut by_tag: BTreeMap<String, Vec<(String, String, &Value)>> = BTreeMap::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let tag = op["tags"][0].as_str().unwrap_or("Other").to_string();
                by_tag.entry(tag).or_default().push((path.clone(), method.clone(), op));
            }
        }
    }
    let mut out = Vec::new();
    for (tag, mut ops) in by_tag {
        ops.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut md = String::new();
        let _ = writeln!(md, "---\ntitle: {tag} API\npath: reference/api/{}\nstatus: generated\n---\n", slug(&tag));
        let _ = writeln!(md, "# {tag} API\n");
        let n = ops.len();
        let _ =
            writeln!(md, "Reference for the `{tag}` endpoint group — {n} endpoint{}.\n", if n == 1 { "" } else { "s" });
        let _ = writeln!(md, "Generated from the OpenAPI document by `cargo xtask docs`; do not edit by hand.\n");
        let _ = writeln!(
            md,
            "## Authentication\n\nEndpoints marked **Bearer** require `Authorization: Bearer <jwt>`: a user token from `POST /api/v1/auth/login` with an admin role, or a platform `client_credentials` token with `admin:read` (reads) or `admin:write` (writes).\n"
        );
        let _ = writeln!(md, "## Endpoints\n");
        let mut refs = BTreeSet::new();
        for (path, method, op) in &ops {
            collect_refs(op, &mut refs);
            for resp in op["responses"].as_object().into_iter().flatten().map(|(_, r)| r) {
                if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
                    collect_refs(&doc["components"]["responses"][ref_name(r)], &mut refs);
                }
            }
            let _ = writeln!(md, "### **{}** `{path}`\n", method.to_uppercase());
            if let Some(s) = op["summary"].as_str() {
                let _ = writeln!(md, "_{}_\n", s.trim_end_matches('.'));
            }
            if let Some(d) = op["description"].as_str() {
                let _ = writeln!(md, "{d}\n");
            }
            let bearer = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            let _ = writeln!(md, "**Auth:** {}\n", if bearer { "Bearer" } else { "none" });
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                let _ = writeln!(
                    md,
                    "**Parameters:**\n\n| Name | In | Required | Type | Description |\n|---|---|---|---|---|"
                );
                for p in params {
                    let _ = writeln!(
                        md,
                        "| `{}` | {} | {} | {} | {} |",
                        p["name"].as_str().unwrap_or_default(),
                        p["in"].as_str().unwrap_or_default(),
                        if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" },
                        type_of(&p["schema"]),
                        cell(p["description"].as_str().unwrap_or_default())
                    );
                }
                md.push('\n');
            }
            if let Some(body) = op.get("requestBody") {
                let req = if body["required"].as_bool().unwrap_or(false) { "Required." } else { "Optional." };
                let _ = writeln!(md, "**Request body:**\n\n{req}\n");
                for (ct, media) in body["content"].as_object().into_iter().flatten() {
                    let _ = writeln!(md, "- `{ct}` → {}", type_of(&media["schema"]));
                }
                md.push('\n');
            }
            let _ = writeln!(md, "**Responses:**\n\n| Status | Body |\n|---|---|");
            for (status, resp) in op["responses"].as_object().into_iter().flatten() {
                // A reusable answer (`#/components/responses/…`) reads like an inline one.
                let resp = match resp.get("$ref").and_then(Value::as_str) {
                    Some(r) => &doc["components"]["responses"][ref_name(r)],
                    None => resp,
                };
                let body = resp["content"]
                    .as_object()
                    .and_then(|c| c.iter().next())
                    .map(|(ct, m)| format!("`{ct}` → {}", type_of(&m["schema"])))
                    .unwrap_or_else(|| cell(resp["description"].as_str().unwrap_or_default()));
                let _ = writeln!(md, "| `{status}` | {body} |");
            }
            let _ = writeln!(md, "\n---\n");
        }
        // Schemas referenced here, and the ones they reference in turn.
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = refs.into_iter().collect();
        while let Some(name) = todo.pop() {
            if seen.insert(name.clone()) {
                let mut more = BTreeSet::new();
                collect_refs(&schemas[&name], &mut more);
                todo.extend(more);
            }
        }
        if !seen.is_empty() {
            let _ = writeln!(md, "## Schemas\n");
            for name in &seen {
                let s = &schemas[name];
                let _ = writeln!(md, "### `{name}`\n");
                if let Some(d) = s["description"].as_str() {
                    let _ = writeln!(md, "{d}\n");
                }
                let required: BTreeSet<&str> =
                    s["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                if let Some(props) = s["properties"].as_object() {
                    let _ = writeln!(md, "| Field | Type | Required | Description |\n|---|---|---|---|");
                    for (field, p) in props {
                        let _ = writeln!(
                            md,
                            "| `{field}` | {} | {} | {} |",
                            type_of(p),
                            if required.contains(field.as_str()) { "yes" } else { "no" },
                            cell(p["description"].as_str().unwrap_or_default())
                        );
                    }
                    md.push('\n');
                }
            }
        }
        out.push((tag, md.trim_end().to_string() + "\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_read_like_the_seed_pages() {
        assert_eq!(type_of(&json!({"type": "string"})), "`string`");
        assert_eq!(type_of(&json!({"type": ["string", "null"]})), "`string` \\| `null`");
        assert_eq!(type_of(&json!({"$ref": "#/components/schemas/PartnerOut"})), "[`PartnerOut`](#schema-partnerout)");
        assert_eq!(type_of(&json!({"type": "array", "items": {"type": "string"}})), "array of `string`");
        assert_eq!(type_of(&json!({"type": "string", "format": "date-time"})), "`string` (`date-time`)");
        assert_eq!(type_of(&json!({})), "_any_");
    }
}

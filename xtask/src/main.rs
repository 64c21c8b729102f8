//! Project automation, run as `cargo xtask <command>`:
//!
//! - `serve [--release]` — start ScaiKey on a local PostgreSQL (a private cluster under
//!   `target/pg` when none is configured or reachable);
//! - `test` — run the whole test suite against PostgreSQL (same database rule);
//! - `ci` — what CI runs: fmt check, clippy `-D warnings`, the domain purity check, the docs
//!   freshness check, then `test`;
//! - `docs [--check]` — regenerate (or check) `docs/openapi.json` and `docs/reference/api/`;
//! - `bench [--smoke]` — run the benchmarks in release (`--smoke`: a few iterations in the dev
//!   profile, which CI runs to prove they start and print; never a timing assertion).

mod docs;
mod pg;

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(args.iter().any(|a| a == "--release")),
        Some("test") => test(&args[1..]),
        Some("ci") => ci(),
        Some("docs") => docs::run(args.iter().any(|a| a == "--check")),
        Some("bench") => bench(args.iter().any(|a| a == "--smoke")),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [--release] | test [-- cargo test args] | ci | docs [--check] | bench [--smoke]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn root() -> std::path::PathBuf {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), std::path::Path::to_path_buf)
}

pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

pub(crate) fn run(mut c: Command) -> anyhow::Result<()> {
    eprintln!("xtask: running {c:?}");
    let status = c.status().with_context(|| format!("starting {c:?}"))?;
    if !status.success() {
        bail!("{c:?} failed with {status}");
    }
    Ok(())
}

fn serve(release: bool) -> anyhow::Result<()> {
    let url = pg::database_url("scaikey")?;
    let mut c = cargo();
    c.args(["run", "-p", "scaikey"]);
    if release {
        c.arg("--release");
    }
    c.args(["--", "serve"]).env("SCAIKEY_DATABASE_URL", url);
    run(c)
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let url = pg::database_url("postgres")?;
    let mut c = cargo();
    c.args(["test", "--workspace"]).env("SCAIKEY_TEST_DATABASE_URL", url);
    c.args(extra.iter().skip_while(|a| *a == "--"));
    run(c)
}

/// Benchmarks, each a `harness = false` bench target that prints its own table.
const BENCHES: &[(&str, &str)] = &[("scaikey-persistence", "effective_members")];

fn bench(smoke: bool) -> anyhow::Result<()> {
    let url = pg::database_url("postgres")?;
    for (package, name) in BENCHES {
        let mut c = cargo();
        c.args(["bench", "-p", package, "--bench", name]).env("SCAIKEY_TEST_DATABASE_URL", &url);
        if smoke {
            c.args(["--profile", "dev", "--", "--smoke"]);
        }
        run(c)?;
    }
    Ok(())
}

/// The domain crate must not depend on I/O crates (architecture invariant).
fn domain_purity() -> anyhow::Result<()> {
    let out = cargo()
        .args(["tree", "-p", "scaikey-domain", "-e", "normal", "--prefix", "none"])
        .output()
        .context("cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let banned = ["actix", "diesel", "tokio", "hyper", "reqwest", "mio"];
    let found: Vec<&str> = tree
        .lines()
        .filter(|l| banned.iter().any(|b| l.split_whitespace().next().is_some_and(|name| name.starts_with(b))))
        .collect();
    if !found.is_empty() {
        bail!("scaikey-domain must stay free of I/O crates, but depends on: {found:?}");
    }
    eprintln!("xtask: scaikey-domain depends on no I/O crate");
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(clippy)?;
    domain_purity()?;
    docs::run(true)?;
    test(&[])?;
    bench(true)
}

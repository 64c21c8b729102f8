//! Project automation, run as `cargo xtask <command>`:
//!
//! - `serve [--release]` — start ScaiKey on a local PostgreSQL (a private cluster under
//!   `target/pg` when none is configured or reachable);
//! - `test` — run the whole test suite against PostgreSQL (same database rule);
//! - `ci` — what CI runs: fmt check, clippy `-D warnings`, the layer checks, the docs
//!   freshness check, then `test`;
//! - `layers` — the architecture's layer checks alone: the domain depends on no I/O crate, and
//!   no adapter on another (`LAYERS`);
//! - `docs [--check]` — regenerate (or check) `docs/openapi.json` and `docs/reference/api/`;
//! - `bench [--smoke] [--no-peer]` — run the benchmarks in release, then the HTTP benchmark
//!   (`scaikey-bench`: ScaiKey and the `oidc-provider` peer side by side); `--smoke`: a few
//!   iterations in the dev profile, which CI runs to prove they start and print (without the
//!   peer, which needs the npm registry); never a timing assertion.

mod docs;
mod pg;
mod system;

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let needs_build = matches!(args.first().map(String::as_str), Some("serve" | "test" | "ci" | "docs" | "bench"));
    if needs_build && let Err(e) = system::ensure() {
        eprintln!("xtask: {e:#}");
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(args.iter().any(|a| a == "--release")),
        Some("test") => test(&args[1..]),
        Some("ci") => ci(),
        Some("layers") => domain_purity().and_then(|()| dependency_rule()),
        Some("docs") => docs::run(args.iter().any(|a| a == "--check")),
        Some("bench") => bench(args.iter().any(|a| a == "--smoke"), !args.iter().any(|a| a == "--no-peer")),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve [--release] | test [-- cargo test args] | ci | layers | docs [--check] | bench [--smoke] [--no-peer]>"
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

/// Passed and failed test counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Adds the counts of one `test result: ok. 3 passed; 0 failed; …` line.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
        let count = |word: &str| -> u64 {
            rest.split(';')
                .filter_map(|part| {
                    part.trim().trim_start_matches("ok.").trim_start_matches("FAILED.").trim().split_once(' ')
                })
                .find(|(_, w)| *w == word)
                .and_then(|(n, _)| n.parse().ok())
                .unwrap_or(0)
        };
        self.passed += count("passed");
        self.failed += count("failed");
    }
}

/// The verifier's integrations, so their own tests and examples are built, linted and run
/// (their `required-features` look at the features asked for, not at unified ones).
const VERIFIER_FEATURES: &str = "scaikey-verifier/actix,scaikey-verifier/tower";

/// Runs the whole suite, echoing cargo's output, and returns the summed counts.
fn run_tests(extra: &[String]) -> anyhow::Result<Tally> {
    use std::io::{BufRead, BufReader};
    let url = pg::database_url("postgres")?;
    let mut c = cargo();
    let extra: Vec<&String> = extra.iter().skip_while(|a| *a == "--").collect();
    c.arg("test").env("SCAIKEY_TEST_DATABASE_URL", url);
    // `-p` narrows the run; without it the whole workspace runs.
    if !extra.iter().any(|a| *a == "-p" || a.starts_with("--package")) {
        c.arg("--workspace").args(["--features", VERIFIER_FEATURES]);
    }
    c.args(extra);
    c.stdout(std::process::Stdio::piped());
    eprintln!("xtask: running {c:?}");
    let mut child = c.spawn().context("starting cargo test")?;
    let mut tally = Tally::default();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        println!("tests: {} passed, {} failed", tally.passed, tally.failed.max(1));
        bail!("cargo test failed with {status}");
    }
    Ok(tally)
}

fn test(extra: &[String]) -> anyhow::Result<()> {
    let t = run_tests(extra)?;
    println!("tests: {} passed, {} failed", t.passed, t.failed);
    Ok(())
}

/// Benchmarks, each a `harness = false` bench target that prints its own table.
const BENCHES: &[(&str, &str)] = &[
    ("scaikey-persistence", "effective_members"),
    ("scaikey-persistence", "effective_users"),
    ("scaikey-persistence", "audit_list"),
    ("scaikey-persistence", "signin_assignment"),
    ("scaikey-crypto", "signing"),
];

fn bench(smoke: bool, peer: bool) -> anyhow::Result<()> {
    let url = pg::database_url("postgres")?;
    for (package, name) in BENCHES {
        let mut c = cargo();
        c.args(["bench", "-p", package, "--bench", name]).env("SCAIKEY_TEST_DATABASE_URL", &url);
        if smoke {
            c.args(["--profile", "dev", "--", "--smoke"]);
        }
        run(c)?;
    }
    // The HTTP benchmark runs the `scaikey` binary built in the same profile beside it.
    let mut build = cargo();
    build.args(["build", "-p", "scaikey", "-p", "scaikey-bench"]);
    if !smoke {
        build.arg("--release");
    }
    run(build)?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), std::path::PathBuf::from);
    let bin = target.join(if smoke { "debug" } else { "release" });
    let mut c = Command::new(bin.join("scaikey-bench"));
    c.args(["--server".into(), bin.join("scaikey").into_os_string()]).args(["--database-url", &url]);
    if smoke {
        c.arg("--smoke");
    }
    if !peer {
        c.arg("--no-peer");
    }
    run(c)
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

/// The crates of the hexagon and which workspace crates each may use in its normal
/// dependencies (dev-dependencies are free): the domain none, the application the domain,
/// adapters the core and shared libraries but never another adapter; only the binary, the
/// testkit and the bench wire adapters together.
const LAYERS: &[(&str, &[&str])] = &[
    ("scaikey-domain", &[]),
    ("scaikey-app", &["scaikey-domain"]),
    ("scaikey-verifier", &["scaikey-domain"]),
    ("scaikey-dto", &["scaikey-domain", "scaikey-app"]),
    ("scaikey-persistence", &["scaikey-domain", "scaikey-app"]),
    ("scaikey-crypto", &["scaikey-domain", "scaikey-app", "scaikey-verifier"]),
    ("scaikey-http", &["scaikey-domain", "scaikey-app", "scaikey-dto", "scaikey-verifier"]),
    ("scaikey-web", &["scaikey-domain", "scaikey-app"]),
    ("scaikey-mcp", &["scaikey-domain", "scaikey-app", "scaikey-dto", "scaikey-verifier"]),
    ("scaikey-mail", &["scaikey-domain", "scaikey-app"]),
    ("scaikey-upstream", &["scaikey-domain", "scaikey-app"]),
    ("scaikey-saml", &["scaikey-domain", "scaikey-app"]),
];

/// Checks [`LAYERS`] against `cargo metadata`: a crate of the list using a workspace crate it
/// may not (an adapter using another adapter, the domain using anything) fails CI, and so does a
/// workspace crate missing from the list (a new crate must say where it stands).
fn dependency_rule() -> anyhow::Result<()> {
    let out = cargo().args(["metadata", "--no-deps", "--format-version", "1"]).output().context("cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let wiring = ["scaikey", "scaikey-testkit", "scaikey-bench", "xtask"];
    let mut broken = Vec::new();
    for pkg in meta["packages"].as_array().into_iter().flatten() {
        let name = pkg["name"].as_str().unwrap_or_default();
        if wiring.contains(&name) {
            continue;
        }
        let Some((_, allowed)) = LAYERS.iter().find(|(n, _)| *n == name) else {
            broken.push(format!("{name} is not placed in xtask's LAYERS"));
            continue;
        };
        for dep in pkg["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let normal = dep["kind"].is_null();
            if normal && dep_name.starts_with("scaikey") && !allowed.contains(&dep_name) {
                broken.push(format!("{name} depends on {dep_name}"));
            }
        }
    }
    if !broken.is_empty() {
        bail!("the dependency rule of docs/ARCHITECTURE.md is broken: {broken:?}");
    }
    eprintln!("xtask: no adapter depends on another, the domain on nothing");
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--features", VERIFIER_FEATURES, "--", "-D", "warnings"]);
    run(clippy)?;
    domain_purity()?;
    dependency_rule()?;
    docs::run(true)?;
    let t = run_tests(&[])?;
    bench(true, false)?;
    // The plain closing line CI reads: the whole suite's counts, after everything else.
    println!("tests: {} passed, {} failed", t.passed, t.failed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tally_sums_cargo_result_lines() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 25 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s");
        t.add_line("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out");
        t.add_line("running 4 tests");
        assert_eq!(t, Tally { passed: 28, failed: 2 });
    }
}

//! Stock client tools that end-to-end tests drive ScaiKey with (none written here), installed by
//! the testkit itself on first use so a fresh machine needs nothing but `python3`.
//!
//! [`python`] gives a virtual environment under the workspace's `target/` holding exactly the
//! packages pinned (with hashes) in `crates/testkit/py/requirements.lock`. It is built once per
//! lock-file content and shared by every test process, serialised by a file lock.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The pinned Python packages (compiled from `py/requirements.in`).
const LOCK: &str = include_str!("../py/requirements.lock");

/// The workspace's `target/` directory (or `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The directory of the testkit's Python scripts (`crates/testkit/py`).
#[must_use]
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py")
}

/// The Python interpreter of the test environment, installing the environment when it is
/// missing or its lock changed. `SCAIKEY_TEST_PYTHON` names the base interpreter (default
/// `python3`).
pub fn python() -> anyhow::Result<PathBuf> {
    let root = target_dir();
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let venv = root.join("testkit-py");
    let stamp = venv.join("installed.lock");
    let bin = venv.join("bin").join("python");
    let lock_file = std::fs::File::create(root.join("testkit-py.lock")).context("creating the install lock")?;
    lock_file.lock().context("waiting for the install lock")?;
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == LOCK) && bin.exists() {
        return Ok(bin);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).with_context(|| format!("removing stale {}", venv.display()))?;
    }
    let base = std::env::var("SCAIKEY_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&base).args(["-m", "venv"]).arg(&venv)).context("creating the test virtualenv")?;
    let req = venv.join("requirements.lock");
    std::fs::write(&req, LOCK)?;
    run(Command::new(&bin)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--require-hashes", "-r"])
        .arg(&req))
    .context("installing the pinned test packages")?;
    std::fs::write(&stamp, LOCK)?;
    Ok(bin)
}

/// The path of an executable installed in the test environment (e.g. `openapi-python-client`).
pub fn python_tool(name: &str) -> anyhow::Result<PathBuf> {
    let py = python()?;
    let tool = py.with_file_name(name);
    anyhow::ensure!(tool.exists(), "{name} is not installed in the test environment");
    Ok(tool)
}

/// Runs a command to completion; its output becomes the error when it fails.
fn run(c: &mut Command) -> anyhow::Result<()> {
    let out = c.output().with_context(|| format!("starting {c:?}"))?;
    if !out.status.success() {
        bail!(
            "{c:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Runs a script of `py/` with the test environment's Python and `args`; returns its standard
/// output, or an error holding both output streams when it exits non-zero.
pub fn run_python_script(script: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let py = python()?;
    let mut c = Command::new(py);
    c.arg(scripts_dir().join(script)).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().with_context(|| format!("starting {script}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("{script} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout)
}

/// The pinned Node packages (`node/package-lock.json`, made with `npm install --save-exact`).
const NODE_LOCK: &str = include_str!("../node/package-lock.json");
/// The manifest the lock belongs to.
const NODE_MANIFEST: &str = include_str!("../node/package.json");
/// Where Debian's `chromium` package puts its launcher.
const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// The directory of the testkit's Node scripts (`crates/testkit/node`).
#[must_use]
pub fn node_scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// A directory under `target/` for files tests leave behind (screenshots, …), created.
pub fn artifacts_dir() -> anyhow::Result<PathBuf> {
    let dir = target_dir().join("testkit-artifacts");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The `node_modules` directory holding exactly the packages of `node/package-lock.json`
/// (`playwright-core`), installed with `npm ci` under `target/testkit-node` when missing or when
/// the lock changed. Shared by every test process, serialised by a file lock. No browser is
/// downloaded: [`chromium`] provides it.
pub fn node_modules() -> anyhow::Result<PathBuf> {
    let root = target_dir();
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let dir = root.join("testkit-node");
    let stamp = dir.join("installed.lock");
    let modules = dir.join("node_modules");
    let lock_file = std::fs::File::create(root.join("testkit-node.lock")).context("creating the install lock")?;
    lock_file.lock().context("waiting for the install lock")?;
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == NODE_LOCK) && modules.exists() {
        return Ok(modules);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing stale {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("package.json"), NODE_MANIFEST)?;
    std::fs::write(dir.join("package-lock.json"), NODE_LOCK)?;
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"])
        .current_dir(&dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
    .context("installing the pinned Node packages (is `npm` on PATH?)")?;
    std::fs::write(&stamp, NODE_LOCK)?;
    Ok(modules)
}

/// The Chromium executable browser tests drive: `SCAIKEY_TEST_CHROMIUM` when set, else
/// `/usr/bin/chromium`, installing Debian's `chromium` package (and `fonts-liberation`, so
/// screenshots show text) with apt when it is missing (as root; `apt-get update` and a second try
/// when the first install fails). Serialised by a file lock.
pub fn chromium() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("SCAIKEY_TEST_CHROMIUM") {
        let p = PathBuf::from(p);
        anyhow::ensure!(p.exists(), "SCAIKEY_TEST_CHROMIUM names {}, which does not exist", p.display());
        return Ok(p);
    }
    let bin = PathBuf::from(DEBIAN_CHROMIUM);
    if bin.exists() {
        return Ok(bin);
    }
    let root = target_dir();
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let lock_file = std::fs::File::create(root.join("testkit-chromium.lock")).context("creating the install lock")?;
    lock_file.lock().context("waiting for the install lock")?;
    if bin.exists() {
        return Ok(bin);
    }
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if !uid.as_ref().is_ok_and(|u| u == "0") || !Path::new("/usr/bin/apt-get").exists() {
        bail!(
            "no Chromium for the browser tests: {DEBIAN_CHROMIUM} is missing and it can only be installed \
             automatically as root with apt-get; install Debian's `chromium` package or set \
             SCAIKEY_TEST_CHROMIUM to a Chromium executable"
        );
    }
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-liberation"])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    if install().is_err() {
        run(Command::new("apt-get").args(["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive"))
            .context("apt-get update (for the chromium package)")?;
        install().context("installing Debian's chromium package")?;
    }
    anyhow::ensure!(bin.exists(), "the chromium package installed but {DEBIAN_CHROMIUM} is missing");
    Ok(bin)
}

/// Runs a script of `node/` with `node`, the pinned packages on `NODE_PATH` and `CHROMIUM` set to
/// [`chromium`]'s executable, plus `env`; returns its standard output, or an error holding both
/// output streams when it exits non-zero.
pub fn run_node_script(script: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<String> {
    let modules = node_modules()?;
    let browser = chromium()?;
    let mut c = Command::new("node");
    c.arg(node_scripts_dir().join(script)).args(args).env("NODE_PATH", &modules).env("CHROMIUM", &browser);
    c.env("FORCE_COLOR", "0").env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().with_context(|| format!("starting node {script}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("{script} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout)
}

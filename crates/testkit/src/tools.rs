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

//! The system packages the build and the tests need beyond Rust, installed when missing on a
//! Debian machine run as root (as CI's is), else named in a clear error: libxmlsec1 with its
//! headers (SAML signatures, bound by samael through bindgen, which needs libclang), pkg-config,
//! and the `xmlsec1` command the pysaml2 test IdP signs with.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Debian packages: what each provides is checked below.
const PACKAGES: [&str; 4] = ["libxmlsec1-dev", "libclang-dev", "pkg-config", "xmlsec1"];

fn has_xmlsec_headers() -> bool {
    Command::new("pkg-config").args(["--exists", "xmlsec1"]).status().is_ok_and(|s| s.success())
}

fn has_libclang() -> bool {
    if std::env::var_os("LIBCLANG_PATH").is_some() {
        return true;
    }
    let Ok(dirs) = std::fs::read_dir("/usr/lib") else { return false };
    dirs.filter_map(Result::ok)
        .filter(|d| d.file_name().to_string_lossy().starts_with("llvm-"))
        .filter_map(|d| std::fs::read_dir(d.path().join("lib")).ok())
        .flatten()
        .filter_map(Result::ok)
        .any(|f| {
            f.file_name().to_string_lossy().starts_with("libclang") && f.file_name().to_string_lossy().contains(".so")
        })
}

fn has_xmlsec_tool() -> bool {
    Path::new("/usr/bin/xmlsec1").exists()
}

fn present() -> bool {
    has_xmlsec_headers() && has_libclang() && has_xmlsec_tool()
}

/// Makes sure the packages are there, installing them with apt when it can.
pub(crate) fn ensure() -> anyhow::Result<()> {
    if present() {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || !Path::new("/usr/bin/apt-get").exists() {
        bail!(
            "missing system packages for the SAML support and its tests; install them (Debian: apt-get install {})",
            PACKAGES.join(" ")
        );
    }
    eprintln!("xtask: installing {}", PACKAGES.join(" "));
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install() {
        let updated = Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("apt-get update")?;
        if !updated.success() || !install() {
            bail!("could not install {}", PACKAGES.join(" "));
        }
    }
    if !present() {
        bail!("installed {} but the build still cannot find them", PACKAGES.join(" "));
    }
    Ok(())
}

//! Finding PostgreSQL: `DATABASE_URL` / `SCAIKEY_DATABASE_URL` if set, else the server on
//! 127.0.0.1:5432 if one listens, else a private cluster under `target/pg` made with the
//! installed `initdb` and `pg_ctl` (as the `postgres` user when we are root, since PostgreSQL
//! refuses to run as root).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;

/// Port of the private cluster.
const PRIVATE_PORT: u16 = 54329;

fn listening(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// A URL for database `db` on the PostgreSQL to use.
pub fn database_url(db: &str) -> anyhow::Result<String> {
    for key in ["SCAIKEY_TEST_DATABASE_URL", "SCAIKEY_DATABASE_URL", "DATABASE_URL"] {
        if let Ok(url) = std::env::var(key)
            && !url.is_empty()
        {
            eprintln!("xtask: using PostgreSQL from {key}");
            return Ok(url);
        }
    }
    if listening(5432) {
        eprintln!("xtask: using PostgreSQL on 127.0.0.1:5432");
        return Ok(format!("postgres://postgres@127.0.0.1:5432/{db}"));
    }
    start_private()?;
    Ok(format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/{db}"))
}

fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(Result::ok).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some(dir) = versions.pop() {
        return Ok(dir);
    }
    bail!(
        "no PostgreSQL is reachable and no initdb was found; install PostgreSQL (Debian: apt-get install postgresql) or set DATABASE_URL"
    )
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool, as `postgres` when we are root.
fn pg_cmd(bin: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

fn start_private() -> anyhow::Result<()> {
    if listening(PRIVATE_PORT) {
        eprintln!("xtask: using the private PostgreSQL on 127.0.0.1:{PRIVATE_PORT}");
        return Ok(());
    }
    let bin = bin_dir()?;
    let base = crate::root().join("target").join("pg");
    let data = base.join("data");
    std::fs::create_dir_all(&base)?;
    let owner = |p: &Path| -> anyhow::Result<()> {
        if is_root() {
            crate::run({
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:postgres"]).arg(p);
                c
            })?;
        }
        Ok(())
    };
    if !data.join("PG_VERSION").exists() {
        eprintln!("xtask: creating a private PostgreSQL cluster in {}", data.display());
        owner(&base)?;
        let data_s = data.to_string_lossy().to_string();
        crate::run(pg_cmd(
            &bin.join("initdb"),
            &["-D", &data_s, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        ))?;
    }
    owner(&base)?;
    let data_s = data.to_string_lossy().to_string();
    let log = base.join("postgres.log").to_string_lossy().to_string();
    let opts =
        format!("-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {data_s} -c fsync=off -c max_connections=300");
    crate::run(pg_cmd(&bin.join("pg_ctl"), &["-D", &data_s, "-l", &log, "-o", &opts, "-w", "start"]))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !listening(PRIVATE_PORT) {
        if Instant::now() > deadline {
            bail!("the private PostgreSQL did not start; see {log}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("xtask: private PostgreSQL listening on 127.0.0.1:{PRIVATE_PORT} (stop: pg_ctl -D {data_s} stop)");
    Ok(())
}

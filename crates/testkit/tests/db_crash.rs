//! A PostgreSQL crash under load (issue 17): ScaiKey runs on a private cluster of its own, the
//! cluster is killed with SIGKILL while writes stream in, and then started again. During the
//! outage answers are 503, never 500; after it ScaiKey serves again without a restart; and every
//! write it acknowledged is there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scaikey_testkit::TestApp;
use serde_json::json;

/// The newest PostgreSQL server binaries installed (Debian layout), e.g. `/usr/lib/postgresql/15/bin`.
fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    dirs.sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    dirs.pop().expect("a PostgreSQL version with pg_ctl")
}

/// Runs a PostgreSQL tool; as the `postgres` user when this process is root (initdb refuses root).
fn pg(tool: &str, args: &[&str]) -> std::process::Output {
    let bin = pg_bin().join(tool);
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut c = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    c.args(args).output().unwrap()
}

struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn init() -> Cluster {
        let dir = std::env::temp_dir().join(format!("scaikey-pg-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        // The postgres user must own it when initdb runs as that user.
        let _ = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let c = Cluster { dir, port };
        let out = pg("initdb", &["-D", &c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        c.start();
        c
    }

    fn start(&self) {
        let opts = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=on", self.port, self.dir.display());
        let log = self.dir.join("log").display().to_string();
        let out = pg("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"]);
        assert!(out.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// SIGKILL to the postmaster and its children: a crash, not a shutdown.
    fn crash(&self) {
        let pid = std::fs::read_to_string(Path::new(&self.data()).join("postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_string();
        let _ = Command::new("pkill").args(["-9", "-P", &pid]).status();
        assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
        // Wait until the port is free so the restart does not race the dying children.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "PostgreSQL did not die");
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_file(Path::new(&self.data()).join("postmaster.pid"));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/scaikey", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_database_crash_under_load_loses_no_acknowledged_write() {
    let cluster = Cluster::init();
    let app = TestApp::spawn_with(&[("SCAIKEY_DATABASE_URL", cluster.url().as_str())]).await.unwrap();
    let admin = app.super_admin().await.unwrap();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let statuses = Arc::new(Mutex::new(Vec::<u16>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (admin, acknowledged, statuses, stop) =
            (app.with_token(admin.token().unwrap()), acknowledged.clone(), statuses.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let Ok(r) = admin.post("/api/v1/admin/tenants", json!({"name": format!("T {w}-{i}")})).await else {
                    continue;
                };
                statuses.lock().unwrap().push(r.status);
                if r.status == 201 {
                    acknowledged.lock().unwrap().push(r.id());
                }
                if r.status != 201 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = acknowledged.lock().unwrap().len();
    assert!(before > 0, "writes were acknowledged before the crash");

    // Blocking here pauses the writers for a moment (they share this runtime); ScaiKey runs on
    // its own thread and keeps answering.
    cluster.crash();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ready = app.anonymous().get("/readyz").await.unwrap();
    assert_eq!(ready.status, 503, "not ready while the database is gone: {}", ready.body);
    cluster.start();

    // Served again without a restart.
    let deadline = Instant::now() + Duration::from_secs(20);
    let after_crash = acknowledged.lock().unwrap().len();
    loop {
        if acknowledged.lock().unwrap().len() > after_crash + 5 {
            break;
        }
        assert!(Instant::now() < deadline, "ScaiKey did not recover after the database came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let seen = statuses.lock().unwrap().clone();
    assert!(
        seen.contains(&503),
        "the outage was answered with 503s: {:?}",
        seen.iter().filter(|s| **s != 201).collect::<Vec<_>>()
    );
    assert!(
        seen.iter().all(|s| *s == 201 || *s == 503),
        "only 201 or 503: {:?}",
        seen.iter().filter(|s| **s != 201).collect::<Vec<_>>()
    );
    assert_eq!(app.anonymous().get("/readyz").await.unwrap().status, 200);

    // Every acknowledged write survived the crash.
    let ids = acknowledged.lock().unwrap().clone();
    for id in &ids {
        let r = admin.get(&format!("/api/v1/admin/tenants/{id}")).await.unwrap();
        assert_eq!(r.status, 200, "acknowledged tenant {id} is gone");
    }
    assert!(ids.len() > before);
}

//! Child processes under measurement (ScaiKey, the peer) and what Linux's `/proc` says of them:
//! resident memory (current and peak since the last reset) and CPU time.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::load::{Request, call};

/// A running child that is stopped when dropped.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// A free loopback port (bound and released; fine for a benchmark on a quiet machine).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Proc {
    /// Starts `cmd`, logging to `log`, and waits until `GET ready_path` answers 2xx or 404
    /// (the peer has no health endpoint: any HTTP answer means it listens).
    pub async fn start(
        name: &str,
        mut cmd: Command,
        log: &Path,
        addr: SocketAddr,
        ready_path: &str,
    ) -> anyhow::Result<Self> {
        let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        cmd.stdout(file.try_clone()?).stderr(file).stdin(Stdio::null());
        let child = cmd.spawn().with_context(|| format!("starting {name}: {cmd:?}"))?;
        let mut p = Self { name: name.to_string(), child, addr };
        let deadline = Instant::now() + Duration::from_secs(120);
        let probe = Request::new("GET", ready_path, &[("Connection", "close")], b"");
        loop {
            if let Some(status) = p.child.try_wait()? {
                bail!("{name} exited with {status} before it was ready; see {}", log.display());
            }
            if let Ok(a) = call(addr, &probe).await
                && (a.status < 300 || a.status == 404)
            {
                return Ok(p);
            }
            if Instant::now() > deadline {
                p.stop();
                bail!("{name} was not ready within 120 s; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_kib(&self, field: &str) -> anyhow::Result<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next().map(str::to_string))
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no {field} in /proc/{}/status", self.pid()))
    }

    /// Resident memory now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS").map_or(f64::NAN, |k| k as f64 / 1024.0)
    }

    /// Peak resident memory since start or the last [`Proc::reset_peak`], in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM").map_or(f64::NAN, |k| k as f64 / 1024.0)
    }

    /// Restarts the peak-RSS mark at the current RSS (Linux `clear_refs` value 5).
    pub fn reset_peak(&self) {
        if let Err(e) = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5") {
            eprintln!("bench: cannot reset the peak RSS of {}: {e} (peaks will be since start)", self.name);
        }
    }

    /// User + system CPU seconds used so far (all threads).
    pub fn cpu_seconds(&self) -> f64 {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())) else { return f64::NAN };
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let Some(rest) = text.rsplit_once(')').map(|(_, r)| r) else { return f64::NAN };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    /// Stops the process (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

//! The ceilings (raw ES256 signing, raw Argon2id hashing), the machine's facts, and the one
//! table the bench prints, with each target of the benchmark issue checked against it.

use std::time::{Duration, Instant};

use anyhow::Context;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use crate::load::Outcome;

/// One measured workload.
#[derive(Debug, Clone)]
pub struct Row {
    name: String,
    connections: usize,
    out: Outcome,
    peak_rss: f64,
    cores: f64,
}

impl Row {
    /// A row from a load outcome and the server's peak RSS (MiB) and CPU cores used.
    #[must_use]
    pub fn new(name: &str, connections: usize, out: Outcome, peak_rss: f64, cores: f64) -> Self {
        Self { name: name.to_string(), connections, out, peak_rss, cores }
    }

    /// One line for the progress log.
    #[must_use]
    pub fn summary(&self) -> String {
        let err = match (&self.out.first_error, self.out.errors) {
            (Some(e), n) if n > 0 => format!(", {n} errors (first: {e})"),
            _ => String::new(),
        };
        format!(
            "{}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, peak RSS {:.1} MiB, {:.2} cores{err}",
            self.name,
            self.out.rate(),
            self.out.quantile_ms(0.5),
            self.out.quantile_ms(0.99),
            self.peak_rss,
            self.cores
        )
    }

    /// The same row under another name.
    #[must_use]
    pub fn renamed(self, name: &str) -> Self {
        Self { name: name.to_string(), ..self }
    }

    fn p50(&self) -> f64 {
        self.out.quantile_ms(0.5)
    }

    fn p99(&self) -> f64 {
        self.out.quantile_ms(0.99)
    }
}

/// The row with the median throughput (the upper middle of an even count).
#[must_use]
pub fn median(mut rows: Vec<Row>) -> Option<Row> {
    rows.sort_by(|a, b| a.out.rate().total_cmp(&b.out.rate()));
    let mid = rows.len() / 2;
    rows.into_iter().nth(mid)
}

/// Everything one run measured.
#[derive(Debug)]
pub struct Report {
    smoke: bool,
    users: i64,
    effective: i64,
    /// Cores available to this process.
    pub cores: usize,
    /// Machine and software facts.
    pub facts: Vec<(String, String)>,
    /// Raw ES256 signatures per second on one core (W2).
    pub sign_rate: f64,
    /// Raw Argon2id hashes per second on all cores.
    pub hash_rate: f64,
    /// The same measured around a hashing workload (the mean of just before and just after
    /// it, the server idle), by workload: this machine's speed drifts by a fifth within one
    /// run, so a workload is judged against the ceiling of its own minutes.
    pub hash_rate_around: Vec<(&'static str, f64)>,
    /// ScaiKey's resident memory after warm-up, idle (settled), before any login (MiB).
    pub idle_rss: f64,
    /// The same after half a second of logins on two connections (Argon2id: 19 MiB per hash).
    pub idle_rss_after_login: f64,
    /// Resident memory 2 s after those logins, before the allocator purged freed blocks (MiB).
    pub rss_soon_after_login: f64,
    /// ScaiKey's rows, in order.
    pub rows: Vec<Row>,
    /// The peer's rows (`Peer W1 …`, `Peer W8 …`, `Peer W9 …`).
    pub peers: Vec<Row>,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Report {
    /// An empty report with the machine's facts.
    #[must_use]
    pub fn new(smoke: bool, users: i64, effective: i64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string()))
            .unwrap_or_else(|| "unknown".into());
        let mem = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:").map(|r| r.trim().to_string()))
            .unwrap_or_default();
        let facts = vec![
            ("CPU".into(), format!("{cpu}, {cores} cores available")),
            ("Memory".into(), mem),
            ("Kernel".into(), read("/proc/sys/kernel/osrelease").trim().to_string()),
            (
                "Load generator".into(),
                "scaikey-bench, one thread, keep-alive HTTP/1.1, closed loop, on the same machine".into(),
            ),
        ];
        Self {
            smoke,
            users,
            effective,
            cores,
            facts,
            sign_rate: f64::NAN,
            hash_rate: f64::NAN,
            hash_rate_around: Vec::new(),
            idle_rss: f64::NAN,
            idle_rss_after_login: f64::NAN,
            rss_soon_after_login: f64::NAN,
            rows: Vec::new(),
            peers: Vec::new(),
        }
    }

    /// The raw hash rate `workload` is judged against (measured around it when it was) and
    /// what to say of it.
    fn raw_around(&self, workload: &str) -> (f64, String) {
        match self.hash_rate_around.iter().find(|(w, _)| *w == workload) {
            Some((_, r)) => (*r, format!(" measured around it ({:.1} at the start)", self.hash_rate)),
            None => (self.hash_rate, String::new()),
        }
    }

    fn row(&self, prefix: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name.starts_with(prefix))
    }

    fn peer(&self, prefix: &str) -> Option<&Row> {
        self.peers.iter().find(|r| r.name.starts_with(prefix))
    }

    /// The table, the ceilings and the targets, as Markdown.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.smoke {
            s.push_str("> SMOKE RUN: tiny data and sub-second loads in a debug build; the figures mean nothing.\n\n");
        }
        s.push_str("| fact | value |\n|---|---|\n");
        for (k, v) in &self.facts {
            s.push_str(&format!("| {k} | {v} |\n"));
        }
        s.push_str(&format!(
            "| Data | {} users in one tenant (W5); {} effective users (W6) |\n\n",
            self.users, self.effective
        ));
        s.push_str("| workload | conns | req/s | p50 ms | p99 ms | errors | server peak RSS MiB | server cores |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in self.rows.iter().chain(&self.peers) {
            s.push_str(&format!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {:.2} |\n",
                r.name,
                r.connections,
                r.out.rate(),
                r.p50(),
                r.p99(),
                r.out.errors,
                r.peak_rss,
                r.cores
            ));
        }
        s.push_str(&format!(
            "\nCeilings: raw ES256 (ring, pre-parsed key) {:.0} signatures/s on one core (W2); raw Argon2id \
             (m=19 MiB, t=2, p=1) {:.1} hashes/s on {} cores.",
            self.sign_rate, self.hash_rate, self.cores,
        ));
        // Measured with W1 only.
        if !self.idle_rss.is_nan() {
            s.push_str(&format!(
                " Idle RSS after warm-up (token and admin requests, lowest over 12 s of quiet): {:.1} MiB; after \
                 half a second of logins on two connections: {:.1} MiB 2 s after them, {:.1} MiB settled.",
                self.idle_rss, self.rss_soon_after_login, self.idle_rss_after_login
            ));
        }
        s.push_str("\n\n");
        s.push_str("| target | measured | met |\n|---|---|---|\n");
        for (target, measured, met) in self.targets() {
            s.push_str(&format!("| {target} | {measured} | {} |\n", if met { "yes" } else { "**no**" }));
        }
        s
    }

    fn targets(&self) -> Vec<(String, String, bool)> {
        let mut t = Vec::new();
        let cached = self.row("W1 client_credentials (default");
        let db = self.row("W1 client_credentials (DB");
        let peer_w1 = self.peer("Peer W1");
        if let (Some(c), Some(p)) = (cached, peer_w1) {
            let x = c.out.rate() / p.out.rate();
            t.push(("W1 (cache) ≥ 10× peer".into(), format!("{x:.1}×"), x >= 10.0));
        }
        if let Some(c) = cached {
            let per_core = c.out.rate() / c.cores.max(1e-9);
            let f = per_core / self.sign_rate;
            t.push((
                "W1 (cache) ≥ 0.5 of W2 per core used".into(),
                format!("{per_core:.0}/s per core = {f:.2} of {:.0}", self.sign_rate),
                f >= 0.5,
            ));
        }
        if let (Some(d), Some(p)) = (db, peer_w1) {
            let x = d.out.rate() / p.out.rate();
            t.push(("W1 (DB lookup) ≥ 3× peer".into(), format!("{x:.1}×"), x >= 3.0));
        }
        if let Some(w3) = self.row("W3 login (Argon2id)") {
            let (raw, note) = self.raw_around("W3");
            let f = w3.out.rate() / raw;
            t.push((
                "W3 ≥ 0.8 of the raw hash rate".into(),
                format!("{:.1}/s = {f:.2} of {raw:.1}{note}", w3.out.rate()),
                f >= 0.8,
            ));
        }
        if let Some(b) = self.row("W1 at 1,000/s alongside W3") {
            t.push(("W1 p99 < 20 ms while W3 saturates hashing".into(), format!("{:.2} ms", b.p99()), b.p99() < 20.0));
        }
        if let Some(w7) = self.row("W7 code flow") {
            let (raw, note) = self.raw_around("W7");
            let f = w7.out.rate() / raw;
            t.push((
                "W7 code flows ≥ 0.8 of the raw hash rate".into(),
                format!("{:.1}/s = {f:.2} of {raw:.1}{note}", w7.out.rate()),
                f >= 0.8,
            ));
        }
        if let Some(b) = self.row("W1 at 1,000/s alongside W7") {
            t.push(("W1 p99 < 20 ms during W7".into(), format!("{:.2} ms", b.p99()), b.p99() < 20.0));
        }
        if let Some(w8) = self.row("W8 refresh") {
            if let Some(p) = self.peer("Peer W8") {
                let x = w8.out.rate() / p.out.rate();
                t.push(("W8 refresh ≥ 3× peer".into(), format!("{x:.1}×"), x >= 3.0));
            }
            // Keycloak's published sizing: 120 refresh grants per second per vCPU.
            let keycloak = 120.0 * self.cores as f64;
            let x = w8.out.rate() / keycloak;
            t.push((
                format!("W8 refresh ≥ 10× Keycloak's 120/s per vCPU (≥ {:.0}/s here)", 10.0 * keycloak),
                format!("{:.0}/s = {x:.1}×", w8.out.rate()),
                x >= 10.0,
            ));
        }
        for (ours, theirs, what) in [
            ("W9 userinfo", "Peer W9 userinfo", "W9 userinfo"),
            ("W9 introspection", "Peer W9 introspection", "W9 introspection"),
        ] {
            if let (Some(o), Some(p)) = (self.row(ours), self.peer(theirs)) {
                let x = o.out.rate() / p.out.rate();
                t.push((format!("{what} ≥ 5× peer"), format!("{x:.1}×"), x >= 5.0));
            }
        }
        let page1 = self.row("W5 users page 1");
        for deep in self.rows.iter().filter(|r| r.name.starts_with("W5 users page ") && !r.name.ends_with(" 1")) {
            if let Some(p1) = page1 {
                let x = deep.p50() / p1.p50();
                t.push((
                    format!("{} ≤ 1.5× page 1 (p50)", &deep.name[3..]),
                    format!("{:.2} / {:.2} ms = {x:.2}×", deep.p50(), p1.p50()),
                    x <= 1.5,
                ));
            }
        }
        for r in self.rows.iter().filter(|r| r.name.starts_with("W5") || r.name == "W4 GET tenant, moderate load") {
            t.push((format!("{} p99 < 10 ms (8 conns)", r.name), format!("{:.2} ms", r.p99()), r.p99() < 10.0));
        }
        // Measured with W1 (a run of `--only` other workloads skips them; so does this table).
        if !self.idle_rss.is_nan() {
            t.push(("Idle RSS < 50 MB".into(), format!("{:.1} MiB", self.idle_rss), self.idle_rss * 1.048_576 < 50.0));
            t.push((
                "Idle RSS < 50 MB, after logins".into(),
                format!("{:.1} MiB", self.idle_rss_after_login),
                self.idle_rss_after_login * 1.048_576 < 50.0,
            ));
        }
        t
    }
}

/// Raw ES256 signatures per second on this thread with a key parsed once (the W2 ceiling).
pub fn raw_sign_rate(time: Duration) -> anyhow::Result<f64> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("generating a P-256 key"))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow::anyhow!("parsing the P-256 key"))?;
    // About the size of a ScaiKey client token's signing input.
    let input = [b'x'; 420];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < time {
        for _ in 0..64 {
            key.sign(&rng, &input).map_err(|_| anyhow::anyhow!("signing"))?;
        }
        n += 64;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Raw Argon2id hashes per second with ScaiKey's parameters on `threads` threads at once.
pub fn raw_hash_rate(threads: usize, time: Duration) -> anyhow::Result<f64> {
    use scaikey_crypto::password::Argon2Hasher;
    let params = scaikey_crypto::password::owasp_params()?;
    let start = Instant::now();
    let counts = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let params = params.clone();
                s.spawn(move || -> anyhow::Result<u64> {
                    let mut n = 0;
                    while start.elapsed() < time {
                        Argon2Hasher::hash_blocking(&params, "Bench-user-password-1")?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("hash thread panicked"))?)
            .collect::<anyhow::Result<Vec<u64>>>()
    })
    .context("measuring Argon2id")?;
    Ok(counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64())
}

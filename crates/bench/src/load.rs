//! A small HTTP/1.1 load generator: closed-loop keep-alive connections, each sending one
//! pre-built request after another and timing every answer.
//!
//! Written here rather than shelling out to `wrk`/`oha` so the bench needs nothing installed:
//! requests are pre-encoded bytes, answers are read just far enough to find their end
//! (`Content-Length`), and every latency is kept, so percentiles are exact.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::flows::{Flow, Reply, Step};

/// One HTTP request, encoded once.
#[derive(Debug, Clone)]
pub struct Request(Vec<u8>);

impl Request {
    /// Builds `method path` with `headers` and an optional body (its length is added).
    #[must_use]
    pub fn new(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (k, v) in headers {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        if !body.is_empty() || method != "GET" {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        Self(bytes)
    }
}

/// A parsed answer.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .with_context(|| format!("status {}: {}", self.status, String::from_utf8_lossy(&self.body)))
    }
}

/// A keep-alive connection.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects with `TCP_NODELAY`.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: Vec::with_capacity(16 * 1024) })
    }

    /// Sends `req` and reads the whole answer; returns the status and the body's range in the
    /// internal buffer (valid until the next call; the head is all before it).
    async fn exchange(&mut self, req: &Request) -> anyhow::Result<(u16, std::ops::Range<usize>)> {
        self.stream.write_all(&req.0).await?;
        self.buf.clear();
        let mut searched: usize = 0;
        loop {
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            let n = self.stream.read_buf(&mut self.buf).await?;
            if n == 0 {
                bail!("connection closed by the server");
            }
            let from = searched.saturating_sub(3);
            let Some(end) = self.buf[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|p| from + p) else {
                searched = self.buf.len();
                continue;
            };
            let (status, length) = parse_head(&self.buf[..end])?;
            let body_start = end + 4;
            while self.buf.len() < body_start + length {
                self.buf.reserve(body_start + length - self.buf.len());
                if self.stream.read_buf(&mut self.buf).await? == 0 {
                    bail!("connection closed mid-body");
                }
            }
            return Ok((status, body_start..body_start + length));
        }
    }

    /// Sends `req` and returns the answer.
    pub async fn send(&mut self, req: &Request) -> anyhow::Result<Answer> {
        let (status, body) = self.exchange(req).await?;
        Ok(Answer { status, body: self.buf[body].to_vec() })
    }
}

/// Status code and `Content-Length` of a response head.
fn parse_head(head: &[u8]) -> anyhow::Result<(u16, usize)> {
    let text = std::str::from_utf8(head).context("non-UTF-8 response head")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut length = 0;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().context("bad Content-Length")?;
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked responses are not supported by the load generator");
            }
        }
    }
    Ok((status, length))
}

/// One request on a fresh connection (seeding and checks, not load).
pub async fn call(addr: SocketAddr, req: &Request) -> anyhow::Result<Answer> {
    Conn::open(addr).await?.send(req).await
}

/// Runs one connection per flow against `addr` for `spec` (its `rate` is ignored): each flow
/// repeats its iterations, and an iteration's latency is from its first request to its last
/// answer. A failed iteration (or a lost connection) counts as an error and starts over.
/// Gives the flows back, to go on with them (a refresh family continues across rounds).
pub async fn run_flows(
    addr: SocketAddr,
    flows: Vec<Box<dyn Flow>>,
    spec: Spec,
) -> anyhow::Result<(Outcome, Vec<Box<dyn Flow>>)> {
    anyhow::ensure!(!flows.is_empty(), "no flows to run");
    let start = Instant::now() + spec.warmup;
    let end = start + spec.duration;
    let tasks: Vec<_> = flows.into_iter().map(|f| tokio::spawn(drive_flow(addr, f, start, end))).collect();
    let mut out = Outcome { ok: 0, errors: 0, first_error: None, elapsed: spec.duration, latencies: Vec::new() };
    let mut back = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (r, flow) = t.await.context("load task panicked")??;
        back.push(flow);
        out.absorb(r);
    }
    out.latencies.sort_unstable();
    Ok((out, back))
}

/// Runs `flow` once to completion on a fresh connection (seeding); gives the flow back.
pub async fn complete<F: Flow>(addr: SocketAddr, mut flow: F) -> anyhow::Result<F> {
    let mut conn = Conn::open(addr).await?;
    for _ in 0..32 {
        let req = flow.request();
        let (status, body) = conn.exchange(&req).await?;
        let head = String::from_utf8_lossy(&conn.buf[..body.start]).into_owned();
        match flow.answer(&Reply { status, head: &head, body: &conn.buf[body] }) {
            Step::Next => {}
            Step::Done => return Ok(flow),
            Step::Failed(e) => bail!("the flow failed: {e}"),
        }
    }
    bail!("the flow did not finish in 32 requests")
}

async fn drive_flow(
    addr: SocketAddr,
    mut flow: Box<dyn Flow>,
    start: Instant,
    end: Instant,
) -> anyhow::Result<(ConnResult, Box<dyn Flow>)> {
    let mut r = ConnResult { ok: 0, errors: 0, first_error: None, latencies: Vec::with_capacity(1 << 14) };
    let mut conn = Conn::open(addr).await?;
    let mut began = Instant::now();
    let mut fresh = true;
    loop {
        let now = Instant::now();
        if fresh {
            if now >= end {
                return Ok((r, flow));
            }
            began = now;
            fresh = false;
        }
        let req = flow.request();
        let result = conn.exchange(&req).await;
        let done = Instant::now();
        let measured = began >= start && done <= end;
        let failure = match result {
            Ok((status, body)) => {
                let head = String::from_utf8_lossy(&conn.buf[..body.start]).into_owned();
                match flow.answer(&Reply { status, head: &head, body: &conn.buf[body] }) {
                    Step::Next => {
                        if done > end + Duration::from_secs(5) {
                            // An iteration that cannot finish must not hold the run.
                            return Ok((r, flow));
                        }
                        continue;
                    }
                    Step::Done => None,
                    Step::Failed(e) => Some(e),
                }
            }
            Err(e) => {
                conn = Conn::open(addr).await?;
                Some(format!("{e:#}"))
            }
        };
        fresh = true;
        flow.restart();
        match failure {
            None if measured => {
                r.ok += 1;
                r.latencies.push(u32::try_from(done.duration_since(began).as_micros()).unwrap_or(u32::MAX));
            }
            None => {}
            Some(e) => {
                if measured {
                    r.errors += 1;
                }
                if r.first_error.is_none() {
                    r.first_error = Some(e);
                }
            }
        }
    }
}

/// How to drive one workload.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Concurrent keep-alive connections (closed loop: one request in flight on each).
    pub connections: usize,
    /// Load before measuring starts (connections warm, caches filled).
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// Total requests per second across all connections (paced, open loop per connection);
    /// `None`: as fast as answers come back.
    pub rate: Option<f64>,
}

/// What one workload measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Answers with a 2xx status within the measured time.
    pub ok: u64,
    /// Other answers and transport errors within the measured time.
    pub errors: u64,
    /// The first unexpected status or error seen, for the report.
    pub first_error: Option<String>,
    /// Measured wall time.
    pub elapsed: Duration,
    /// Every measured latency in microseconds, sorted.
    latencies: Vec<u32>,
}

impl Outcome {
    /// Successful requests per second.
    #[must_use]
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q` quantile (0..=1) of latency in milliseconds.
    #[must_use]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }
}

impl Outcome {
    /// Adds one connection's counts and latencies (the first error seen stays).
    fn absorb(&mut self, r: ConnResult) {
        self.ok += r.ok;
        self.errors += r.errors;
        if self.first_error.is_none() {
            self.first_error = r.first_error;
        }
        self.latencies.extend(r.latencies);
    }
}

struct ConnResult {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latencies: Vec<u32>,
}

/// Runs `spec.connections` connections against `addr`; connection `i` cycles through
/// `requests` starting at `i`. Connections that fail are reopened (and the failure counted).
pub async fn run(addr: SocketAddr, requests: Arc<Vec<Request>>, spec: Spec) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!requests.is_empty(), "no requests to send");
    let start = Instant::now() + spec.warmup;
    let end = start + spec.duration;
    let mut tasks = Vec::with_capacity(spec.connections);
    for i in 0..spec.connections {
        let requests = requests.clone();
        // Pacing: each connection sends every `connections / rate` seconds, staggered.
        let pace = spec.rate.map(|r| {
            let every = Duration::from_secs_f64(spec.connections as f64 / r.max(1e-3));
            (every, every.mul_f64(i as f64 / spec.connections as f64))
        });
        tasks.push(tokio::spawn(async move { drive(addr, &requests, i, start, end, pace).await }));
    }
    let mut out = Outcome { ok: 0, errors: 0, first_error: None, elapsed: spec.duration, latencies: Vec::new() };
    for t in tasks {
        out.absorb(t.await.context("load task panicked")??);
    }
    out.latencies.sort_unstable();
    Ok(out)
}

async fn drive(
    addr: SocketAddr,
    requests: &[Request],
    first: usize,
    start: Instant,
    end: Instant,
    pace: Option<(Duration, Duration)>,
) -> anyhow::Result<ConnResult> {
    let mut r = ConnResult { ok: 0, errors: 0, first_error: None, latencies: Vec::with_capacity(1 << 16) };
    let mut conn = Conn::open(addr).await?;
    let mut i = first;
    let mut next = pace.map(|(_, offset)| Instant::now() + offset);
    loop {
        if let (Some(at), Some((every, _))) = (next.as_mut(), pace) {
            tokio::time::sleep_until((*at).into()).await;
            *at += every;
        }
        let sent = Instant::now();
        if sent >= end {
            return Ok(r);
        }
        let req = &requests[i % requests.len()];
        i += 1;
        let result = conn.exchange(req).await;
        let done = Instant::now();
        let measured = sent >= start && done <= end;
        match result {
            Ok((status, body)) if (200..300).contains(&status) => {
                if measured {
                    r.ok += 1;
                    r.latencies.push(u32::try_from(done.duration_since(sent).as_micros()).unwrap_or(u32::MAX));
                }
                let _ = body;
            }
            Ok((status, body)) => {
                if measured {
                    r.errors += 1;
                }
                if r.first_error.is_none() {
                    let text = String::from_utf8_lossy(&conn.buf[body]).chars().take(200).collect::<String>();
                    r.first_error = Some(format!("{status}: {text}"));
                }
            }
            Err(e) => {
                if measured {
                    r.errors += 1;
                }
                if r.first_error.is_none() {
                    r.first_error = Some(format!("{e:#}"));
                }
                conn = Conn::open(addr).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_head;

    #[test]
    fn reads_status_and_length_case_insensitively() {
        let (s, n) = parse_head(b"HTTP/1.1 201 Created\r\ncontent-length: 42\r\nX: y").unwrap_or((0, 0));
        assert_eq!((s, n), (201, 42));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked").is_err());
        assert!(parse_head(b"garbage").is_err());
    }
}

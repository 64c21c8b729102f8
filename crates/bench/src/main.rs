//! `scaikey-bench`: the HTTP benchmark behind `cargo xtask bench`.
//!
//! It creates a fresh PostgreSQL database, starts the `scaikey` binary built alongside it (and a
//! second one without the client cache for W1-db), seeds data through the API and in bulk SQL,
//! installs and starts the `oidc-provider` peer, drives every workload from this process over
//! loopback, and prints one table with the machine's facts. `--smoke` runs everything tiny and
//! short (CI proves it starts and prints; timings there mean nothing).
//!
//! Depends on: the crypto crate (for the raw Argon2id parameters), ring (raw ES256 ceiling),
//! diesel-async (database setup and seeding), tokio (the load generator). Never on the server's
//! internals: ScaiKey is measured as a separate process, as users run it.

mod flows;
mod load;
mod peer;
mod process;
mod report;
mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::load::{Request, Spec, call};
use crate::process::{Proc, free_port};
use crate::report::{Report, Row};

const ADMIN_EMAIL: &str = "bench-admin@scaikey.bench";
const ADMIN_PASSWORD: &str = "Bench-admin-password-1";
const USER_PASSWORD: &str = "Bench-user-password-1";

/// Command-line options.
#[derive(Debug, Clone)]
struct Args {
    smoke: bool,
    server: PathBuf,
    admin_url: String,
    seconds: f64,
    users: i64,
    effective: i64,
    peer: bool,
    keep: bool,
    work: PathBuf,
    /// `--only W8,W9`: run just these workloads (all when `None`).
    only: Option<Vec<String>>,
    /// `--server-env K=V` (repeatable): settings for the ScaiKey processes under test, to try
    /// one (`SCAIKEY_WORKERS=4`) without editing the bench.
    server_env: Vec<(String, String)>,
}

impl Args {
    /// Whether workload `w` (such as `"W8"`) is to run.
    fn wants(&self, w: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.iter().any(|o| o.eq_ignore_ascii_case(w)))
    }
}

fn usage() -> &'static str {
    "usage: scaikey-bench [--smoke] [--seconds S] [--users N] [--effective N] [--no-peer] [--peer] [--keep-db]\n\
     \x20                    [--server PATH] [--database-url URL] [--only W1,W3,...]\n\
     \x20                    [--server-env SCAIKEY_K=V ...]"
}

fn parse_args() -> anyhow::Result<Args> {
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().context("executable without a directory")?.to_path_buf();
    let target = bin_dir.parent().map_or(bin_dir.clone(), std::path::Path::to_path_buf);
    let env_url = ["SCAIKEY_TEST_DATABASE_URL", "SCAIKEY_DATABASE_URL", "DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let mut a = Args {
        smoke: false,
        server: bin_dir.join("scaikey"),
        admin_url: env_url.unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        seconds: 10.0,
        users: 1_000_000,
        effective: 100_000,
        peer: true,
        keep: false,
        work: target.join("bench"),
        only: None,
        server_env: Vec::new(),
    };
    let mut peer_flag = None;
    let mut it = std::env::args().skip(1);
    let mut given = std::collections::HashSet::new();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value\n{}", usage()));
        match arg.as_str() {
            "--smoke" => a.smoke = true,
            "--no-peer" => peer_flag = Some(false),
            "--peer" => peer_flag = Some(true),
            "--keep-db" => a.keep = true,
            "--server-env" => {
                let kv = value("--server-env")?;
                let (k, v) = kv.split_once('=').with_context(|| format!("--server-env wants K=V, not {kv}"))?;
                a.server_env.push((k.to_string(), v.to_string()));
            }
            "--only" => a.only = Some(value("--only")?.split(',').map(|w| w.trim().to_string()).collect()),
            "--server" => a.server = PathBuf::from(value("--server")?),
            "--database-url" => a.admin_url = value("--database-url")?,
            "--seconds" => {
                a.seconds = value("--seconds")?.parse()?;
                given.insert("seconds");
            }
            "--users" => {
                a.users = value("--users")?.parse()?;
                given.insert("users");
            }
            "--effective" => {
                a.effective = value("--effective")?.parse()?;
                given.insert("effective");
            }
            // cargo bench-style flags passed through by habit are harmless.
            "--bench" => {}
            other => bail!("unknown argument {other}\n{}", usage()),
        }
    }
    if a.smoke {
        if !given.contains("seconds") {
            a.seconds = 0.5;
        }
        if !given.contains("users") {
            a.users = 2_000;
        }
        if !given.contains("effective") {
            a.effective = 1_000;
        }
    }
    // The peer needs the npm registry; a smoke skips it unless asked.
    a.peer = peer_flag.unwrap_or(!a.smoke);
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the API seeding produced.
#[derive(Debug)]
struct Seeded {
    admin_token: String,
    tenant_id: String,
    user_email: String,
    user_token: String,
    client_id: String,
    client_secret: String,
    big_tenant_id: String,
    effective_app: String,
    agent_token: String,
    /// A confidential WEB client with the code and refresh grants (W7–W9).
    web: flows::Client,
    /// ScaiKey's issuer, `http://127.0.0.1:port`.
    base: String,
    /// The big tenant's users' e-mails (they sign in with `USER_PASSWORD`).
    people: Vec<String>,
}

fn json_request(method: &str, path: &str, token: Option<&str>, body: &Value) -> Request {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    Request::new(method, path, &headers, &bytes)
}

fn get(path: &str, token: &str) -> Request {
    let auth = format!("Bearer {token}");
    Request::new("GET", path, &[("Authorization", &auth)], b"")
}

async fn api(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
    let a = call(addr, &json_request(method, path, token, &body)).await?;
    let v = a.json()?;
    anyhow::ensure!(a.status < 300, "{method} {path} answered {}: {v}", a.status);
    Ok(v)
}

fn text(v: &Value, key: &str) -> anyhow::Result<String> {
    v[key].as_str().map(str::to_string).with_context(|| format!("no {key} in {v}"))
}

fn login_body(email: &str, password: &str, tenant: Option<&str>) -> Value {
    json!({"email": email, "password": password, "tenant_id": tenant})
}

fn token_request(client_id: &str, secret: &str, path: &str, scope: &str) -> Request {
    let basic = basic(client_id, secret);
    let body = format!("grant_type=client_credentials&scope={scope}");
    Request::new(
        "POST",
        path,
        &[("Authorization", &basic), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

async fn seed(args: &Args, addr: SocketAddr, db_url: &str) -> anyhow::Result<Seeded> {
    let admin = api(addr, "POST", "/api/v1/auth/login", None, login_body(ADMIN_EMAIL, ADMIN_PASSWORD, None)).await?;
    let admin_token = text(&admin, "access_token")?;
    let t = Some(admin_token.as_str());
    let partner =
        api(addr, "POST", "/api/v1/admin/partners", t, json!({"name": "Bench partner", "slug": "bench-partner"}))
            .await?;
    let tenant = api(
        addr,
        "POST",
        "/api/v1/admin/tenants",
        t,
        json!({"name": "Bench tenant", "slug": "bench-tenant", "partner_id": text(&partner, "id")?}),
    )
    .await?;
    let tenant_id = text(&tenant, "id")?;
    let big =
        api(addr, "POST", "/api/v1/admin/tenants", t, json!({"name": "Big tenant", "slug": "big-tenant"})).await?;
    let big_tenant_id = text(&big, "id")?;
    let user_email = "tenant-admin@bench.test".to_string();
    api(
        addr,
        "POST",
        "/api/v1/admin/users",
        t,
        json!({"email": user_email, "password": USER_PASSWORD, "tenant_id": tenant_id, "roles": ["tenant_admin"]}),
    )
    .await?;
    let app = api(
        addr,
        "POST",
        "/api/v1/admin/applications",
        t,
        json!({"name": "Bench service", "application_type": "SERVICE", "scope": "GLOBAL",
               "allowed_scopes": ["admin:read"], "grant_types": ["client_credentials"], "token_lifetime": 3600}),
    )
    .await?;
    let web = api(
        addr,
        "POST",
        "/api/v1/admin/applications",
        t,
        json!({"name": "Bench web app", "application_type": "WEB", "scope": "GLOBAL", "first_party": true,
               "redirect_uris": [flows_redirect()], "grant_types": ["authorization_code", "refresh_token"],
               "allowed_scopes": ["openid", "email", "profile"], "token_lifetime": 3600}),
    )
    .await?;
    let web = flows::Client {
        basic: basic(&text(&web, "client_id")?, &text(&web, "client_secret")?),
        id: text(&web, "client_id")?,
        redirect_uri: flows_redirect(),
    };
    let user =
        api(addr, "POST", "/api/v1/auth/login", None, login_body(&user_email, USER_PASSWORD, Some(&tenant_id))).await?;
    let agent_token = agent(addr, t, &tenant_id).await?;
    let started = Instant::now();
    // One Argon2id hash of the bench password for all of them (W7 signs them in).
    let params = scaikey_crypto::password::owasp_params()?;
    let phc = scaikey_crypto::password::Argon2Hasher::hash_blocking(&params, USER_PASSWORD)?;
    seed::big_tenant_users(db_url, &seed::uuid_of(&big_tenant_id)?, args.users, &phc).await?;
    eprintln!("bench: seeded {} users into one tenant in {:.1} s", args.users, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let history = args.users.min(100_000);
    seed::sign_in_history(db_url, &seed::uuid_of(&big_tenant_id)?, &web.id, history).await?;
    eprintln!(
        "bench: seeded {history} users' sessions, codes and refresh tokens in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let effective_app = seed::effective_users_app(db_url, args.effective).await?;
    eprintln!(
        "bench: seeded {} effective users through nested groups in {:.1} s",
        args.effective,
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded {
        admin_token,
        tenant_id,
        user_email,
        user_token: text(&user, "access_token")?,
        client_id: text(&app, "client_id")?,
        client_secret: text(&app, "client_secret")?,
        big_tenant_id,
        effective_app,
        agent_token,
        web,
        base: format!("http://{addr}"),
        people: (0..args.users).map(|i| format!("user{i}@big.bench")).collect(),
    })
}

/// The bench web client's redirect URI (never fetched: the flow reads the code off it).
fn flows_redirect() -> String {
    "https://rp.bench.test/cb".into()
}

fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

/// `n` users signed in through the code flow: their token answers (W8's refresh families,
/// W9's access token).
async fn signed_in(addr: SocketAddr, s: &Seeded, n: usize) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let flow = flows::CodeFlow::new(
            s.web.clone(),
            &s.base,
            flows::People::new(vec![s.user_email.clone()]),
            USER_PASSWORD,
            "openid email profile",
            10_000 + i,
        );
        let done = load::complete(addr, flow).await.context("signing in through the code flow")?;
        out.push(done.last_tokens.context("no token answer")?);
    }
    Ok(out)
}

/// An MCP agent of the tenant allowed `get_tenant`, its token, and one checked call.
async fn agent(addr: SocketAddr, admin: Option<&str>, tenant_id: &str) -> anyhow::Result<String> {
    let agent = api(
        addr,
        "POST",
        "/api/v1/admin/agents",
        admin,
        json!({"name": "Bench agent", "tenant_id": tenant_id, "allowed_tools": ["get_tenant"], "allowed_scopes": ["admin:read"]}),
    )
    .await?;
    let creds =
        api(addr, "POST", &format!("/api/v1/admin/agents/{}/rotate-secret", text(&agent, "id")?), admin, json!({}))
            .await?;
    let t = call(
        addr,
        &token_request(&text(&creds, "client_id")?, &text(&creds, "client_secret")?, "/oauth/token", "admin:read"),
    )
    .await?
    .json()?;
    let token = text(&t, "access_token")?;
    let answer = api(addr, "POST", "/mcp", Some(&token), mcp_get_tenant(tenant_id)).await?;
    anyhow::ensure!(answer["result"]["isError"] == json!(false), "the MCP call failed: {answer}");
    Ok(token)
}

fn mcp_get_tenant(tenant_id: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_tenant", "arguments": {"tenant_id": tenant_id}}})
}

fn scaikey_command(args: &Args, db_url: &str, port: u16, cache_seconds: Option<u32>) -> Command {
    let mut c = Command::new(&args.server);
    c.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SCAIKEY_DATABASE_URL", db_url)
        .env("SCAIKEY_LISTEN", format!("127.0.0.1:{port}"))
        .env("SCAIKEY_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SCAIKEY_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        // A fixed bench-only master key: both servers must open the same signing keys.
        .env("SCAIKEY_MASTER_KEY", STANDARD.encode([7u8; 32]))
        .env("SCAIKEY_DATA_DIR", args.work.join("data"))
        .env("SCAIKEY_LOG", "warn");
    if let Some(s) = cache_seconds {
        c.env("SCAIKEY_CLIENT_CACHE_SECONDS", s.to_string());
    }
    c.envs(args.server_env.iter().map(|(k, v)| (k, v)));
    c
}

/// Resident memory once the process is idle: (2 s after the last request, settled). mimalloc
/// returns freed pages to the OS only after its purge delay and the next allocator activity
/// (freed Argon2id blocks, 19 MiB each, stay resident for a few seconds), so "idle" is the
/// lowest reading over 12 s of quiet, sampled each second; the 2 s reading is reported beside it.
async fn settled_rss(p: &Proc) -> (f64, f64) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let soon = p.rss_mib();
    let mut low = soon;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        low = low.min(p.rss_mib());
    }
    (soon, low)
}

async fn start_scaikey(args: &Args, db_url: &str, name: &str, cache_seconds: Option<u32>) -> anyhow::Result<Proc> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = args.work.join(format!("{name}.log"));
    Proc::start(name, scaikey_command(args, db_url, port, cache_seconds), &log, addr, "/readyz").await
}

/// Unmeasured load before a measured run: a fifth of it, between 0.1 and 2 s.
fn warmup(seconds: f64) -> Duration {
    Duration::from_secs_f64((seconds / 5.0).clamp(0.1, 2.0))
}

/// CPU cores a process used from [`CpuMeter::start`] to [`CpuMeter::cores`].
struct CpuMeter {
    cpu: f64,
    start: Instant,
}

impl CpuMeter {
    fn start(p: &Proc) -> Self {
        Self { cpu: p.cpu_seconds(), start: Instant::now() }
    }

    fn cores(&self, p: &Proc) -> f64 {
        (p.cpu_seconds() - self.cpu) / self.start.elapsed().as_secs_f64()
    }
}

/// Warm-up (unmeasured, though it counts toward peak RSS), then a measured run.
async fn measure(p: &Proc, name: &str, reqs: Vec<Request>, connections: usize, seconds: f64) -> anyhow::Result<Row> {
    let reqs = Arc::new(reqs);
    let spec = |duration| Spec { connections, warmup: Duration::ZERO, duration, rate: None };
    p.reset_peak();
    load::run(p.addr, reqs.clone(), spec(warmup(seconds))).await?;
    let meter = CpuMeter::start(p);
    let out = load::run(p.addr, reqs, spec(Duration::from_secs_f64(seconds))).await?;
    let row = Row::new(name, connections, out, p.peak_rss_mib(), meter.cores(p));
    eprintln!("bench: {}", row.summary());
    Ok(row)
}

async fn run(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.work).with_context(|| format!("creating {}", args.work.display()))?;
    anyhow::ensure!(
        args.server.exists(),
        "no ScaiKey binary at {} (build it: cargo build --release -p scaikey)",
        args.server.display()
    );
    let mut report = Report::new(args.smoke, args.users, args.effective);
    report.facts.push(("PostgreSQL".into(), seed::server_version(&args.admin_url).await?));
    if let Some(only) = &args.only {
        // A partial run: the targets of the workloads left out are not judged.
        report.facts.push(("Workloads".into(), format!("only {} (--only)", only.join(", "))));
    }

    // The ceilings, measured first on an idle machine.
    let ceiling_secs = if args.smoke { 0.2 } else { 3.0 };
    report.sign_rate = report::raw_sign_rate(Duration::from_secs_f64(ceiling_secs))?;
    report.hash_rate = report::raw_hash_rate(report.cores, Duration::from_secs_f64(ceiling_secs.max(1.0)))?;
    eprintln!(
        "bench: raw ES256 {:.0}/s on one core; raw Argon2id {:.1}/s on {} cores",
        report.sign_rate, report.hash_rate, report.cores
    );

    let db = format!("scaikey_bench_{}", std::process::id());
    seed::create_database(&args.admin_url, &db).await?;
    let db_url = seed::with_database(&args.admin_url, &db);
    let result = workloads(&args, &db_url, &mut report).await;
    if !args.keep
        && let Err(e) = seed::drop_database(&args.admin_url, &db).await
    {
        eprintln!("bench: could not drop {db}: {e:#}");
    }
    result?;
    let table = report.render();
    println!("{table}");
    let path = args.work.join("report.md");
    std::fs::write(&path, &table)?;
    eprintln!("bench: report written to {}", path.display());
    Ok(())
}

/// W8 (refresh grants with rotation, one family per connection) and W9 (userinfo,
/// introspection), ScaiKey and the peer alternating, `rounds` each; medians reported.
async fn tokens_workloads(
    args: &Args,
    server: &Proc,
    s: &Seeded,
    peer: Option<&Proc>,
    rounds: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    const CONNS: usize = 64;
    let secs = args.seconds;
    let answers = signed_in(server.addr, s, CONNS).await?;
    let refresh = |path: &str, basic: &str, tokens: &[(String, String)]| -> Vec<Box<dyn flows::Flow>> {
        tokens.iter().map(|(r, _)| Box::new(flows::RefreshFlow::new(path, basic, r)) as Box<dyn flows::Flow>).collect()
    };
    let ours: Vec<(String, String)> = answers
        .iter()
        .map(|a| Ok((text(a, "refresh_token")?, text(a, "access_token")?)))
        .collect::<anyhow::Result<_>>()?;
    let theirs = match peer {
        Some(p) => peer::mint(p.addr, CONNS).await?,
        None => Vec::new(),
    };
    let peer_basic = basic(peer::CLIENT_ID, peer::CLIENT_SECRET);
    let mut our_flows = refresh("/oauth/token", &s.web.basic, &ours);
    let mut their_flows = refresh("/token", &peer_basic, &theirs);
    let userinfo = |path: &str, token: &str| vec![get(path, token)];
    let introspect = |path: &str, basic: &str, token: &str| {
        let body = flows::form(&[("token", token)]);
        vec![Request::new(
            "POST",
            path,
            &[("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )]
    };
    let (our_access, their_access) = (&ours[0].1, theirs.first().map(|t| t.1.clone()).unwrap_or_default());
    let mut rows: Vec<(&str, Vec<Row>, Vec<Row>)> = vec![
        ("W8 refresh grant, rotation", vec![], vec![]),
        ("W9 userinfo", vec![], vec![]),
        ("W9 introspection", vec![], vec![]),
    ];
    let spec = Spec { connections: CONNS, warmup: warmup(secs), duration: Duration::from_secs_f64(secs), rate: None };
    for _ in 0..rounds {
        for (ours_side, proc) in [(true, Some(server)), (false, peer)] {
            let Some(p) = proc else { continue };
            let flows = std::mem::take(if ours_side { &mut our_flows } else { &mut their_flows });
            p.reset_peak();
            let meter = CpuMeter::start(p);
            let (out, back) = load::run_flows(p.addr, flows, spec).await?;
            let row = Row::new("W8", CONNS, out, p.peak_rss_mib(), meter.cores(p));
            eprintln!("bench: {} {}", if ours_side { "ScaiKey" } else { "peer" }, row.summary());
            *(if ours_side { &mut our_flows } else { &mut their_flows }) = back;
            let (info, intro) = if ours_side {
                (userinfo("/oauth/userinfo", our_access), introspect("/oauth/introspect", &s.web.basic, our_access))
            } else {
                (userinfo("/me", &their_access), introspect("/token/introspection", &peer_basic, &their_access))
            };
            let info = measure(p, "W9 userinfo", info, CONNS, secs).await?;
            let intro = measure(p, "W9 introspection", intro, CONNS, secs).await?;
            for (i, r) in [row, info, intro].into_iter().enumerate() {
                if ours_side { rows[i].1.push(r) } else { rows[i].2.push(r) }
            }
        }
    }
    let label = if rounds > 1 { format!(", median of {rounds}") } else { String::new() };
    for (name, ours, theirs) in rows {
        if let Some(r) = report::median(ours) {
            report.rows.push(r.renamed(&format!("{name} (ScaiKey{label})")));
        }
        if let Some(r) = report::median(theirs) {
            report.peers.push(r.renamed(&format!("Peer {name} (oidc-provider{label})")));
        }
    }
    Ok(())
}

async fn workloads(args: &Args, db_url: &str, report: &mut Report) -> anyhow::Result<()> {
    let server = start_scaikey(args, db_url, "scaikey", None).await?;
    let s = seed(args, server.addr, db_url).await?;
    let secs = args.seconds;
    let w1 = vec![token_request(&s.client_id, &s.client_secret, "/oauth/token", "admin:read")];
    let login = vec![json_request(
        "POST",
        "/api/v1/auth/login",
        None,
        &login_body(&s.user_email, USER_PASSWORD, Some(&s.tenant_id)),
    )];
    let w4 = vec![get(&format!("/api/v1/admin/tenants/{}", s.tenant_id), &s.user_token)];

    let quick =
        |connections| Spec { connections, warmup: Duration::ZERO, duration: Duration::from_millis(500), rate: None };
    // W1 and the peer's W1 alternate, three rounds each (one in a smoke), and the median of each
    // is reported: both see the same machine, and one noisy round decides nothing.
    let peer = if args.peer {
        match peer::start(&args.work).await {
            Ok((proc, version)) => {
                report.facts.push(("Peer".into(), version));
                Some(proc)
            }
            Err(e) => {
                eprintln!("bench: the peer could not start, so no ratio: {e:#}");
                None
            }
        }
    } else {
        None
    };
    let peer_w1 = vec![token_request(peer::CLIENT_ID, peer::CLIENT_SECRET, "/token", "api:read")];
    let rounds = if args.smoke { 1 } else { 3 };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..if args.wants("W1") { rounds } else { 0 } {
        ours.push(measure(&server, "W1 client_credentials (default: client cache)", w1.clone(), 64, secs).await?);
        if let Some(p) = &peer {
            theirs.push(measure(p, "Peer W1 oidc-provider", peer_w1.clone(), 64, secs).await?);
        }
    }
    let label = if rounds > 1 { format!(", median of {rounds}") } else { String::new() };
    if let Some(r) = report::median(ours) {
        report.rows.push(r.renamed(&format!("W1 client_credentials (default: client cache{label})")));
    }
    if let Some(r) = report::median(theirs) {
        report.peers.push(r.renamed(&format!("Peer W1 oidc-provider{label}")));
    }
    if args.wants("W8") || args.wants("W9") {
        tokens_workloads(args, &server, &s, peer.as_ref(), rounds, report).await?;
    }
    drop(peer);
    if args.wants("W1") {
        // A fresh process (no login has run in it yet) for idle memory, then W1-db.
        let uncached = start_scaikey(args, db_url, "scaikey-nocache", Some(0)).await?;
        for reqs in [&w1, &w4] {
            load::run(uncached.addr, Arc::new(reqs.clone()), quick(4)).await?;
        }
        report.idle_rss = settled_rss(&uncached).await.1;
        // Half a second of logins on two connections (both hashing permits busy), then quiet.
        load::run(uncached.addr, Arc::new(login.clone()), quick(2)).await?;
        (report.rss_soon_after_login, report.idle_rss_after_login) = settled_rss(&uncached).await;
        report
            .rows
            .push(measure(&uncached, "W1 client_credentials (DB lookup per request)", w1.clone(), 64, secs).await?);
    }

    // W3 alone (throughput against the raw hash rate), then again with W1 paced at 1,000/s on 8
    // more connections to show that hashing never stalls other requests.
    let spec = Spec { connections: 64, warmup: warmup(secs), duration: Duration::from_secs_f64(secs), rate: None };
    let raw = Duration::from_secs_f64(if args.smoke { 0.2 } else { 3.0 });
    if args.wants("W3") {
        let before = report::raw_hash_rate(report.cores, raw)?;
        w3_workloads(&server, login, &w1, spec, report).await?;
        let after = report::raw_hash_rate(report.cores, raw)?;
        report.hash_rate_around.push(("W3", f64::midpoint(before, after)));
    }
    if args.wants("W7") {
        let before = report::raw_hash_rate(report.cores, raw)?;
        w7_workloads(&server, &s, &w1, spec, report).await?;
        let after = report::raw_hash_rate(report.cores, raw)?;
        eprintln!("bench: raw Argon2id around W7: {before:.1}/s before, {after:.1}/s after");
        report.hash_rate_around.push(("W7", f64::midpoint(before, after)));
    }
    if args.wants("W4") {
        report.rows.push(measure(&server, "W4 GET tenant, user token", w4.clone(), 64, secs).await?);
        report.rows.push(measure(&server, "W4 GET tenant, moderate load", w4, 8, secs).await?);
    }
    if args.wants("W10") {
        // The same read as an agent's MCP tool call (token check, agent read, tool, audit record).
        let w10 = vec![json_request("POST", "/mcp", Some(&s.agent_token), &mcp_get_tenant(&s.tenant_id))];
        report.rows.push(measure(&server, "W10 MCP tools/call get_tenant, agent token", w10, 64, secs).await?);
    }
    if args.wants("W5") {
        w5_workloads(args, &server, &s, report).await?;
    }
    if args.wants("W6") {
        report.rows.push(
            measure(
                &server,
                "W6 effective users page 1",
                vec![get(&format!("/api/v1/admin/applications/{}/effective-users", s.effective_app), &s.admin_token)],
                // One at a time: the figure is the cost of one request, not a queue.
                1,
                secs,
            )
            .await?,
        );
    }
    drop(server);
    Ok(())
}

/// W3 alone, then with W1 paced beside it.
async fn w3_workloads(
    server: &Proc,
    login: Vec<Request>,
    w1: &[Request],
    spec: Spec,
    report: &mut Report,
) -> anyhow::Result<()> {
    let secs = spec.duration.as_secs_f64();
    report.rows.push(measure(server, "W3 login (Argon2id)", login.clone(), 64, secs).await?);
    server.reset_peak();
    let meter = CpuMeter::start(server);
    let (w3, beside) = tokio::join!(
        load::run(server.addr, Arc::new(login), spec),
        load::run(server.addr, Arc::new(w1.to_vec()), Spec { connections: 8, rate: Some(1000.0), ..spec })
    );
    let cores = meter.cores(server);
    report.rows.push(Row::new("W3 login, with W1 alongside", 64, w3?, server.peak_rss_mib(), cores));
    report.rows.push(Row::new("W1 at 1,000/s alongside W3", 8, beside?, server.peak_rss_mib(), cores));
    Ok(())
}

/// W7: whole sign-ins, W1 paced beside them.
async fn w7_workloads(
    server: &Proc,
    s: &Seeded,
    w1: &[Request],
    spec: Spec,
    report: &mut Report,
) -> anyhow::Result<()> {
    // W7: whole sign-ins (authorize, login page, form with Argon2id, code, token), W1 beside.
    // Different people signing in at once, as on a real login page: the big tenant's users in
    // turn (one person 64 times at once would queue on that person's row instead).
    let people = flows::People::new(s.people.clone());
    let flows: Vec<Box<dyn flows::Flow>> = (0..64)
        .map(|i| {
            let f =
                flows::CodeFlow::new(s.web.clone(), &s.base, people.clone(), USER_PASSWORD, "openid email profile", i);
            Box::new(f) as Box<dyn flows::Flow>
        })
        .collect();
    server.reset_peak();
    let meter = CpuMeter::start(server);
    let (w7, beside) = tokio::join!(
        load::run_flows(server.addr, flows, spec),
        load::run(server.addr, Arc::new(w1.to_vec()), Spec { connections: 8, rate: Some(1000.0), ..spec })
    );
    let cores = meter.cores(server);
    report.rows.push(Row::new(
        "W7 code flow (authorize to token), with W1 alongside",
        64,
        w7?.0,
        server.peak_rss_mib(),
        cores,
    ));
    report.rows.push(Row::new("W1 at 1,000/s alongside W7", 8, beside?, server.peak_rss_mib(), cores));
    Ok(())
}

/// W5: pages of a big tenant's user list, near and far, and a search.
async fn w5_workloads(args: &Args, server: &Proc, s: &Seeded, report: &mut Report) -> anyhow::Result<()> {
    let secs = args.seconds;
    let users = |q: &str| vec![get(&format!("/api/v1/admin/users?tenant_id={}&{q}", s.big_tenant_id), &s.admin_token)];
    let pages = (args.users / 20).max(1);
    report.rows.push(measure(server, "W5 users page 1", users("page=1&per_page=20"), 8, secs).await?);
    let deep = (pages / 50).max(1);
    report.rows.push(
        measure(server, &format!("W5 users page {deep}"), users(&format!("page={deep}&per_page=20")), 8, secs).await?,
    );
    let middle = (pages / 2).max(1);
    report.rows.push(
        measure(server, &format!("W5 users page {middle}"), users(&format!("page={middle}&per_page=20")), 8, secs)
            .await?,
    );
    report.rows.push(measure(server, "W5 users search=user12345", users("search=user12345"), 8, secs).await?);
    Ok(())
}

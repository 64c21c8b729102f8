//! `scaikey [serve|migrate|openapi|keys list|keys rotate [--alg ES256|RS256]… [--emergency]] [--config PATH]`

use std::path::PathBuf;
use std::process::ExitCode;

use scaikey::Settings;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc malloc: Argon2id needs 19 MiB per hashing thread, and glibc kept
/// such blocks in per-thread arenas (RSS grew by 19 MiB per login up to hundreds of MiB while
/// hashes ran on tokio's blocking pool); mimalloc returns them to the OS. See docs/decisions.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: scaikey [serve|migrate|openapi] [--config PATH]
       scaikey keys list [--config PATH]
       scaikey keys rotate [--alg ES256|RS256]... [--emergency] [--config PATH]";

/// What `keys` was asked.
#[derive(Default)]
struct KeysArgs {
    sub: Option<String>,
    algorithms: Option<Vec<String>>,
    emergency: bool,
}

fn parse_args() -> Result<(String, Option<PathBuf>, KeysArgs), String> {
    let mut cmd: Option<String> = None;
    let mut config = None;
    let mut keys = KeysArgs::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let in_keys = cmd.as_deref() == Some("keys");
        match a.as_str() {
            "--config" => config = Some(PathBuf::from(args.next().ok_or("--config needs a path")?)),
            "-h" | "--help" => return Err(String::new()),
            "serve" | "migrate" | "openapi" | "keys" if cmd.is_none() => cmd = Some(a),
            "list" | "rotate" if in_keys && keys.sub.is_none() => keys.sub = Some(a),
            "--alg" if in_keys => {
                keys.algorithms.get_or_insert_with(Vec::new).push(args.next().ok_or("--alg needs ES256 or RS256")?);
            }
            "--emergency" if in_keys => keys.emergency = true,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if cmd.as_deref() == Some("keys") && keys.sub.is_none() {
        return Err("keys needs list or rotate".into());
    }
    Ok((cmd.unwrap_or_else(|| "serve".into()), config, keys))
}

fn init_logs(s: &Settings) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&s.log));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if s.log_format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> ExitCode {
    let (cmd, config, keys) = match parse_args() {
        Ok(x) => x,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cmd == "openapi" {
        match serde_json::to_string_pretty(&scaikey_http::openapi::document()) {
            Ok(doc) => {
                println!("{doc}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let settings = match Settings::load(config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logs(&settings);
    let result = actix_web::rt::System::new().block_on(async move {
        match cmd.as_str() {
            "migrate" => scaikey::server::migrate(&settings).await.map(|_| ()),
            "keys" => run_keys(&settings, keys).await,
            _ => serve(settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `scaikey keys list|rotate`: run by an operator who holds the database and the master key, so
/// no admin token is asked; the rotation is audited like one made through the API.
async fn run_keys(settings: &Settings, args: KeysArgs) -> anyhow::Result<()> {
    let keys = if args.sub.as_deref() == Some("rotate") {
        let input = scaikey_app::keys::RotationInput { algorithms: args.algorithms, emergency: args.emergency };
        scaikey::server::rotate_keys(settings, input).await?
    } else {
        scaikey::server::list_keys(settings).await?
    };
    println!("{:<28} {:<6} {:<12} {:<26} retires_at", "kid", "alg", "state", "activates_at");
    for k in keys {
        let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let retires = k.schedule.retires_at.map_or_else(|| "-".to_string(), time);
        println!(
            "{:<28} {:<6} {:<12} {:<26} {retires}",
            k.kid,
            k.alg.as_str(),
            k.state.as_str(),
            time(k.schedule.activates_at)
        );
    }
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let started = scaikey::start(settings).await?;
    if let Some((email, password)) = &started.generated_admin {
        println!(
            "Created a super admin for development:\n  email:    {email}\n  password: {password}\n(set SCAIKEY_BOOTSTRAP_ADMIN_EMAIL/PASSWORD to choose them)"
        );
    }
    println!("ScaiKey is serving on http://{}", started.addr);
    started.server.await?;
    // Graceful shutdown: write the audit events still queued.
    started.audit.flush().await;
    Ok(())
}

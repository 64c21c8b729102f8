//! `scaikey [serve|migrate|openapi] [--config PATH]`

use std::path::PathBuf;
use std::process::ExitCode;

use scaikey::Settings;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc malloc: Argon2id allocates 19 MiB per hash on whichever blocking
/// thread runs it, and glibc keeps such blocks in per-thread arenas (RSS grew by 19 MiB per login
/// up to hundreds of MiB); mimalloc returns them to the OS. See docs/decisions.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: scaikey [serve|migrate|openapi] [--config PATH]";

fn parse_args() -> Result<(String, Option<PathBuf>), String> {
    let mut cmd = None;
    let mut config = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = Some(PathBuf::from(args.next().ok_or("--config needs a path")?)),
            "-h" | "--help" => return Err(String::new()),
            "serve" | "migrate" | "openapi" if cmd.is_none() => cmd = Some(a),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok((cmd.unwrap_or_else(|| "serve".into()), config))
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
    let (cmd, config) = match parse_args() {
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

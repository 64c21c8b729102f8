//! Configuration (contract §1): built-in defaults < optional TOML file (`--config PATH`) <
//! environment (`SCAIKEY_*`, plus plain `DATABASE_URL`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Where the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local work: `/openapi.json` served, a master key generated if missing, a bootstrap
    /// password generated and printed if none is configured.
    Development,
    /// Production: no OpenAPI document, master key required.
    Production,
}

/// Every setting, after layering.
#[derive(Clone, Deserialize)]
pub struct Settings {
    /// PostgreSQL URL.
    pub database_url: String,
    /// Listen address.
    pub listen: String,
    /// Token issuer; defaults to `http://<listen>`.
    pub issuer: Option<String>,
    /// Bootstrap super admin e-mail.
    pub bootstrap_admin_email: Option<String>,
    /// Bootstrap super admin password.
    pub bootstrap_admin_password: Option<String>,
    /// `development` or `production`.
    pub env: Environment,
    /// Age at which a pending registration request expires.
    pub registration_ttl_hours: u32,
    /// Base64 of 32 random bytes; encrypts secrets at rest.
    pub master_key: Option<String>,
    /// Where `development` keeps its generated master key.
    pub data_dir: PathBuf,
    /// `ES256` (default) or `RS256`.
    pub signing_alg: String,
    /// Access token lifetime.
    pub access_token_ttl_seconds: u32,
    /// Session lifetime when a tenant sets no `session_timeout`.
    pub session_ttl_minutes: u32,
    /// Most pooled database connections.
    pub db_max_connections: usize,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Concurrent password hashes (0: one per core).
    pub hash_concurrency: usize,
    /// Seconds a client record stays cached for the token endpoint; 0 = look it up in
    /// PostgreSQL on every token request. Changes made elsewhere reach the cache within a second
    /// (polled) whatever this is.
    pub client_cache_seconds: u64,
    /// Milliseconds userinfo remembers a person's claims (0: read them on every call). Access
    /// is checked on every call regardless; only the claims' content may be this old.
    pub userinfo_cache_millis: u64,
    /// Seconds a replaced refresh token may still be used once (parallel refreshes).
    pub refresh_reuse_grace_seconds: u32,
    /// Longest wait for a request's headers.
    pub header_timeout_seconds: u32,
    /// Longest a request body may take to arrive.
    pub body_timeout_seconds: u32,
    /// Longest a handler may run (then 503).
    pub handler_timeout_seconds: u32,
    /// How long an idle keep-alive connection is held.
    pub keep_alive_seconds: u32,
    /// Most requests in flight from one client IP (then 429).
    pub max_requests_per_ip: usize,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` names the
    /// client IP for audit and login throttling; empty: the socket's peer is the client.
    pub trusted_proxies: String,
    /// Bearer token Prometheus must send to `/metrics`; unset: loopback scrapes only.
    pub metrics_token: Option<String>,
    /// Window over which unauthenticated refusals are counted into one audit row per reason and
    /// client IP (the first of each is written at once).
    pub audit_aggregate_seconds: u32,
    /// Seconds a rotated-in signing key is published before it signs, so every process and
    /// every JWKS cache knows it first (default: the JWKS cache lifetime, 300).
    pub key_prepublish_seconds: u32,
    /// SMTP server for reset and invitation mail (`smtp://` with STARTTLS when offered,
    /// `smtps://` implicit TLS; user and password in the URL). Unset: mail goes to the log in
    /// development and is off in production.
    pub smtp_url: Option<String>,
    /// Sender of ScaiKey's mail; default `ScaiKey <no-reply@<issuer host>>`.
    pub smtp_from: Option<String>,
    /// Minutes a password-reset link works.
    pub reset_link_minutes: u32,
    /// Dynamic client registration: `approve` (every registration waits for an admin) or
    /// `auto` (clients asking only for sign-in scopes and the MCP resource are approved at once).
    pub dcr_policy: String,
    /// Client ID metadata documents: `on` accepts an https URL as `client_id` (the document it
    /// names describes the client), `off` (default) does not.
    pub cimd: String,
    /// `tracing` filter, e.g. `info,scaikey=debug`.
    pub log: String,
    /// `text` or `json` logs.
    pub log_format: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs.
        f.debug_struct("Settings")
            .field("database_url", &scaikey_persistence::redact(&self.database_url))
            .field("listen", &self.listen)
            .field("issuer", &self.issuer())
            .field("env", &self.env)
            .field("signing_alg", &self.signing_alg)
            .field("bootstrap_admin_email", &self.bootstrap_admin_email)
            .finish_non_exhaustive()
    }
}

/// The shortest pre-publication: twice the interval at which processes reload keys.
pub const MIN_KEY_PREPUBLISH_SECONDS: u32 = 2;

/// The default database when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/scaikey";

impl Settings {
    /// Loads settings from defaults, `file` and the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        Self::load_from(file, std::env::vars())
    }

    /// Loads settings from defaults, `file` and the given environment (tests pass their own).
    pub fn load_from(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Settings> {
        let mut env: std::collections::HashMap<String, String> = env
            .into_iter()
            .filter(|(k, v)| (k.starts_with("SCAIKEY_") || k == "DATABASE_URL") && !v.is_empty())
            .collect();
        if let Some(url) = env.remove("DATABASE_URL") {
            env.entry("SCAIKEY_DATABASE_URL".into()).or_insert(url);
        }
        let mut b = config::Config::builder()
            .set_default("database_url", DEFAULT_DATABASE_URL)?
            .set_default("listen", "127.0.0.1:8080")?
            .set_default("env", "development")?
            .set_default("registration_ttl_hours", 720)?
            .set_default("data_dir", "data")?
            .set_default("signing_alg", "ES256")?
            .set_default("access_token_ttl_seconds", 3600)?
            .set_default("session_ttl_minutes", 480)?
            .set_default("db_max_connections", 16)?
            .set_default("workers", 0)?
            .set_default("hash_concurrency", 0)?
            .set_default("client_cache_seconds", 60)?
            .set_default("userinfo_cache_millis", 1000)?
            .set_default("refresh_reuse_grace_seconds", 5)?
            .set_default("key_prepublish_seconds", 300)?
            .set_default("audit_aggregate_seconds", 60)?
            .set_default("header_timeout_seconds", 5)?
            .set_default("body_timeout_seconds", 10)?
            .set_default("handler_timeout_seconds", 30)?
            .set_default("keep_alive_seconds", 15)?
            .set_default("max_requests_per_ip", 256)?
            .set_default("trusted_proxies", "")?
            .set_default("reset_link_minutes", scaikey_domain::mail_link::DEFAULT_RESET_MINUTES)?
            .set_default("dcr_policy", "approve")?
            .set_default("cimd", "off")?
            .set_default("log", "info")?
            .set_default("log_format", "text")?;
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).format(config::FileFormat::Toml).required(true));
        }
        b = b.add_source(
            config::Environment::with_prefix("SCAIKEY")
                .prefix_separator("_")
                .try_parsing(true)
                .source(Some(env.into_iter().collect())),
        );
        let s: Settings = b.build()?.try_deserialize().context("invalid configuration")?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            bail!("SCAIKEY_LISTEN must be host:port with an IP address, got {:?}", self.listen);
        }
        if self.bootstrap_admin_email.is_some() != self.bootstrap_admin_password.is_some() {
            bail!("set both SCAIKEY_BOOTSTRAP_ADMIN_EMAIL and SCAIKEY_BOOTSTRAP_ADMIN_PASSWORD, or neither");
        }
        if self.access_token_ttl_seconds == 0 || self.session_ttl_minutes == 0 {
            bail!("token and session lifetimes must be positive");
        }
        scaikey_crypto::keys::SigningAlg::parse(&self.signing_alg)?;
        if [self.header_timeout_seconds, self.body_timeout_seconds, self.handler_timeout_seconds].contains(&0)
            || self.max_requests_per_ip == 0
        {
            bail!("request timeouts and SCAIKEY_MAX_REQUESTS_PER_IP must be positive");
        }
        scaikey_domain::client_ip::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("SCAIKEY_TRUSTED_PROXIES: {e}"))?;
        if scaikey_domain::dcr::DcrPolicy::parse(&self.dcr_policy).is_none() {
            bail!("SCAIKEY_DCR_POLICY must be approve or auto, got {:?}", self.dcr_policy);
        }
        if !matches!(self.cimd.as_str(), "on" | "off") {
            bail!("SCAIKEY_CIMD must be on or off, got {:?}", self.cimd);
        }
        if self.reset_link_minutes == 0 {
            bail!("SCAIKEY_RESET_LINK_MINUTES must be at least 1");
        }
        if let Some(u) = self.smtp_url.as_deref()
            && !(u.starts_with("smtp://") || u.starts_with("smtps://"))
        {
            bail!("SCAIKEY_SMTP_URL must start with smtp:// or smtps://");
        }
        if self.audit_aggregate_seconds == 0 {
            bail!("SCAIKEY_AUDIT_AGGREGATE_SECONDS must be at least 1");
        }
        if self.key_prepublish_seconds < MIN_KEY_PREPUBLISH_SECONDS {
            bail!(
                "SCAIKEY_KEY_PREPUBLISH_SECONDS must be at least {MIN_KEY_PREPUBLISH_SECONDS}: every process reloads keys each second"
            );
        }
        Ok(())
    }

    /// The proxies whose `X-Forwarded-For` is believed (checked at load).
    #[must_use]
    pub fn trusted_proxies(&self) -> scaikey_domain::client_ip::TrustedProxies {
        scaikey_domain::client_ip::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }

    /// The token issuer.
    #[must_use]
    pub fn issuer(&self) -> String {
        self.issuer.clone().unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The sender of ScaiKey's mail.
    #[must_use]
    pub fn smtp_from(&self) -> String {
        self.smtp_from.clone().unwrap_or_else(|| {
            let issuer = self.issuer();
            // A mail address needs a domain name; an IP-address issuer falls back to localhost.
            let host = url::Url::parse(&issuer).ok().and_then(|u| match u.host() {
                Some(url::Host::Domain(d)) => Some(d.to_string()),
                _ => None,
            });
            format!("ScaiKey <no-reply@{}>", host.unwrap_or_else(|| "localhost".into()))
        })
    }

    /// Cores, for defaults.
    #[must_use]
    pub fn cores() -> usize {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn defaults_and_env_layers() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.issuer(), "http://127.0.0.1:8080");
        assert_eq!(s.env, Environment::Development);
        assert_eq!(s.registration_ttl_hours, 720);

        let s = Settings::load_from(
            None,
            env(&[
                ("DATABASE_URL", "postgres://plain/db"),
                ("SCAIKEY_LISTEN", "127.0.0.1:9999"),
                ("SCAIKEY_ENV", "production"),
                ("SCAIKEY_REGISTRATION_TTL_HOURS", "24"),
                ("SCAIKEY_ISSUER", "https://id.example.com"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database_url, "postgres://plain/db");
        assert_eq!(s.env, Environment::Production);
        assert_eq!(s.registration_ttl_hours, 24);
        assert_eq!(s.issuer(), "https://id.example.com");

        // SCAIKEY_DATABASE_URL wins over DATABASE_URL.
        let s = Settings::load_from(
            None,
            env(&[("DATABASE_URL", "postgres://plain/db"), ("SCAIKEY_DATABASE_URL", "postgres://prefixed/db")]),
        )
        .unwrap();
        assert_eq!(s.database_url, "postgres://prefixed/db");
    }

    #[test]
    fn file_layer_sits_under_env() {
        let dir = std::env::temp_dir().join(format!("scaikey-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:7000\"\nsigning_alg = \"RS256\"\n").unwrap();
        let s = Settings::load_from(Some(&f), env(&[("SCAIKEY_SIGNING_ALG", "ES256")])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:7000");
        assert_eq!(s.signing_alg, "ES256");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Settings::load_from(None, env(&[("SCAIKEY_LISTEN", "nowhere")])).is_err());
        assert!(Settings::load_from(None, env(&[("SCAIKEY_ENV", "staging")])).is_err());
        assert!(Settings::load_from(None, env(&[("SCAIKEY_SIGNING_ALG", "HS256")])).is_err());
        assert!(Settings::load_from(None, env(&[("SCAIKEY_BOOTSTRAP_ADMIN_EMAIL", "a@b.c")])).is_err());
        assert!(Settings::load_from(None, env(&[("SCAIKEY_REGISTRATION_TTL_HOURS", "soon")])).is_err());
    }
}

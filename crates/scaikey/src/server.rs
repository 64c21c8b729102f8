//! Wiring: database → keys → services → HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use scaikey_app::applications::ApplicationService;
use scaikey_app::audit::AuditService;
use scaikey_app::auth::{AuthService, AuthSettings};
use scaikey_app::client_cache::CachedApplications;
use scaikey_app::federation::{AgentService, IdpService};
use scaikey_app::groups::GroupService;
use scaikey_app::keys::{KeyService, RotationInput};
use scaikey_app::mail_links::{MailLinkService, MailLinkSettings};
use scaikey_app::oauth::OAuthService;
use scaikey_app::oidc::{OidcService, OidcSettings};
use scaikey_app::partners::PartnerService;
use scaikey_app::ports::keys::{SigningKeyInfo, SigningKeys};
use scaikey_app::ports::mail::Mailer;
use scaikey_app::ports::{Clock, CutoffRepository, IdGenerator, MonotonicIds, SessionRepository, SystemClock};
use scaikey_app::refusals::AggregatingSink;
use scaikey_app::registrations::RegistrationService;
use scaikey_app::revocation::RevocationList;
use scaikey_app::sessions::SessionService;
use scaikey_app::tenants::TenantService;
use scaikey_app::users::UserService;
use scaikey_crypto::keyring::{Keyring, KeyringConfig};
use scaikey_crypto::keys::SigningAlg;
use scaikey_crypto::master::MasterKey;
use scaikey_crypto::password::Argon2Hasher;
use scaikey_crypto::secrets::HmacClientSecrets;
use scaikey_domain::audit::{AuditRecord, AuditResult};
use scaikey_http::AppState;
use scaikey_http::state::Readiness;
use scaikey_persistence::{AuditWriter, Database, DbConfig, redact};
use scaikey_web::WebState;

use crate::settings::{Environment, Settings};
use scaikey_domain::audit::action;

/// The `aud` of every access token ScaiKey issues.
pub const TOKEN_AUDIENCE: &str = "scaikey";

/// The mailer of the settings: SMTP when `SCAIKEY_SMTP_URL` is set; otherwise the log in
/// development, and none (mail off) in production.
fn mailer(settings: &Settings) -> anyhow::Result<Option<Arc<dyn Mailer>>> {
    Ok(match (&settings.smtp_url, settings.env) {
        (Some(url), _) => Some(Arc::new(scaikey_mail::SmtpMailer::start(url, &settings.smtp_from())?)),
        (None, Environment::Development) => {
            tracing::warn!("SCAIKEY_SMTP_URL is not set: reset and invitation mails are written to the log");
            Some(Arc::new(scaikey_mail::LogMailer))
        }
        (None, Environment::Production) => {
            tracing::info!("SCAIKEY_SMTP_URL is not set: password reset and invitations by mail are off");
            None
        }
    })
}

/// How often each process pulls revocations made by other processes.
pub const REVOCATION_POLL: Duration = Duration::from_secs(1);

/// How often each process reloads the signing keys (rotations made elsewhere, activations due).
pub const KEY_POLL: Duration = Duration::from_secs(1);

/// How often pending registration requests past their expiry are recorded as EXPIRED (reads
/// show EXPIRED at once regardless).
pub const REGISTRATION_SWEEP: Duration = Duration::from_secs(60);

/// Keeps `list` in step with sessions revoked and applications disabled by any process on the
/// same database, and drops cached clients that any process changed.
fn spawn_revocation_poller(
    list: Arc<RevocationList>,
    sessions: Arc<dyn SessionRepository>,
    apps: Arc<CachedApplications>,
    cutoffs: Arc<dyn CutoffRepository>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REVOCATION_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = chrono::Utc::now();
            if let Err(e) = list.refresh(sessions.as_ref(), now).await {
                tracing::warn!(error = %e, "session revocation refresh failed; retrying");
            }
            if let Err(e) = list.refresh_apps(apps.as_ref(), now).await {
                tracing::warn!(error = %e, "application revocation refresh failed; retrying");
            }
            if let Err(e) = list.refresh_cutoffs(cutoffs.as_ref(), now).await {
                tracing::warn!(error = %e, "token cutoff refresh failed; retrying");
            }
            if let Err(e) = apps.refresh(now).await {
                tracing::warn!(error = %e, "client cache refresh failed; retrying");
            }
        }
    });
}

/// Keeps the key ring in step with rotations made by any process and with activation times.
fn spawn_key_poller(ring: Arc<Keyring>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = ring.refresh().await {
                tracing::warn!(error = %e, "signing key reload failed; retrying");
            }
        }
    });
}

/// The key ring over the database's keys (a first key of each algorithm made if missing).
/// Rotated-out keys stay published for the longest token lifetime after the new key signs.
pub async fn keyring(
    settings: &Settings,
    db: &Database,
    master: Arc<MasterKey>,
    issuer: &str,
) -> anyhow::Result<Keyring> {
    let longest = i64::from(settings.access_token_ttl_seconds).max(scaikey_domain::application::MAX_TOKEN_LIFETIME);
    let config = KeyringConfig {
        issuer: issuer.to_string(),
        audience: TOKEN_AUDIENCE.to_string(),
        alg: SigningAlg::parse(&settings.signing_alg)?,
        policy: scaikey_domain::oidc::signing_key::RotationPolicy {
            prepublish: chrono::Duration::seconds(i64::from(settings.key_prepublish_seconds)),
            longest_token: chrono::Duration::seconds(longest),
        },
    };
    Keyring::open(Arc::new(db.signing_keys()), master, config).await
}

/// The gauges `/metrics` reads at each scrape.
struct ServerGauges {
    writer: AuditWriter,
    db: Database,
    revocations: Arc<RevocationList>,
}

impl scaikey_http::metrics::Gauges for ServerGauges {
    fn read(&self) -> Vec<(&'static str, &'static str, i64)> {
        let (open, busy, max) = self.db.pool_status();
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        vec![
            ("audit_queue_depth", "Audit events waiting to be written", n(self.writer.queued())),
            (
                "audit_dropped_since_start",
                "Audit events lost since the process started (queue full or refused by the database)",
                i64::try_from(self.writer.dropped_total()).unwrap_or(i64::MAX),
            ),
            (
                "audit_dropped_pending",
                "Audit events dropped and not yet reported by an audit.dropped event",
                i64::try_from(self.writer.pending_drops()).unwrap_or(i64::MAX),
            ),
            ("db_pool_connections", "Database connections open", n(open)),
            ("db_pool_connections_in_use", "Database connections in use", n(busy)),
            ("db_pool_connections_max", "Most database connections", n(max)),
            ("revoked_sessions", "Revoked sessions held by the revocation list", n(self.revocations.len())),
        ]
    }
}

/// The key ring of a command-line run: migrated database, master key, keys.
async fn offline_keyring(settings: &Settings) -> anyhow::Result<Keyring> {
    migrate(settings).await?;
    let db = Database::connect(&DbConfig {
        url: settings.database_url.clone(),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })?;
    keyring(settings, &db, Arc::new(master_key(settings)?), &settings.issuer()).await
}

/// `scaikey keys list`.
pub async fn list_keys(settings: &Settings) -> anyhow::Result<Vec<SigningKeyInfo>> {
    Ok(offline_keyring(settings).await?.list().await?)
}

/// `scaikey keys rotate`: validated as the API's rotation is; audited with the command as the
/// actor. Running servers pick the new keys up within [`KEY_POLL`].
pub async fn rotate_keys(settings: &Settings, input: RotationInput) -> anyhow::Result<Vec<SigningKeyInfo>> {
    let request = input
        .validate()
        .map_err(|e| anyhow::anyhow!("{}", e.errors().iter().map(|f| f.msg.as_str()).collect::<Vec<_>>().join("; ")))?;
    let ring = offline_keyring(settings).await?;
    let audit = AuditRecord::anonymous(
        &scaikey_domain::audit::RequestMeta::new(None, Some("scaikey keys rotate")),
        action::SIGNING_KEY_ROTATE,
        "signing_key",
        AuditResult::Success,
    )
    .details(serde_json::json!({
        "algorithms": request.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "emergency": request.emergency,
        "via": "command line",
    }));
    Ok(ring.rotate(&request, &audit).await?)
}

fn spawn_registration_sweep(registrations: RegistrationService) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REGISTRATION_SWEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match registrations.sweep().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "recorded expired registration requests"),
                Err(e) => tracing::warn!(error = %e, "registration sweep failed; retrying"),
            }
        }
    });
}

/// How often counters of failed logins that hold nothing back are deleted.
const THROTTLE_PURGE: Duration = Duration::from_secs(600);

fn spawn_throttle_purge(throttle: Arc<scaikey_app::throttle::LoginThrottle>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(THROTTLE_PURGE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match throttle.purge().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "purged old failed-login counters"),
                Err(e) => tracing::warn!(error = %e, "failed-login counter purge failed; retrying"),
            }
        }
    });
}

/// A bound, not yet awaited server.
pub struct Started {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    /// Await it to serve; stop it with its handle.
    pub server: actix_web::dev::Server,
    /// The generated bootstrap admin password, when one was created in development.
    pub generated_admin: Option<(String, String)>,
    /// What is still held for the audit log; flush it after the server stops.
    pub audit: AuditFlusher,
}

/// Writes what the process still holds for the audit log: the tally of issued client tokens,
/// then the batched writer's queue.
#[derive(Debug, Clone)]
pub struct AuditFlusher {
    oauth: Arc<OAuthService>,
    refusals: Arc<AggregatingSink>,
    writer: AuditWriter,
}

impl AuditFlusher {
    /// Flushes the tallies, then the writer.
    pub async fn flush(&self) {
        self.oauth.flush_issued();
        self.refusals.flush(chrono::Utc::now(), true);
        self.writer.flush().await;
    }
}

/// How often the tally of issued client tokens becomes audit events.
pub const ISSUED_TOKENS_FLUSH: Duration = Duration::from_secs(1);

fn spawn_issued_tokens_flush(oauth: Arc<OAuthService>, refusals: Arc<AggregatingSink>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ISSUED_TOKENS_FLUSH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            oauth.flush_issued();
            refusals.flush(chrono::Utc::now(), false);
        }
    });
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started").field("addr", &self.addr).finish_non_exhaustive()
    }
}

struct DbReady(Database);

#[async_trait::async_trait]
impl Readiness for DbReady {
    async fn ready(&self) -> bool {
        self.0.ready().await
    }
}

/// Creates the database if needed and applies pending migrations.
pub async fn migrate(settings: &Settings) -> anyhow::Result<usize> {
    if scaikey_persistence::ensure_database(&settings.database_url).await? {
        tracing::info!(db = %redact(&settings.database_url), "created database");
    }
    let n = scaikey_persistence::migrate(&settings.database_url).await?;
    tracing::info!(applied = n, "migrations up to date");
    Ok(n)
}

fn master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(k) = &settings.master_key {
        return MasterKey::from_base64(k).context("SCAIKEY_MASTER_KEY");
    }
    if settings.env == Environment::Production {
        anyhow::bail!("SCAIKEY_MASTER_KEY is required in production (base64 of 32 random bytes)");
    }
    let path = settings.data_dir.join("master.key");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating {}", settings.data_dir.display()))?;
            let k = MasterKey::generate_base64()?;
            write_private(&path, &k)?;
            k
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    tracing::warn!(path = %path.display(), "using a development master key from the data directory; set SCAIKEY_MASTER_KEY in production");
    MasterKey::from_base64(&text)
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn random_password() -> anyhow::Result<String> {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut b);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Migrates, loads keys, builds the services, bootstraps the admin and binds the HTTP server.
pub async fn start(settings: Settings) -> anyhow::Result<Started> {
    // Bound first, so an unset issuer names the real address (also with port 0).
    let listener =
        std::net::TcpListener::bind(&settings.listen).with_context(|| format!("binding {}", settings.listen))?;
    let addr = listener.local_addr().context("no listen address")?;
    migrate(&settings).await?;
    let db = Database::connect(&DbConfig {
        url: settings.database_url.clone(),
        max_connections: settings.db_max_connections,
        acquire_timeout: Duration::from_secs(5),
    })?;
    let master = Arc::new(master_key(&settings)?);
    let issuer = settings.issuer.clone().unwrap_or_else(|| format!("http://{addr}"));
    let codec = Arc::new(keyring(&settings, &db, master.clone(), &issuer).await?);
    spawn_key_poller(codec.clone());
    let cores = Settings::cores();
    let hasher =
        Arc::new(Argon2Hasher::new(if settings.hash_concurrency == 0 { cores } else { settings.hash_concurrency })?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdGenerator> = Arc::new(MonotonicIds::default());
    let revocations = Arc::new(RevocationList::new());
    let audit_writer = AuditWriter::spawn(Arc::new(db.audit()));
    // Unauthenticated refusals are counted, not written one row each (scaikey_app::refusals).
    let refusals = Arc::new(AggregatingSink::new(
        Arc::new(audit_writer.clone()),
        chrono::Duration::seconds(i64::from(settings.audit_aggregate_seconds)),
    ));
    let metrics = Arc::new(scaikey_http::metrics::Metrics::new(
        Some(Arc::new(ServerGauges { writer: audit_writer.clone(), db: db.clone(), revocations: revocations.clone() })),
        settings.metrics_token.clone(),
    ));
    // Counted before aggregation, so the metrics see every refusal.
    let audit_sink: Arc<dyn scaikey_app::ports::AuditSink> =
        Arc::new(scaikey_http::metrics::CountingSink { metrics: metrics.clone(), inner: refusals.clone() });
    let sessions: Arc<dyn SessionRepository> = Arc::new(db.sessions());
    let apps = Arc::new(CachedApplications::new(
        Arc::new(db.applications()),
        Duration::from_secs(settings.client_cache_seconds),
    ));
    // Load every revoked session and disabled application before serving, then keep polling.
    let now = chrono::Utc::now();
    revocations.refresh(sessions.as_ref(), now).await.map_err(|e| anyhow::anyhow!("loading revocations: {e}"))?;
    revocations.refresh_apps(apps.as_ref(), now).await.map_err(|e| anyhow::anyhow!("loading revocations: {e}"))?;
    let cutoffs: Arc<dyn CutoffRepository> = Arc::new(db.cutoffs());
    revocations
        .refresh_cutoffs(cutoffs.as_ref(), now)
        .await
        .map_err(|e| anyhow::anyhow!("loading token cutoffs: {e}"))?;
    spawn_revocation_poller(revocations.clone(), sessions.clone(), apps.clone(), cutoffs);
    let secrets = Arc::new(HmacClientSecrets::new(&master));
    let tenants = Arc::new(db.tenants());
    let users = Arc::new(db.users());

    let throttle =
        Arc::new(scaikey_app::throttle::LoginThrottle::new(Arc::new(db.throttle()), audit_sink.clone(), clock.clone()));
    spawn_throttle_purge(throttle.clone());
    let issuer_host = issuer.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or("ScaiKey").to_string();
    let mfa = scaikey_app::mfa::MfaService::new(
        Arc::new(db.mfa()),
        master.clone(),
        secrets.clone(),
        throttle.clone(),
        clock.clone(),
        issuer_host.clone(),
    );
    // The WebAuthn relying-party ID is the issuer's host; an IP address cannot be one.
    let mfa = match scaikey_crypto::passkeys::WebauthnCeremonies::new(&issuer, &issuer_host) {
        Ok(rp) => mfa.with_passkeys(Arc::new(db.passkeys()), Arc::new(rp)),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off");
            mfa
        }
    };
    let mfa = Arc::new(mfa);
    let auth = Arc::new(AuthService::new(
        Arc::new(db.auth()),
        hasher.clone(),
        codec.clone(),
        clock.clone(),
        ids.clone(),
        AuthSettings {
            access_token_ttl: chrono::Duration::seconds(i64::from(settings.access_token_ttl_seconds)),
            default_session_ttl: chrono::Duration::minutes(i64::from(settings.session_ttl_minutes)),
        },
        revocations.clone(),
        audit_sink.clone(),
        throttle,
        mfa,
    ));

    let generated_admin = bootstrap(&settings, &auth).await?;
    let mail_links = Arc::new(MailLinkService::new(
        Arc::new(db.auth()),
        Arc::new(db.mail_links()),
        mailer(&settings)?,
        secrets.clone(),
        hasher.clone(),
        revocations.clone(),
        clock.clone(),
        MailLinkSettings { base_url: issuer.clone(), reset_minutes: i64::from(settings.reset_link_minutes) },
    ));

    let registrations = RegistrationService::new(
        Arc::new(db.registrations()),
        tenants.clone(),
        secrets.clone(),
        clock.clone(),
        ids.clone(),
        chrono::Duration::hours(i64::from(settings.registration_ttl_hours)),
    );
    spawn_registration_sweep(registrations.clone());
    let groups = Arc::new(db.groups());
    let agents_repo: Arc<dyn scaikey_app::ports::AgentRepository> = Arc::new(db.agents());
    let mcp_resource = format!("{}/mcp", issuer.trim_end_matches('/'));
    let oauth = Arc::new(
        OAuthService::new(
            apps.clone(),
            secrets.clone(),
            codec.clone(),
            clock.clone(),
            ids.clone(),
            audit_sink.clone(),
            revocations.clone(),
        )
        .with_agents(agents_repo.clone(), mcp_resource.clone()),
    );
    let mcp_gate = Arc::new(scaikey_app::mcp::McpGate::new(
        codec.clone(),
        revocations.clone(),
        agents_repo.clone(),
        audit_sink.clone(),
        clock.clone(),
        mcp_resource,
    ));
    spawn_issued_tokens_flush(oauth.clone(), refusals.clone());
    let idps: Arc<dyn scaikey_app::ports::IdpRepository> = Arc::new(db.identity_providers());
    let federation_store: Arc<dyn scaikey_app::ports::federation::FederationRepository> = Arc::new(db.federation());
    let federation = scaikey_app::oidc::federated::Federation {
        idps: idps.clone(),
        store: federation_store.clone(),
        upstream: Arc::new(scaikey_upstream::OidcUpstreams::new(
            std::time::Duration::from_secs(10),
            settings.env == Environment::Production,
        )?),
        saml: Some(Arc::new(scaikey_saml::SamaelServiceProviders::new())),
    };
    let dcr = scaikey_app::registrations::DcrSettings {
        policy: scaikey_domain::dcr::DcrPolicy::parse(&settings.dcr_policy)
            .unwrap_or(scaikey_domain::dcr::DcrPolicy::Approve),
        mcp_resource: format!("{}/mcp", issuer.trim_end_matches('/')),
        endpoint: format!("{}/oauth/register", issuer.trim_end_matches('/')),
        cimd: settings.cimd == "on",
    };
    let mut oidc = OidcService::new(
        apps.clone(),
        Arc::new(db.grants()),
        sessions.clone(),
        tenants.clone(),
        auth.clone(),
        secrets.clone(),
        master.clone(),
        codec.clone(),
        revocations.clone(),
        audit_sink.clone(),
        clock.clone(),
        ids.clone(),
        OidcSettings {
            issuer: issuer.clone(),
            interaction_ttl: chrono::Duration::minutes(15),
            refresh_ttl: chrono::Duration::seconds(scaikey_domain::oidc::grant::DEFAULT_REFRESH_TTL_SECONDS),
            refresh_grace: chrono::Duration::seconds(i64::from(settings.refresh_reuse_grace_seconds)),
        },
    )
    .with_federation(federation)
    .with_claims_cache(Duration::from_millis(settings.userinfo_cache_millis));
    if dcr.cimd {
        oidc = oidc.with_cimd(Arc::new(scaikey_app::registrations::cimd::CimdClients::new(
            Arc::new(registrations.clone()),
            Arc::new(scaikey_upstream::documents::HttpDocuments::new(settings.env == Environment::Production)?),
            dcr.clone(),
            settings.env != Environment::Production,
            clock.clone(),
        )));
    }
    let oidc = Arc::new(oidc);
    let hsts = issuer.starts_with("https://");
    let account = Arc::new(scaikey_app::account::AccountService::new(
        oidc.clone(),
        auth.clone(),
        users.clone(),
        tenants.clone(),
        sessions.clone(),
        Arc::new(db.grants()),
        hasher.clone(),
        revocations.clone(),
        clock.clone(),
    ));
    let trusted_proxies = settings.trusted_proxies();
    // The JSON login's refresh tokens belong to this built-in client (contract §2).
    // Applications as the admin API writes them (the client cache only reads).
    let stored_apps = Arc::new(db.applications());
    scaikey_app::built_in::ensure_admin_login_client(apps.as_ref(), stored_apps.as_ref(), ids.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("creating the JSON login's client: {e}"))?;
    // The console's first-party client; an issuer neither https nor loopback gets no console.
    let console = match scaikey_app::console::ConsoleService::ensure_client(
        apps.as_ref(),
        stored_apps.as_ref(),
        ids.as_ref(),
        &issuer,
    )
    .await
    {
        Ok(()) => Some(Arc::new(scaikey_app::console::ConsoleService::new(
            oidc.clone(),
            auth.clone(),
            codec.clone(),
            master.clone(),
        ))),
        Err(scaikey_app::AppError::Invalid(e)) => {
            tracing::warn!(issuer = %issuer, errors = ?e.errors(), "no console: its callback under this issuer is not a valid redirect URI");
            None
        }
        Err(e) => return Err(anyhow::anyhow!("creating the console's client: {e}")),
    };
    let state = AppState {
        oidc,
        applications: ApplicationService::new(
            stored_apps,
            tenants.clone(),
            users.clone(),
            groups.clone(),
            secrets.clone(),
            revocations.clone(),
            apps.clone(),
            clock.clone(),
            ids.clone(),
        ),
        oauth: oauth.clone(),
        audit: Arc::new(AuditService::new(Arc::new(db.audit()), clock.clone())),
        identity_providers: IdpService::new(idps, tenants.clone(), master.clone(), clock.clone(), ids.clone())
            .with_loopback_upstreams(settings.env != Environment::Production),
        agents: AgentService::new(agents_repo, tenants.clone(), clock.clone(), ids.clone())
            .with_secrets(secrets.clone()),
        audit_sink,
        registrations,
        auth,
        partners: PartnerService::new(Arc::new(db.partners()), revocations.clone(), clock.clone(), ids.clone()),
        tenants: TenantService::new(tenants.clone(), revocations.clone(), clock.clone(), ids.clone()),
        users: UserService::new(
            users.clone(),
            tenants.clone(),
            hasher,
            revocations.clone(),
            clock.clone(),
            ids.clone(),
        )
        .with_invitations(mail_links.clone())
        .with_federation(federation_store),
        groups: GroupService::new(groups, tenants, clock.clone(), ids),
        sessions: SessionService::new(sessions, users, revocations, clock),
        signing_alg: codec.algorithm(),
        id_token_algs: codec.id_token_algorithms(),
        keys: KeyService::new(codec),
        metrics,
        issuer,
        readiness: Arc::new(DbReady(db)),
        dcr,
        expose_openapi: settings.env != Environment::Production,
        trusted_proxies,
    };
    let web_state = web::Data::new(WebState {
        oidc: state.oidc.clone(),
        account,
        links: mail_links.clone(),
        secure_cookies: hsts,
        trusted_proxies: state.trusted_proxies.clone(),
        console,
        audit: state.audit.clone(),
        partners: state.partners.clone(),
        tenants: state.tenants.clone(),
        users: state.users.clone(),
        registrations: state.registrations.clone(),
        sessions: state.sessions.clone(),
        identity_providers: state.identity_providers.clone(),
        groups: state.groups.clone(),
        applications: state.applications.clone(),
        agents: state.agents.clone(),
    });
    let mcp_state = web::Data::new(scaikey_mcp::McpState {
        gate: mcp_gate,
        services: scaikey_mcp::Services {
            tenants: state.tenants.clone(),
            users: state.users.clone(),
            groups: state.groups.clone(),
            applications: state.applications.clone(),
            registrations: state.registrations.clone(),
            audit: state.audit.clone(),
        },
        issuer: state.issuer.clone(),
        trusted_proxies: state.trusted_proxies.clone(),
    });
    let data = web::Data::new(state);
    let limiter = web::Data::new(scaikey_http::limits::Limiter::new(scaikey_http::limits::RequestLimits {
        body: Duration::from_secs(u64::from(settings.body_timeout_seconds)),
        handler: Duration::from_secs(u64::from(settings.handler_timeout_seconds)),
        per_ip: settings.max_requests_per_ip,
    }));
    let workers = if settings.workers == 0 { cores } else { settings.workers };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web_state.clone())
            .app_data(mcp_state.clone())
            .app_data(limiter.clone())
            .wrap(response_headers(hsts))
            .wrap(actix_web::middleware::from_fn(scaikey_http::limits::limit))
            .wrap(actix_web::middleware::from_fn(scaikey_http::metrics::track))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            // The API and the protocol endpoints first: routes are tried in order, and the hot
            // ones (`/oauth/token`, `/api/v1/…`) then match before any pattern with a parameter,
            // each of which costs a regex run. No two adapters' paths overlap.
            .configure(scaikey_http::configure)
            .configure(scaikey_web::configure)
            .configure(scaikey_mcp::configure)
    })
    .workers(workers)
    .client_request_timeout(Duration::from_secs(u64::from(settings.header_timeout_seconds)))
    .keep_alive(Duration::from_secs(u64::from(settings.keep_alive_seconds)))
    .shutdown_timeout(10)
    .listen(listener)
    .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(%addr, workers, env = ?settings.env, "ScaiKey listening");
    Ok(Started {
        addr,
        server: server.run(),
        generated_admin,
        audit: AuditFlusher { oauth, refusals, writer: audit_writer },
    })
}

/// Headers of every answer: no MIME sniffing; not cached unless the handler says so (discovery,
/// JWKS and the stylesheet do), since most answers hold personal data or secrets; HSTS when the
/// issuer is https.
fn response_headers(hsts: bool) -> actix_web::middleware::DefaultHeaders {
    use actix_web::http::header;
    let h = actix_web::middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::CACHE_CONTROL, "no-store"));
    if hsts { h.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")) } else { h }
}

async fn bootstrap(settings: &Settings, auth: &AuthService) -> anyhow::Result<Option<(String, String)>> {
    let (email, password, generated) = match (&settings.bootstrap_admin_email, &settings.bootstrap_admin_password) {
        (Some(e), Some(p)) => (e.clone(), p.clone(), false),
        _ if settings.env == Environment::Development => ("admin@scaikey.local".to_string(), random_password()?, true),
        _ => return Ok(None),
    };
    let created = auth
        .bootstrap_super_admin(&email, &password)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap super admin: {e}"))?;
    if created {
        tracing::info!(%email, "created the bootstrap super admin");
    }
    Ok((created && generated).then_some((email, password)))
}

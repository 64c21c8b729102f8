//! The connection pool, migrations and database creation.
//!
//! Pool choice: deadpool (via diesel-async); it has no background reaper thread and is the pool
//! lemmy moved to from bb8. A connection that sat idle for [`PING_AFTER_IDLE`] is pinged before
//! it is handed out again (a pre-recycle hook), since deadpool's `Fast` check alone can hand out a
//! connection the server has closed (deadpool-rs/deadpool#346); a busy one is handed out at once.
//! `RecyclingMethod::Verified` pinged on *every* checkout: one extra round trip per query, which
//! cost a quarter of the throughput of DB-bound requests. See docs/decisions.md.

use std::time::Duration;

use anyhow::Context;
use deadpool::managed::{Hook, HookError, Metrics};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use scaikey_app::RepoError;

use crate::batches::Queue;

/// The migrations of the top-level `migrations/` folder, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// PostgreSQL URL.
    pub url: String,
    /// Most connections held.
    pub max_connections: usize,
    /// How long a request waits for a free connection before a 503.
    pub acquire_timeout: Duration,
}

/// A pooled PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
    /// Page bookmarks of large user lists, shared by every `PgUsers` of this pool.
    pub(crate) bookmarks: crate::users::BookmarkCache,
    /// Refresh-token lookups of this pool, answered in groups.
    pub(crate) lookups: Queue<crate::grants::Lookups>,
    /// Refresh-token rotations of this pool, committed in groups.
    pub(crate) rotations: Queue<crate::rotations::Rotations>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("status", &self.pool.status()).finish()
    }
}

/// A pooled connection unused for this long is pinged before reuse.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(2);

pub(crate) type Conn = Object<AsyncPgConnection>;

impl Database {
    /// Builds the pool; connections are opened on demand.
    pub fn connect(cfg: &DbConfig) -> anyhow::Result<Database> {
        let mut mc = ManagerConfig::default();
        mc.recycling_method = RecyclingMethod::Fast;
        let mgr = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&cfg.url, mc);
        let pool = Pool::builder(mgr)
            .max_size(cfg.max_connections)
            .wait_timeout(Some(cfg.acquire_timeout))
            .create_timeout(Some(cfg.acquire_timeout))
            .runtime(deadpool_runtime())
            .pre_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics: &Metrics| {
                let idle = metrics.last_used() >= PING_AFTER_IDLE;
                Box::pin(async move {
                    if idle {
                        diesel::sql_query("SELECT 1")
                            .execute(conn)
                            .await
                            .map_err(|e| HookError::Message(format!("idle connection failed its ping: {e}").into()))?;
                    }
                    Ok(())
                })
            }))
            .build()
            .context("building the connection pool")?;
        Ok(Database {
            pool,
            bookmarks: crate::users::BookmarkCache::default(),
            lookups: Queue::default(),
            rotations: Queue::default(),
        })
    }

    /// The same pool with queues of its own (for the queues' workers, which must not keep
    /// this one's queues open).
    pub(crate) fn without_queues(&self) -> Database {
        Database {
            pool: self.pool.clone(),
            bookmarks: self.bookmarks.clone(),
            lookups: Queue::default(),
            rotations: Queue::default(),
        }
    }

    pub(crate) async fn conn(&self) -> Result<Conn, RepoError> {
        self.pool.get().await.map_err(|e: PoolError| RepoError::Unavailable(anyhow::anyhow!("{e}")))
    }

    /// `true` if a connection can be had and answers `SELECT 1`.
    pub async fn ready(&self) -> bool {
        let Ok(mut c) = self.conn().await else { return false };
        diesel::sql_query("SELECT 1").execute(&mut c).await.is_ok()
    }

    /// Repository views of this database, one per port.
    pub fn partners(&self) -> crate::partners::PgPartners {
        crate::partners::PgPartners(self.clone())
    }

    /// Tenant repository.
    pub fn tenants(&self) -> crate::tenants::PgTenants {
        crate::tenants::PgTenants(self.clone())
    }

    /// Auth repository (users at login, sessions, bootstrap).
    pub fn auth(&self) -> crate::auth::PgAuth {
        crate::auth::PgAuth(self.clone())
    }

    /// User repository.
    pub fn users(&self) -> crate::users::PgUsers {
        crate::users::PgUsers(self.clone())
    }

    /// Group repository.
    pub fn groups(&self) -> crate::groups::PgGroups {
        crate::groups::PgGroups(self.clone())
    }

    /// Session repository.
    pub fn sessions(&self) -> crate::sessions::PgSessions {
        crate::sessions::PgSessions(self.clone())
    }

    /// Authorization codes, refresh tokens and consents.
    pub fn grants(&self) -> crate::grants::PgGrants {
        crate::grants::PgGrants(self.clone())
    }

    /// Application repository.
    pub fn applications(&self) -> crate::applications::PgApplications {
        crate::applications::PgApplications(self.clone())
    }

    /// Registration request repository.
    pub fn registrations(&self) -> crate::registrations::PgRegistrations {
        crate::registrations::PgRegistrations(self.clone())
    }

    /// Audit reads, batch writes and dashboard counts.
    pub fn audit(&self) -> crate::audit_log::PgAudit {
        crate::audit_log::PgAudit(self.clone())
    }

    /// Identity-provider repository.
    pub fn identity_providers(&self) -> crate::federation::PgIdps {
        crate::federation::PgIdps(self.clone())
    }

    /// Started federated sign-ins and linked identities.
    #[must_use]
    pub fn federation(&self) -> crate::federated::PgFederation {
        crate::federated::PgFederation(self.clone())
    }

    /// Agent repository.
    pub fn agents(&self) -> crate::federation::PgAgents {
        crate::federation::PgAgents(self.clone())
    }

    /// `(connections open, connections in use, most allowed)` of the pool, for metrics.
    #[must_use]
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let s = self.pool.status();
        (s.size, s.size.saturating_sub(s.available), s.max_size)
    }

    /// Token cutoff repository (the revocation list's poller).
    pub fn cutoffs(&self) -> crate::cutoffs::PgCutoffs {
        crate::cutoffs::PgCutoffs(self.clone())
    }

    /// Second-factor repository.
    pub fn mfa(&self) -> crate::mfa::PgMfa {
        crate::mfa::PgMfa(self.clone())
    }

    /// Mailed links (password resets, invitations).
    pub fn mail_links(&self) -> crate::mail_links::PgMailLinks {
        crate::mail_links::PgMailLinks(self.clone())
    }

    /// Passkeys and their challenges.
    pub fn passkeys(&self) -> crate::passkeys::PgPasskeys {
        crate::passkeys::PgPasskeys(self.clone())
    }

    /// Failed-login counters.
    pub fn throttle(&self) -> crate::mfa::PgThrottle {
        crate::mfa::PgThrottle(self.clone())
    }

    /// Signing-key repository.
    pub fn signing_keys(&self) -> crate::keys::PgSigningKeys {
        crate::keys::PgSigningKeys(self.clone())
    }
}

fn deadpool_runtime() -> deadpool::Runtime {
    deadpool::Runtime::Tokio1
}

/// Applies pending migrations; returns how many ran.
pub async fn migrate(url: &str) -> anyhow::Result<usize> {
    let url = url.to_string();
    // The migration harness is synchronous; run it on a blocking thread over an async connection.
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
            .with_context(|| format!("connecting to {}", redact(&url)))?;
        let done = conn.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(done.len())
    })
    .await?
}

/// Creates the database named in `url` if it does not exist (connecting to the `postgres`
/// maintenance database of the same server). Returns `true` if it was created.
pub async fn ensure_database(url: &str) -> anyhow::Result<bool> {
    let (base, name) = split_db_url(url).context("DATABASE_URL has no database name")?;
    if AsyncPgConnection::establish(url).await.is_ok() {
        return Ok(false);
    }
    let mut admin = AsyncPgConnection::establish(&format!("{base}/postgres"))
        .await
        .with_context(|| format!("connecting to {}", redact(&format!("{base}/postgres"))))?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    match diesel::sql_query(sql).execute(&mut admin).await {
        Ok(_) => Ok(true),
        // Someone else created it meanwhile.
        Err(e) if e.to_string().contains("already exists") => Ok(false),
        Err(e) => Err(e).context("creating the database"),
    }
}

/// Splits `postgres://host/db?opts` into (`postgres://host`, `db`); options are dropped.
pub fn split_db_url(url: &str) -> Option<(String, String)> {
    let no_query = url.split('?').next()?;
    let (base, name) = no_query.rsplit_once('/')?;
    if name.is_empty() || base.ends_with('/') {
        return None;
    }
    Some((base.to_string(), name.to_string()))
}

/// The URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_helpers() {
        assert_eq!(
            split_db_url("postgres://u:p@h:5432/db?sslmode=disable"),
            Some(("postgres://u:p@h:5432".into(), "db".into()))
        );
        assert_eq!(split_db_url("postgres://h/"), None);
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}

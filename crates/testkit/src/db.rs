//! One database per test, cloned from a migrated template.
//!
//! The template is named after the migrations it holds, so a new migration makes a new template.
//! Creating it is serialised across processes with an advisory lock and made atomic by
//! migrating under a temporary name and renaming, so parallel test processes never see a
//! half-migrated template.

use anyhow::Context;
use diesel::migration::MigrationSource;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The PostgreSQL server the tests use, without a database name.
#[must_use]
pub fn server_url() -> String {
    let url = std::env::var("SCAIKEY_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    scaikey_persistence::split_db_url(&url).map_or(url, |(base, _)| base)
}

const TEMPLATE_LOCK: i64 = 0x5CA1_4E59_7E57;

fn template_name() -> anyhow::Result<String> {
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&scaikey_persistence::MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading migrations: {e}"))?;
    // FNV-1a over the migration names and, where the source tree is at hand, their SQL: stable
    // across runs and processes, and a migration edited in place gets a fresh template.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    for m in &migrations {
        let name = m.name().to_string();
        let sql = std::fs::read(dir.join(&name).join("up.sql")).unwrap_or_default();
        for b in name.bytes().chain(sql) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok(format!("scaikey_tpl_{h:016x}"))
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn admin_conn() -> anyhow::Result<AsyncPgConnection> {
    let url = format!("{}/postgres", server_url());
    AsyncPgConnection::establish(&url).await.with_context(|| {
        format!(
            "connecting to {} (set SCAIKEY_TEST_DATABASE_URL or run `cargo xtask test`)",
            scaikey_persistence::redact(&url)
        )
    })
}

async fn db_exists(c: &mut AsyncPgConnection, name: &str) -> anyhow::Result<bool> {
    let r: Exists = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result(c)
        .await?;
    Ok(r.n > 0)
}

async fn ensure_template(c: &mut AsyncPgConnection) -> anyhow::Result<String> {
    let tpl = template_name()?;
    if db_exists(c, &tpl).await? {
        return Ok(tpl);
    }
    diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(TEMPLATE_LOCK).execute(c).await?;
    let result = async {
        if !db_exists(c, &tpl).await? {
            let tmp = format!("{tpl}_building_{}", std::process::id());
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {tmp}")).execute(c).await?;
            diesel::sql_query(format!("CREATE DATABASE {tmp}")).execute(c).await?;
            scaikey_persistence::migrate(&format!("{}/{tmp}", server_url())).await?;
            diesel::sql_query(format!("ALTER DATABASE {tmp} RENAME TO {tpl}")).execute(c).await?;
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(TEMPLATE_LOCK).execute(c).await?;
    result.map(|()| tpl)
}

/// A database of its own for one test; dropped (forcefully) on drop.
#[derive(Debug)]
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl TestDb {
    /// Clones the migrated template into a new database.
    pub async fn create() -> anyhow::Result<TestDb> {
        let mut c = admin_conn().await?;
        let tpl = ensure_template(&mut c).await?;
        let name = format!("scaikey_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        let mut tries = 0;
        loop {
            // A concurrent clone of the same template can briefly hold it; retry then.
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}")).execute(&mut c).await {
                Ok(_) => break,
                Err(e) if tries < 50 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e).context("cloning the template database"),
            }
        }
        Ok(TestDb { url: format!("{}/{name}", server_url()), name })
    }

    /// A direct connection (for seeding and for checking what is stored).
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        Ok(AsyncPgConnection::establish(&self.url).await?)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut c) = admin_conn().await {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
                }
            });
        })
        .join();
    }
}

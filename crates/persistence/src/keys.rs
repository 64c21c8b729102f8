//! `SigningKeyRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::keys::{SigningKeyRepository, StoredSigningKey};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::oidc::signing_key::KeySchedule;

use crate::audit::Written;
use crate::db::Database;
use crate::error::db;
use crate::schema::signing_keys;

/// Signing keys in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSigningKeys(pub(crate) Database);

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::pg::Pg))]
struct KeyRow {
    kid: String,
    alg: String,
    public_jwk: serde_json::Value,
    private_key_enc: Vec<u8>,
    created_at: DateTime<Utc>,
    activates_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
}

impl From<KeyRow> for StoredSigningKey {
    fn from(r: KeyRow) -> Self {
        StoredSigningKey {
            kid: r.kid,
            alg: r.alg,
            public_jwk: r.public_jwk,
            private_key_enc: r.private_key_enc,
            schedule: KeySchedule { created_at: r.created_at, activates_at: r.activates_at, retires_at: r.retired_at },
        }
    }
}

fn row(k: &StoredSigningKey) -> KeyRow {
    KeyRow {
        kid: k.kid.clone(),
        alg: k.alg.clone(),
        public_jwk: k.public_jwk.clone(),
        private_key_enc: k.private_key_enc.clone(),
        created_at: k.schedule.created_at,
        activates_at: k.schedule.activates_at,
        retired_at: k.schedule.retires_at,
    }
}

#[async_trait]
impl SigningKeyRepository for PgSigningKeys {
    async fn published(&self, now: DateTime<Utc>) -> Result<Vec<StoredSigningKey>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows = signing_keys::table
            .filter(signing_keys::retired_at.is_null().or(signing_keys::retired_at.gt(now)))
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .select(KeyRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(StoredSigningKey::from).collect())
    }

    async fn insert(&self, k: &StoredSigningKey) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        diesel::insert_into(signing_keys::table).values(&row(k)).execute(&mut conn).await.map_err(db)?;
        Ok(())
    }

    async fn rotate(
        &self,
        new: &[StoredSigningKey],
        retire: &[(String, DateTime<Utc>)],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        let rows: Vec<KeyRow> = new.iter().map(row).collect();
        crate::audit::audited(&self.0, audit, now, async |c| {
            for (kid, at) in retire {
                diesel::update(signing_keys::table.find(kid)).set(signing_keys::retired_at.eq(at)).execute(c).await?;
            }
            diesel::insert_into(signing_keys::table).values(&rows).execute(c).await?;
            Ok(Written(()))
        })
        .await?;
        Ok(())
    }
}

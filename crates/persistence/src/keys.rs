//! `SigningKeyRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::{SigningKeyRepository, StoredSigningKey};

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
}

#[async_trait]
impl SigningKeyRepository for PgSigningKeys {
    async fn active(&self) -> Result<Vec<StoredSigningKey>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows = signing_keys::table
            .filter(signing_keys::retired_at.is_null())
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .select(KeyRow::as_select())
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|r| StoredSigningKey {
                kid: r.kid,
                alg: r.alg,
                public_jwk: r.public_jwk,
                private_key_enc: r.private_key_enc,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn insert(&self, k: &StoredSigningKey) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        let row = KeyRow {
            kid: k.kid.clone(),
            alg: k.alg.clone(),
            public_jwk: k.public_jwk.clone(),
            private_key_enc: k.private_key_enc.clone(),
            created_at: k.created_at,
        };
        diesel::insert_into(signing_keys::table).values(&row).execute(&mut conn).await.map_err(db)?;
        Ok(())
    }
}

//! Passkeys and their pending challenges on PostgreSQL. Which credential may sign in and whether
//! a challenge is still valid is decided above (the WebAuthn adapter, the app); this module
//! stores them, keeps `mfa_methods` in step in the same transactions, and takes a challenge with
//! `DELETE … RETURNING` so two answers to one challenge cannot both be checked.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::passkeys::{ChallengePurpose, PasskeyRepository, StoredChallenge, StoredPasskey};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use scaikey_domain::mfa::Method;
use ulid::Ulid;
use uuid::Uuid;

use crate::db::Database;
use crate::error::{TxError, db};
use crate::schema::{mfa_passkeys as pk, passkey_challenges as ch};
use crate::uuid_ids::AsUuid;

/// Passkey storage.
#[derive(Debug, Clone)]
pub struct PgPasskeys(pub(crate) Database);

type Row = (Uuid, String, Vec<u8>, String, DateTime<Utc>, Option<DateTime<Utc>>);

#[async_trait]
impl PasskeyRepository for PgPasskeys {
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<Row> = pk::table
            .filter(pk::user_id.eq(user.uuid()))
            .order((pk::created_at.asc(), pk::id.asc()))
            .select((pk::id, pk::name, pk::credential_id, pk::credential, pk::created_at, pk::last_used_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, credential_id, credential, created_at, last_used_at)| StoredPasskey {
                id: Ulid::from(id),
                name,
                credential_id,
                credential,
                created_at,
                last_used_at,
            })
            .collect())
    }

    async fn add(
        &self,
        user: UserId,
        p: &StoredPasskey,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            if crate::mfa::set_method(c, user.uuid(), Method::Webauthn, true, now).await? == 0 {
                return Ok(false);
            }
            let n = diesel::insert_into(pk::table)
                .values((
                    pk::id.eq(Uuid::from(p.id)),
                    pk::user_id.eq(user.uuid()),
                    pk::name.eq(&p.name),
                    pk::credential_id.eq(&p.credential_id),
                    pk::credential.eq(&p.credential),
                    pk::created_at.eq(now),
                ))
                .on_conflict(pk::credential_id)
                .do_nothing()
                .execute(c)
                .await?;
            if n == 0 {
                return Err(RepoError::Duplicate("credential").into());
            }
            Ok(true)
        })
        .await?;
        Ok(done)
    }

    async fn used(
        &self,
        user: UserId,
        credential_id: &[u8],
        updated: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        let target = pk::table.filter(pk::user_id.eq(user.uuid()).and(pk::credential_id.eq(credential_id)));
        match updated {
            Some(cred) => {
                diesel::update(target).set((pk::last_used_at.eq(now), pk::credential.eq(cred))).execute(&mut conn).await
            }
            None => diesel::update(target).set(pk::last_used_at.eq(now)).execute(&mut conn).await,
        }
        .map_err(db)?;
        Ok(())
    }

    async fn remove(&self, user: UserId, id: Ulid, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(pk::table.filter(pk::id.eq(Uuid::from(id)).and(pk::user_id.eq(user.uuid()))))
                .execute(c)
                .await?;
            if n == 0 {
                return Ok(false);
            }
            let left: i64 = pk::table.filter(pk::user_id.eq(user.uuid())).count().get_result(c).await?;
            if left == 0 {
                crate::mfa::set_method(c, user.uuid(), Method::Webauthn, false, now).await?;
            }
            Ok(true)
        })
        .await?;
        Ok(done)
    }

    async fn save_challenge(
        &self,
        id: Ulid,
        user: UserId,
        purpose: ChallengePurpose,
        challenge: &StoredChallenge,
    ) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        conn.transaction::<_, TxError, _>(async |c| {
            diesel::delete(ch::table.filter(ch::user_id.eq(user.uuid()).and(ch::expires_at.lt(diesel::dsl::now))))
                .execute(c)
                .await?;
            diesel::insert_into(ch::table)
                .values((
                    ch::id.eq(Uuid::from(id)),
                    ch::user_id.eq(user.uuid()),
                    ch::purpose.eq(purpose.as_str()),
                    ch::state.eq(&challenge.state),
                    ch::expires_at.eq(challenge.expires_at),
                ))
                .execute(c)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn take_challenge(
        &self,
        id: Ulid,
        user: UserId,
        purpose: ChallengePurpose,
    ) -> Result<Option<StoredChallenge>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(String, DateTime<Utc>)> =
            diesel::delete(ch::table.filter(
                ch::id.eq(Uuid::from(id)).and(ch::user_id.eq(user.uuid())).and(ch::purpose.eq(purpose.as_str())),
            ))
            .returning((ch::state, ch::expires_at))
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(state, expires_at)| StoredChallenge { state, expires_at }))
    }
}

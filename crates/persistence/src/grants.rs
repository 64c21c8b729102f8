//! `GrantRepository` on PostgreSQL: authorization codes, refresh tokens and consents. Every
//! state change is a compare-and-set (`… WHERE used_at IS NULL`), so of two processes racing on
//! one code or refresh token exactly one wins; the loser is told and stores nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::oidc::{GrantRepository, NewCode, NewRefresh, Replace, StoredCode, StoredRefresh};
use scaikey_domain::id::{ApplicationId, SessionId, UserId};
use ulid::Ulid;
use uuid::Uuid;

use crate::db::Database;
use crate::error::{TxError, db};
use crate::schema::{authorization_codes as ac, consents, refresh_tokens as rt, sessions};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Codes, refresh tokens and consents in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgGrants(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = ac, check_for_backend(diesel::pg::Pg))]
struct CodeRow {
    code_hmac: Vec<u8>,
    application_id: Uuid,
    client_id: String,
    user_id: Uuid,
    session_id: Uuid,
    redirect_uri: String,
    scopes: Vec<String>,
    resource: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: DateTime<Utc>,
    amr: Vec<String>,
    issued_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rt, check_for_backend(diesel::pg::Pg))]
struct RefreshRow {
    id: Uuid,
    token_hmac: Vec<u8>,
    family_id: Uuid,
    application_id: Uuid,
    client_id: String,
    user_id: Uuid,
    session_id: Option<Uuid>,
    scopes: Vec<String>,
    resource: Option<String>,
    auth_time: DateTime<Utc>,
    amr: Vec<String>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    grace_used: bool,
    revoked_at: Option<DateTime<Utc>>,
}

fn to_refresh(r: RefreshRow, session_live: bool) -> StoredRefresh {
    StoredRefresh {
        token: NewRefresh {
            id: Ulid::from(r.id),
            token_hmac: r.token_hmac,
            family_id: Ulid::from(r.family_id),
            application_id: ApplicationId::from_uuid(r.application_id),
            client_id: r.client_id,
            user_id: UserId::from_uuid(r.user_id),
            session_id: r.session_id.map(SessionId::from_uuid),
            scopes: r.scopes,
            resource: r.resource,
            auth_time: r.auth_time,
            amr: r.amr,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
        },
        rotated_at: r.rotated_at,
        grace_used: r.grace_used,
        revoked_at: r.revoked_at,
        session_live,
    }
}

async fn insert_refresh(c: &mut diesel_async::AsyncPgConnection, t: &NewRefresh) -> QueryResult<usize> {
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(Uuid::from(t.id)),
            rt::token_hmac.eq(&t.token_hmac),
            rt::family_id.eq(Uuid::from(t.family_id)),
            rt::application_id.eq(t.application_id.uuid()),
            rt::client_id.eq(&t.client_id),
            rt::user_id.eq(t.user_id.uuid()),
            rt::session_id.eq(t.session_id.map(AsUuid::uuid)),
            rt::scopes.eq(&t.scopes),
            rt::resource.eq(&t.resource),
            rt::auth_time.eq(t.auth_time),
            rt::amr.eq(&t.amr),
            rt::issued_at.eq(t.issued_at),
            rt::expires_at.eq(t.expires_at),
        ))
        .execute(c)
        .await
}

#[async_trait]
impl GrantRepository for PgGrants {
    async fn insert_code(&self, c: &NewCode) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        diesel::insert_into(ac::table)
            .values((
                ac::code_hmac.eq(&c.code_hmac),
                ac::application_id.eq(c.application_id.uuid()),
                ac::client_id.eq(&c.client_id),
                ac::user_id.eq(c.user_id.uuid()),
                ac::session_id.eq(c.session_id.uuid()),
                ac::redirect_uri.eq(&c.redirect_uri),
                ac::scopes.eq(&c.scopes),
                ac::resource.eq(&c.resource),
                ac::nonce.eq(&c.nonce),
                ac::code_challenge.eq(&c.code_challenge),
                ac::auth_time.eq(c.auth_time),
                ac::amr.eq(&c.amr),
                ac::issued_at.eq(c.issued_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn code(&self, code_hmac: &[u8]) -> Result<Option<StoredCode>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<CodeRow> = ac::table
            .filter(ac::code_hmac.eq(code_hmac))
            .select(CodeRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|r| StoredCode {
            code: NewCode {
                code_hmac: r.code_hmac,
                application_id: ApplicationId::from_uuid(r.application_id),
                client_id: r.client_id,
                user_id: UserId::from_uuid(r.user_id),
                session_id: SessionId::from_uuid(r.session_id),
                redirect_uri: r.redirect_uri,
                scopes: r.scopes,
                resource: r.resource,
                nonce: r.nonce,
                code_challenge: r.code_challenge,
                auth_time: r.auth_time,
                amr: r.amr,
                issued_at: r.issued_at,
            },
            used_at: r.used_at,
        }))
    }

    async fn redeem_code(
        &self,
        code_hmac: &[u8],
        now: DateTime<Utc>,
        refresh: Option<NewRefresh>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let won = conn
            .transaction::<_, TxError, _>(async |c| {
                let n = diesel::update(ac::table.filter(ac::code_hmac.eq(code_hmac).and(ac::used_at.is_null())))
                    .set((ac::used_at.eq(now), ac::family_id.eq(refresh.as_ref().map(|r| Uuid::from(r.family_id)))))
                    .execute(c)
                    .await?;
                if n == 1
                    && let Some(r) = &refresh
                {
                    insert_refresh(c, r).await?;
                }
                Ok(n == 1)
            })
            .await?;
        Ok(won)
    }

    async fn revoke_code_family(&self, code_hmac: &[u8], now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let family: Option<Option<Uuid>> = ac::table
            .filter(ac::code_hmac.eq(code_hmac))
            .select(ac::family_id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        let Some(Some(family)) = family else { return Ok(0) };
        self.revoke_family(Ulid::from(family), now).await
    }

    async fn refresh_token(&self, token_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<StoredRefresh>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<RefreshRow> = rt::table
            .filter(rt::token_hmac.eq(token_hmac))
            .select(RefreshRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let session_live = match row.session_id {
            None => true,
            Some(s) => {
                let live: i64 = sessions::table
                    .filter(sessions::id.eq(s).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now)))
                    .count()
                    .get_result(&mut conn)
                    .await
                    .map_err(db)?;
                live == 1
            }
        };
        Ok(Some(to_refresh(row, session_live)))
    }

    async fn rotate(&self, old: Ulid, how: Replace, now: DateTime<Utc>, new: NewRefresh) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let old = Uuid::from(old);
        let result = conn
            .transaction::<_, TxError, _>(async |c| {
                let live = rt::table.filter(rt::id.eq(old).and(rt::revoked_at.is_null()));
                let n = match how {
                    Replace::Current => {
                        diesel::update(live.filter(rt::rotated_at.is_null()))
                            .set(rt::rotated_at.eq(now))
                            .execute(c)
                            .await?
                    }
                    Replace::WithinGrace => {
                        diesel::update(live.filter(rt::rotated_at.is_not_null().and(rt::grace_used.eq(false))))
                            .set(rt::grace_used.eq(true))
                            .execute(c)
                            .await?
                    }
                };
                if n != 1 {
                    // The token is in another state: another request won; roll back.
                    return Err(TxError::Db(diesel::result::Error::RollbackTransaction));
                }
                insert_refresh(c, &new).await?;
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(true),
            Err(TxError::Db(diesel::result::Error::RollbackTransaction)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn revoke_family(&self, family_id: Ulid, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(rt::table.filter(rt::family_id.eq(Uuid::from(family_id)).and(rt::revoked_at.is_null())))
            .set(rt::revoked_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }

    async fn consent(&self, user: UserId, app: ApplicationId) -> Result<Vec<String>, RepoError> {
        let mut conn = self.0.conn().await?;
        let scopes: Option<Vec<String>> = consents::table
            .filter(consents::user_id.eq(user.uuid()).and(consents::application_id.eq(app.uuid())))
            .select(consents::scopes)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(scopes.unwrap_or_default())
    }

    async fn grant_consent(
        &self,
        user: UserId,
        app: ApplicationId,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        conn.transaction::<_, TxError, _>(async |c| {
            let before: Option<Vec<String>> = consents::table
                .filter(consents::user_id.eq(user.uuid()).and(consents::application_id.eq(app.uuid())))
                .select(consents::scopes)
                .for_update()
                .first(c)
                .await
                .optional()?;
            let mut all = before.unwrap_or_default();
            for s in scopes {
                if !all.contains(s) {
                    all.push(s.clone());
                }
            }
            diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user.uuid()),
                    consents::application_id.eq(app.uuid()),
                    consents::scopes.eq(&all),
                    consents::granted_at.eq(now),
                ))
                .on_conflict((consents::user_id, consents::application_id))
                .do_update()
                .set((consents::scopes.eq(&all), consents::granted_at.eq(now)))
                .execute(c)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

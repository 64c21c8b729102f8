//! Second factors and failed-login counters on PostgreSQL. Which step or code counts, and how
//! a counter grows, are the domain's (`mfa::accept_step`, `throttle::Failures`); this module
//! stores them with compare-and-set and row locks so concurrent logins in several processes
//! cannot both use one code or lose a failure.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::mfa::{MfaRepository, NewTotp, StoredTotp, ThrottleRepository};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use scaikey_domain::mfa::Method;
use scaikey_domain::throttle::{Failures, Key, Scope};
use uuid::Uuid;

use crate::db::Database;
use crate::error::{TxError, db};
use crate::schema::{login_throttle as lt, mfa_recovery_codes as rc, mfa_totp, users};
use crate::uuid_ids::AsUuid;

/// Second-factor storage.
#[derive(Debug, Clone)]
pub struct PgMfa(pub(crate) Database);

/// Adds or removes a method in the user's `mfa_methods`, keeping `mfa_enabled` equal to "any".
pub(crate) async fn set_method(
    c: &mut AsyncPgConnection,
    user: Uuid,
    method: Method,
    present: bool,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let current: Option<Vec<String>> = users::table
        .filter(users::id.eq(user).and(users::deleted_at.is_null()))
        .select(users::mfa_methods)
        .for_update()
        .first(c)
        .await
        .optional()?;
    let Some(mut methods) = current else { return Ok(0) };
    methods.retain(|m| m != method.as_str());
    if present {
        methods.push(method.as_str().to_string());
        methods.sort();
    }
    diesel::update(users::table.filter(users::id.eq(user)))
        .set((users::mfa_enabled.eq(!methods.is_empty()), users::mfa_methods.eq(methods), users::updated_at.eq(now)))
        .execute(c)
        .await
}

/// Removes every factor and recovery code of a user (the admin's `mfa/disable`).
pub(crate) async fn remove_all(c: &mut AsyncPgConnection, user: Uuid) -> QueryResult<()> {
    diesel::delete(mfa_totp::table.filter(mfa_totp::user_id.eq(user))).execute(c).await?;
    diesel::delete(rc::table.filter(rc::user_id.eq(user))).execute(c).await?;
    diesel::delete(crate::schema::mfa_passkeys::table.filter(crate::schema::mfa_passkeys::user_id.eq(user)))
        .execute(c)
        .await?;
    diesel::delete(
        crate::schema::passkey_challenges::table.filter(crate::schema::passkey_challenges::user_id.eq(user)),
    )
    .execute(c)
    .await?;
    Ok(())
}

#[async_trait]
impl MfaRepository for PgMfa {
    async fn totp(&self, user: UserId) -> Result<Option<StoredTotp>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(Vec<u8>, Option<i64>, DateTime<Utc>)> = mfa_totp::table
            .find(user.uuid())
            .select((mfa_totp::secret, mfa_totp::last_step, mfa_totp::created_at))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(sealed_secret, last_step, created_at)| StoredTotp { sealed_secret, last_step, created_at }))
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, RepoError> {
        let mut conn = self.0.conn().await?;
        rc::table
            .filter(rc::user_id.eq(user.uuid()).and(rc::used_at.is_null()))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db)
    }

    async fn enrol_totp(&self, t: &NewTotp, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            if set_method(c, t.user_id.uuid(), Method::Totp, true, now).await? == 0 {
                return Ok(false);
            }
            let inserted = diesel::insert_into(mfa_totp::table)
                .values((
                    mfa_totp::user_id.eq(t.user_id.uuid()),
                    mfa_totp::secret.eq(&t.sealed_secret),
                    mfa_totp::last_step.eq(t.confirmed_step),
                    mfa_totp::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if inserted == 0 {
                return Err(RepoError::Conflict("An authenticator app is already enrolled".into()).into());
            }
            diesel::delete(rc::table.filter(rc::user_id.eq(t.user_id.uuid()))).execute(c).await?;
            let rows: Vec<_> =
                t.recovery_codes.iter().map(|h| (rc::user_id.eq(t.user_id.uuid()), rc::code_hmac.eq(h))).collect();
            diesel::insert_into(rc::table).values(rows).on_conflict_do_nothing().execute(c).await?;
            Ok(true)
        })
        .await?;
        Ok(done)
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(mfa_totp::table.filter(
            mfa_totp::user_id.eq(user.uuid()).and(mfa_totp::last_step.is_null().or(mfa_totp::last_step.lt(step))),
        ))
        .set(mfa_totp::last_step.eq(step))
        .execute(&mut conn)
        .await
        .map_err(db)?;
        Ok(n == 1)
    }

    async fn use_recovery_code(&self, user: UserId, digest: &[u8], now: DateTime<Utc>) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(
            rc::table.filter(rc::user_id.eq(user.uuid()).and(rc::code_hmac.eq(digest)).and(rc::used_at.is_null())),
        )
        .set(rc::used_at.eq(now))
        .execute(&mut conn)
        .await
        .map_err(db)?;
        Ok(n == 1)
    }

    async fn remove_totp(&self, user: UserId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(mfa_totp::table.filter(mfa_totp::user_id.eq(user.uuid()))).execute(c).await?;
            if n == 0 {
                return Ok(false);
            }
            diesel::delete(rc::table.filter(rc::user_id.eq(user.uuid()))).execute(c).await?;
            set_method(c, user.uuid(), Method::Totp, false, now).await?;
            Ok(true)
        })
        .await?;
        Ok(done)
    }
}

/// Failed-login counters.
#[derive(Debug, Clone)]
pub struct PgThrottle(pub(crate) Database);

#[async_trait]
impl ThrottleRepository for PgThrottle {
    async fn failures(&self, keys: &[Key]) -> Result<Vec<(Scope, Failures)>, RepoError> {
        let mut conn = self.0.conn().await?;
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        let rows: Vec<(String, i32, DateTime<Utc>, DateTime<Utc>)> = lt::table
            .filter(lt::key.eq_any(&names))
            .select((lt::key, lt::failures, lt::first_at, lt::last_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, count, first_at, last_at)| {
                let key = keys.iter().find(|k| k.name == name)?;
                Some((key.scope, Failures { count: u32::try_from(count).unwrap_or(0), first_at, last_at }))
            })
            .collect())
    }

    async fn record_failure(&self, keys: &[Key], now: DateTime<Utc>) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        conn.transaction::<_, TxError, _>(async |c| {
            // Sorted, so two processes lock the same keys in the same order.
            let mut keys: Vec<&Key> = keys.iter().collect();
            keys.sort_by(|a, b| a.name.cmp(&b.name));
            for key in keys {
                diesel::insert_into(lt::table)
                    .values((lt::key.eq(&key.name), lt::failures.eq(0), lt::first_at.eq(now), lt::last_at.eq(now)))
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await?;
                let (count, first_at, last_at): (i32, DateTime<Utc>, DateTime<Utc>) = lt::table
                    .find(&key.name)
                    .select((lt::failures, lt::first_at, lt::last_at))
                    .for_update()
                    .first(c)
                    .await?;
                let prev = (count > 0).then(|| Failures {
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    first_at,
                    last_at,
                });
                let next = Failures::after_failure(prev.as_ref(), key.scope, now);
                diesel::update(lt::table.find(&key.name))
                    .set((
                        lt::failures.eq(i32::try_from(next.count).unwrap_or(i32::MAX)),
                        lt::first_at.eq(next.first_at),
                        lt::last_at.eq(next.last_at),
                    ))
                    .execute(c)
                    .await?;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn clear(&self, key: &Key) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        diesel::delete(lt::table.find(&key.name)).execute(&mut conn).await.map_err(db)?;
        Ok(())
    }

    async fn purge(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let horizon = scaikey_domain::throttle::forgotten_before(now);
        let n = diesel::delete(lt::table.filter(lt::last_at.lt(horizon))).execute(&mut conn).await.map_err(db)?;
        Ok(n as u64)
    }
}

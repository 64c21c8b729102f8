//! Mailed links on PostgreSQL. Whether a link may be used is the domain's
//! (`mail_link::StoredLink::state`); this module stores links and uses one up with a
//! compare-and-set on `used_at`, so two requests racing with one link cannot both set a password.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::EndedSession;
use scaikey_app::ports::mail::{LinkRecord, MailLinkRepository};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::UserId;
use scaikey_domain::mail_link::{Purpose, StoredLink};
use uuid::Uuid;

use crate::db::Database;
use crate::error::db;
use crate::schema::{mail_links as ml, users};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Mailed-link storage.
#[derive(Debug, Clone)]
pub struct PgMailLinks(pub(crate) Database);

type LinkRow = (Uuid, String, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

#[async_trait]
impl MailLinkRepository for PgMailLinks {
    async fn issue(
        &self,
        user: UserId,
        digest: &[u8],
        link: &StoredLink,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let out = crate::audit::audited(&self.0, audit, link.created_at, async |c| {
            // Lock the user so a deletion cannot slip between the check and the insert.
            let live: Option<Uuid> = users::table
                .filter(users::id.eq(user.uuid()).and(users::deleted_at.is_null()))
                .select(users::id)
                .for_update()
                .first(c)
                .await
                .optional()?;
            if live.is_none() {
                return Ok(false);
            }
            diesel::delete(ml::table.filter(
                ml::user_id.eq(user.uuid()).and(ml::purpose.eq(link.purpose.as_str())).and(ml::used_at.is_null()),
            ))
            .execute(c)
            .await?;
            diesel::insert_into(ml::table)
                .values((
                    ml::token_hmac.eq(digest),
                    ml::user_id.eq(user.uuid()),
                    ml::purpose.eq(link.purpose.as_str()),
                    ml::created_at.eq(link.created_at),
                    ml::expires_at.eq(link.expires_at),
                ))
                .execute(c)
                .await?;
            Ok(true)
        })
        .await?;
        Ok(out)
    }

    async fn last_sent(&self, user: UserId, purpose: Purpose) -> Result<Option<DateTime<Utc>>, RepoError> {
        let mut conn = self.0.conn().await?;
        ml::table
            .filter(ml::user_id.eq(user.uuid()).and(ml::purpose.eq(purpose.as_str())).and(ml::used_at.is_null()))
            .select(diesel::dsl::max(ml::created_at))
            .first::<Option<DateTime<Utc>>>(&mut conn)
            .await
            .map_err(db)
    }

    async fn find(&self, digest: &[u8]) -> Result<Option<LinkRecord>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<LinkRow> = ml::table
            .inner_join(users::table)
            .filter(ml::token_hmac.eq(digest).and(users::deleted_at.is_null()))
            .select((ml::user_id, ml::purpose, ml::created_at, ml::expires_at, ml::used_at))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.and_then(|(user, purpose, created_at, expires_at, used_at)| {
            // A purpose this version does not know is no link it can honour.
            let purpose = Purpose::parse(&purpose)?;
            Some(LinkRecord {
                user_id: UserId::from_uuid(user),
                link: StoredLink { purpose, created_at, expires_at, used_at },
            })
        }))
    }

    async fn redeem(
        &self,
        digest: &[u8],
        password_hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let user: Option<Uuid> =
                diesel::update(ml::table.filter(ml::token_hmac.eq(digest).and(ml::used_at.is_null())))
                    .set(ml::used_at.eq(now))
                    .returning(ml::user_id)
                    .get_result(c)
                    .await
                    .optional()?;
            let Some(user) = user else { return Ok(None) };
            let n = diesel::update(users::table.filter(users::id.eq(user).and(users::deleted_at.is_null())))
                .set((
                    users::password_hash.eq(password_hash),
                    users::email_verified.eq(true),
                    users::updated_at.eq(now),
                ))
                .execute(c)
                .await?;
            if n == 0 {
                // Deleted meanwhile: the link stays used, nothing else changes.
                return Ok(None);
            }
            // The other links of the user die with this one: one mailed link sets one password.
            diesel::delete(ml::table.filter(ml::user_id.eq(user).and(ml::used_at.is_null()))).execute(c).await?;
            let ended = crate::users::cut_off(c, UserId::from_uuid(user), now).await?;
            Ok(Some(ended))
        })
        .await?;
        Ok(out)
    }
}

//! `SessionRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{Revocation, Session, SessionFilter, SessionRepository, SessionState};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use uuid::Uuid;

use crate::db::Database;
use crate::error::db;
use crate::list_page::list_page;
use crate::schema::{sessions, tenants};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{SessionRows, visible};

/// Sessions in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSessions(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
}

fn to_session(r: SessionRow, partner: Option<Uuid>) -> Session {
    Session {
        id: SessionId::from_uuid(r.id),
        user_id: UserId::from_uuid(r.user_id),
        tenant_id: r.tenant_id.map(TenantId::from_uuid),
        partner_id: partner.map(PartnerId::from_uuid),
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        expires_at: r.expires_at,
        ip: r.ip,
        user_agent: r.user_agent,
        revoked_at: r.revoked_at,
    }
}

type Joined = sessions::BoxedQuery<'static, diesel::pg::Pg>;

fn filtered(reach: Reach, f: &SessionFilter, now: DateTime<Utc>) -> Joined {
    let mut q = sessions::table.into_boxed();
    if let Some(c) = visible::<_, SessionRows>(reach, Listing::Owned) {
        q = q.filter(c);
    }
    if let Some(u) = f.user_id {
        q = q.filter(sessions::user_id.eq(u.uuid()));
    }
    if let Some(t) = f.tenant_id {
        q = q.filter(sessions::tenant_id.eq(t.uuid()));
    }
    match f.state {
        SessionState::Active => q = q.filter(sessions::revoked_at.is_null().and(sessions::expires_at.gt(now))),
        SessionState::Ended => q = q.filter(sessions::revoked_at.is_not_null().or(sessions::expires_at.le(now))),
        SessionState::Any => {}
    }
    q
}

#[async_trait]
impl SessionRepository for PgSessions {
    async fn get(&self, id: SessionId) -> Result<Option<Session>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(SessionRow, Option<Uuid>)> = sessions::table
            .left_join(tenants::table)
            .filter(sessions::id.eq(id.uuid()))
            .select((SessionRow::as_select(), tenants::partner_id.nullable()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_session(r, p)))
    }

    async fn list(
        &self,
        reach: Reach,
        f: &SessionFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<Session>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows): (i64, Vec<SessionRow>) =
            list_page!(&mut conn, filtered(reach, f, now), sessions::id.desc(), SessionRow::as_select(), page);
        let tenant_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.tenant_id).collect();
        let partners = crate::tenants::partners_of(&mut conn, &tenant_ids).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let p = r.tenant_id.and_then(|t| partners.get(&t).copied().flatten());
                to_session(r, p)
            })
            .collect();
        Ok(Page { items, request: page, total })
    }

    async fn revoke(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Session>, RepoError> {
        crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(sessions::table.filter(
                sessions::id.eq(id.uuid()).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now)),
            ))
            .set(sessions::revoked_at.eq(now))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        self.get(id).await
    }

    async fn revoked_since(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<Revocation>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = sessions::table
            .filter(sessions::revoked_at.ge(since).and(sessions::expires_at.gt(now)))
            .select((sessions::id, sessions::expires_at, sessions::revoked_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, expires_at, revoked_at)| {
                revoked_at.map(|revoked_at| Revocation { id: SessionId::from_uuid(id), expires_at, revoked_at })
            })
            .collect())
    }
}

//! `TenantRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{TenantFilter, TenantRepository};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, TenantId};
use scaikey_domain::limits::admit_one;
use scaikey_domain::status::Status;
use scaikey_domain::tenant::{NewTenant, Tenant, TenantChanges};
use scaikey_domain::token_cutoff::{Cut, TokenOwner};
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::{TxError, db};
use crate::list_page::list_page;
use crate::partners::like_pattern;
use crate::schema::{applications, partners, tenants};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{TenantRows, visible};

/// Tenants in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgTenants(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
struct TenantRow {
    id: Uuid,
    partner_id: Option<Uuid>,
    name: String,
    slug: String,
    status: String,
    contact_email: Option<String>,
    settings: serde_json::Value,
    branding: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Tenant {
        Tenant {
            id: TenantId::from_uuid(r.id),
            partner_id: r.partner_id.map(PartnerId::from_uuid),
            name: r.name,
            slug: r.slug,
            status: Status::parse(&r.status).unwrap_or(Status::Suspended),
            contact_email: r.contact_email,
            settings: r.settings,
            branding: r.branding,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = tenants)]
struct TenantChangeset<'a> {
    name: Option<&'a str>,
    slug: Option<&'a str>,
    status: Option<&'a str>,
    contact_email: Option<Option<&'a str>>,
    partner_id: Option<Option<Uuid>>,
    settings: Option<&'a serde_json::Value>,
    branding: Option<&'a serde_json::Value>,
    updated_at: DateTime<Utc>,
}

/// Locks the live partner `p` and checks one more tenant (other than `moving`) fits under its
/// `max_tenants`.
async fn admit_tenant(c: &mut AsyncPgConnection, p: PartnerId, moving: Option<TenantId>) -> Result<(), TxError> {
    let limit: Option<Option<i32>> = partners::table
        .filter(partners::id.eq(p.uuid()).and(partners::deleted_at.is_null()))
        .select(partners::max_tenants)
        .for_update()
        .first(c)
        .await
        .optional()?;
    let Some(limit) = limit else {
        return Err(RepoError::MissingReference("partner_id").into());
    };
    if limit.is_some() {
        let mut q =
            tenants::table.filter(tenants::partner_id.eq(p.uuid()).and(tenants::deleted_at.is_null())).into_boxed();
        if let Some(t) = moving {
            q = q.filter(tenants::id.ne(t.uuid()));
        }
        let current: i64 = q.count().get_result(c).await?;
        admit_one("max_tenants", limit, current).map_err(RepoError::from)?;
    }
    Ok(())
}

/// The partner of `t` if it is a live tenant; `MissingReference("tenant_id")` otherwise. For
/// inserts of resources that belong to a tenant.
pub(crate) async fn live_tenant(c: &mut AsyncPgConnection, t: TenantId) -> Result<Option<Uuid>, TxError> {
    let found: Option<Option<Uuid>> = tenants::table
        .filter(tenants::id.eq(t.uuid()).and(tenants::deleted_at.is_null()))
        .select(tenants::partner_id)
        .first(c)
        .await
        .optional()?;
    found.ok_or_else(|| RepoError::MissingReference("tenant_id").into())
}

/// The current partner of each of `tenant_ids` (one query; none when the list is empty), for
/// list pages whose rows carry a tenant and need its partner for the access rules.
pub(crate) async fn partners_of(
    c: &mut AsyncPgConnection,
    tenant_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, Option<Uuid>>> {
    if tenant_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(tenants::table
        .filter(tenants::id.eq_any(tenant_ids))
        .select((tenants::id, tenants::partner_id))
        .load::<(Uuid, Option<Uuid>)>(c)
        .await?
        .into_iter()
        .collect())
}

fn filtered(reach: Reach, f: &TenantFilter) -> tenants::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = tenants::table.filter(tenants::deleted_at.is_null()).into_boxed();
    if let Some(c) = visible::<_, TenantRows>(reach, Listing::TenantRecords) {
        q = q.filter(c);
    }
    if let Some(s) = &f.search {
        let p = like_pattern(s);
        q = q.filter(tenants::name.ilike(p.clone()).or(tenants::slug.ilike(p)));
    }
    if let Some(st) = f.status {
        q = q.filter(tenants::status.eq(st.as_str()));
    }
    if let Some(p) = f.partner_id {
        q = q.filter(tenants::partner_id.eq(p.uuid()));
    }
    q
}

#[async_trait]
impl TenantRepository for PgTenants {
    async fn insert(
        &self,
        id: TenantId,
        t: &NewTenant,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Tenant, RepoError> {
        let Written(row) = crate::audit::audited(&self.0, audit, now, async |c| {
            if let Some(p) = t.partner_id {
                admit_tenant(c, p, None).await?;
            }
            let row = diesel::insert_into(tenants::table)
                .values((
                    tenants::id.eq(id.uuid()),
                    tenants::partner_id.eq(t.partner_id.map(AsUuid::uuid)),
                    tenants::name.eq(&t.name),
                    tenants::slug.eq(&t.slug),
                    tenants::status.eq(t.status.as_str()),
                    tenants::contact_email.eq(&t.contact_email),
                    tenants::settings.eq(&t.settings),
                    tenants::branding.eq(&t.branding),
                    tenants::created_at.eq(now),
                    tenants::updated_at.eq(now),
                ))
                .returning(TenantRow::as_returning())
                .get_result(c)
                .await?;
            Ok(Written(row))
        })
        .await?;
        Ok(row.into())
    }

    async fn get(&self, id: TenantId) -> Result<Option<Tenant>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row = tenants::table
            .filter(tenants::id.eq(id.uuid()).and(tenants::deleted_at.is_null()))
            .select(TenantRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(Into::into))
    }

    async fn list(&self, reach: Reach, filter: &TenantFilter, page: PageRequest) -> Result<Page<Tenant>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows) =
            list_page!(&mut conn, filtered(reach, filter), tenants::id.desc(), TenantRow::as_select(), page);
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), request: page, total })
    }

    async fn update(
        &self,
        id: TenantId,
        ch: &TenantChanges,
        cut: Option<Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Tenant>, RepoError> {
        let set = TenantChangeset {
            name: ch.name.as_deref(),
            slug: ch.slug.as_deref(),
            status: ch.status.map(Status::as_str),
            contact_email: ch.contact_email.as_ref().map(Option::as_deref),
            partner_id: ch.partner_id.map(|p| p.map(AsUuid::uuid)),
            settings: ch.settings.as_ref(),
            branding: ch.branding.as_ref(),
            updated_at: now,
        };
        let row = crate::audit::audited(&self.0, audit, now, async |c| {
            let current: Option<Option<Uuid>> = tenants::table
                .filter(tenants::id.eq(id.uuid()).and(tenants::deleted_at.is_null()))
                .select(tenants::partner_id)
                .for_update()
                .first(c)
                .await
                .optional()?;
            let Some(current) = current else { return Ok(None) };
            if let Some(Some(target)) = ch.partner_id
                && current != Some(target.uuid())
            {
                admit_tenant(c, target, Some(id)).await?;
            }
            let row = diesel::update(tenants::table.filter(tenants::id.eq(id.uuid())))
                .set(&set)
                .returning(TenantRow::as_returning())
                .get_result(c)
                .await?;
            if ch.partner_id.is_some() && row.partner_id != current {
                // The tenant's applications now answer to another partner: mark them changed
                // so every process's client cache reloads them (their tokens carry it).
                diesel::update(applications::table.filter(applications::tenant_id.eq(id.uuid())))
                    .set(applications::updated_at.eq(now))
                    .execute(c)
                    .await?;
            }
            if let Some(cut) = cut {
                crate::cutoffs::record(c, TokenOwner::Tenant(id), cut, now).await?;
            }
            Ok(Some(row))
        })
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete(&self, id: TenantId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let deleted = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(tenants::table.filter(tenants::id.eq(id.uuid()).and(tenants::deleted_at.is_null())))
                .set((tenants::deleted_at.eq(now), tenants::updated_at.eq(now)))
                .execute(c)
                .await?;
            if n == 1 {
                crate::cutoffs::record(c, TokenOwner::Tenant(id), Cut::Block, now).await?;
            }
            Ok(n == 1)
        })
        .await?;
        Ok(deleted)
    }
}

//! `PartnerRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{PartnerFilter, PartnerRepository};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::PartnerId;
use scaikey_domain::limits::PartnerLimits;
use scaikey_domain::partner::{NewPartner, Partner, PartnerChanges};
use scaikey_domain::status::Status;
use scaikey_domain::token_cutoff::{Cut, TokenOwner};
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::db;
use crate::list_page::list_page;
use crate::schema::{partners, tenants};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Refuses a reference to a partner that is not live (`MissingReference("partner_id")`),
/// inside the caller's transaction.
pub(crate) async fn live_partner(
    c: &mut diesel_async::AsyncPgConnection,
    p: PartnerId,
) -> Result<(), crate::error::TxError> {
    let live: i64 = partners::table
        .filter(partners::id.eq(p.uuid()).and(partners::deleted_at.is_null()))
        .count()
        .get_result(c)
        .await?;
    if live == 0 { Err(RepoError::MissingReference("partner_id").into()) } else { Ok(()) }
}

/// Partners in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgPartners(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = partners, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PartnerRow {
    id: Uuid,
    name: String,
    slug: String,
    status: String,
    contact_email: Option<String>,
    max_tenants: Option<i32>,
    max_users_per_tenant: Option<i32>,
    max_applications_per_tenant: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<PartnerRow> for Partner {
    fn from(r: PartnerRow) -> Partner {
        Partner {
            id: PartnerId::from_uuid(r.id),
            name: r.name,
            slug: r.slug,
            status: Status::parse(&r.status).unwrap_or(Status::Suspended),
            contact_email: r.contact_email,
            limits: PartnerLimits {
                max_tenants: r.max_tenants,
                max_users_per_tenant: r.max_users_per_tenant,
                max_applications_per_tenant: r.max_applications_per_tenant,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = partners)]
struct PartnerChangeset<'a> {
    name: Option<&'a str>,
    slug: Option<&'a str>,
    status: Option<&'a str>,
    contact_email: Option<Option<&'a str>>,
    max_tenants: Option<Option<i32>>,
    max_users_per_tenant: Option<Option<i32>>,
    max_applications_per_tenant: Option<Option<i32>>,
    updated_at: Option<DateTime<Utc>>,
}

/// `%`, `_` and `\` are literal in a search term.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut s = String::with_capacity(term.len() + 2);
    s.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

fn filtered(f: &PartnerFilter) -> partners::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = partners::table.filter(partners::deleted_at.is_null()).into_boxed();
    if let Some(s) = &f.search {
        let p = like_pattern(s);
        q = q.filter(partners::name.ilike(p.clone()).or(partners::slug.ilike(p)));
    }
    if let Some(st) = f.status {
        q = q.filter(partners::status.eq(st.as_str()));
    }
    q
}

#[async_trait]
impl PartnerRepository for PgPartners {
    async fn insert(
        &self,
        id: PartnerId,
        p: &NewPartner,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Partner, RepoError> {
        let Written(row) = crate::audit::audited(&self.0, audit, now, async |c| {
            let row = diesel::insert_into(partners::table)
                .values((
                    partners::id.eq(id.uuid()),
                    partners::name.eq(&p.name),
                    partners::slug.eq(&p.slug),
                    partners::status.eq(p.status.as_str()),
                    partners::contact_email.eq(&p.contact_email),
                    partners::max_tenants.eq(p.limits.max_tenants),
                    partners::max_users_per_tenant.eq(p.limits.max_users_per_tenant),
                    partners::max_applications_per_tenant.eq(p.limits.max_applications_per_tenant),
                    partners::created_at.eq(now),
                    partners::updated_at.eq(now),
                ))
                .returning(PartnerRow::as_returning())
                .get_result(c)
                .await?;
            Ok(Written(row))
        })
        .await?;
        Ok(row.into())
    }

    async fn get(&self, id: PartnerId) -> Result<Option<Partner>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row = partners::table
            .filter(partners::id.eq(id.uuid()).and(partners::deleted_at.is_null()))
            .select(PartnerRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(Into::into))
    }

    async fn list(&self, filter: &PartnerFilter, page: PageRequest) -> Result<Page<Partner>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows) = list_page!(&mut conn, filtered(filter), partners::id.desc(), PartnerRow::as_select(), page);
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), request: page, total })
    }

    async fn update(
        &self,
        id: PartnerId,
        ch: &PartnerChanges,
        cut: Option<Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Partner>, RepoError> {
        let set = PartnerChangeset {
            name: ch.name.as_deref(),
            slug: ch.slug.as_deref(),
            status: ch.status.map(Status::as_str),
            contact_email: ch.contact_email.as_ref().map(Option::as_deref),
            max_tenants: ch.max_tenants,
            max_users_per_tenant: ch.max_users_per_tenant,
            max_applications_per_tenant: ch.max_applications_per_tenant,
            updated_at: Some(now),
        };
        let row = crate::audit::audited(&self.0, audit, now, async |c| {
            let row = diesel::update(partners::table)
                .filter(partners::id.eq(id.uuid()).and(partners::deleted_at.is_null()))
                .set(&set)
                .returning(PartnerRow::as_returning())
                .get_result(c)
                .await
                .optional()?;
            if row.is_some()
                && let Some(cut) = cut
            {
                crate::cutoffs::record(c, TokenOwner::Partner(id), cut, now).await?;
            }
            Ok(row)
        })
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete(&self, id: PartnerId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let deleted = crate::audit::audited(&self.0, audit, now, async |c| {
            // Lock the partner so no tenant can be created under it meanwhile.
            let live: Option<Uuid> = partners::table
                .filter(partners::id.eq(id.uuid()).and(partners::deleted_at.is_null()))
                .select(partners::id)
                .for_update()
                .first(c)
                .await
                .optional()?;
            if live.is_none() {
                return Ok(false);
            }
            let tenants: i64 = tenants::table
                .filter(tenants::partner_id.eq(id.uuid()).and(tenants::deleted_at.is_null()))
                .count()
                .get_result(c)
                .await?;
            scaikey_domain::partner::may_delete(tenants).map_err(|r| crate::error::refused(&r))?;
            diesel::update(partners::table.filter(partners::id.eq(id.uuid())))
                .set((partners::deleted_at.eq(now), partners::updated_at.eq(now)))
                .execute(c)
                .await?;
            crate::cutoffs::record(c, TokenOwner::Partner(id), Cut::Block, now).await?;
            Ok(true)
        })
        .await?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}

//! `RegistrationRepository` on PostgreSQL. It decides nothing: a review's outcome comes from the
//! domain, and is stored only if the row is unchanged since it was read (an update guarded by
//! the status and `updated_at` read), with the approved application in the same transaction —
//! so of two concurrent approvals one stores and the other finds the row changed. Filters by
//! effective status are the domain's [`stored_forms`] turned into SQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{DynamicClient, RegistrationFilter, RegistrationRecord, RegistrationRepository, Review};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::application::{Application, ApplicationType, ClientSettingsInput};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, PartnerId, RegistrationRequestId, TenantId};
use scaikey_domain::registration::{DUE, Expiry, RegistrationRequest, RegistrationStatus, stored_forms};
use scaikey_domain::scope::ScopeLevel;
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::db;
use crate::list_page::list_page;
use crate::schema::{registration_requests as rr, tenants};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{RegistrationRows, visible};

/// Registration requests in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgRegistrations(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = rr, check_for_backend(diesel::pg::Pg))]
struct RegRow {
    id: Uuid,
    scope: String,
    partner_id: Option<Uuid>,
    tenant_id: Option<Uuid>,
    name: String,
    description: Option<String>,
    application_type: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    allowed_origins: Vec<String>,
    requested_scopes: Vec<String>,
    requested_resources: Vec<String>,
    grant_types: Vec<String>,
    contact_email: String,
    contact_name: Option<String>,
    organization_name: Option<String>,
    website_url: Option<String>,
    status: String,
    created_by: Option<String>,
    reviewed_by: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
    review_notes: Option<String>,
    rejection_reason: Option<String>,
    application_id: Option<Uuid>,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A stored value the domain does not know: the row is corrupt, and reading it is an error.
fn unknown(id: Uuid, column: &str, value: &str) -> RepoError {
    RepoError::Unknown(anyhow::anyhow!("stored registration request {id} has an unknown {column} {value:?}"))
}

fn to_request(r: RegRow, tenant_partner: Option<Uuid>) -> Result<RegistrationRequest, RepoError> {
    let application_type = ApplicationType::parse(&r.application_type)
        .ok_or_else(|| unknown(r.id, "application_type", &r.application_type))?;
    let scope = ScopeLevel::parse(&r.scope).ok_or_else(|| unknown(r.id, "scope", &r.scope))?;
    let status = RegistrationStatus::parse(&r.status).ok_or_else(|| unknown(r.id, "status", &r.status))?;
    // Stored settings were validated on the way in; rebuild them without re-checking.
    let settings = ClientSettingsInput {
        application_type,
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        allowed_origins: r.allowed_origins,
        allowed_scopes: r.requested_scopes,
        allowed_resources: r.requested_resources,
        grant_types: r.grant_types,
    }
    .validate(scope)
    .map_err(|e| RepoError::Unknown(anyhow::anyhow!("stored registration request {} is invalid: {e}", r.id)))?;
    Ok(RegistrationRequest {
        id: RegistrationRequestId::from_uuid(r.id),
        scope,
        partner_id: r.partner_id.or(tenant_partner).map(PartnerId::from_uuid),
        tenant_id: r.tenant_id.map(TenantId::from_uuid),
        name: r.name,
        description: r.description,
        settings,
        contact_email: r.contact_email,
        contact_name: r.contact_name,
        organization_name: r.organization_name,
        website_url: r.website_url,
        status,
        created_by: r.created_by,
        reviewed_by: r.reviewed_by,
        reviewed_at: r.reviewed_at,
        review_notes: r.review_notes,
        rejection_reason: r.rejection_reason,
        application_id: r.application_id.map(ApplicationId::from_uuid),
        expires_at: r.expires_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

type RegQuery = rr::BoxedQuery<'static, diesel::pg::Pg>;

fn filtered(reach: Reach, f: &RegistrationFilter, now: DateTime<Utc>) -> RegQuery {
    let mut q = rr::table.into_boxed();
    if let Some(c) = visible::<_, RegistrationRows>(reach, Listing::RegistrationRequests) {
        q = q.filter(c);
    }
    if let Some(sc) = f.scope {
        q = q.filter(rr::scope.eq(sc.as_str()));
    }
    if let Some(s) = &f.search {
        let p = crate::partners::like_pattern(s);
        q = q.filter(rr::name.ilike(p.clone()).or(rr::description.ilike(p.clone())).or(rr::contact_email.ilike(p)));
    }
    if let Some(s) = f.status {
        let mut forms = stored_forms(s).iter().map(|&form| stored_form(form, now));
        if let Some(first) = forms.next() {
            q = q.filter(forms.fold(first, |any, next| Box::new(any.or(next))));
        }
    }
    q
}

type RegCondition = Box<dyn BoxableExpression<rr::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>;

/// One of the domain's stored forms as SQL.
fn stored_form((status, expiry): (RegistrationStatus, Expiry), now: DateTime<Utc>) -> RegCondition {
    let status = rr::status.eq(status.as_str());
    match expiry {
        Expiry::Any => Box::new(status),
        Expiry::Passed => Box::new(status.and(rr::expires_at.le(now))),
        Expiry::Ahead => Box::new(status.and(rr::expires_at.gt(now))),
    }
}

async fn partner_of_tenant(c: &mut diesel_async::AsyncPgConnection, t: Option<Uuid>) -> QueryResult<Option<Uuid>> {
    match t {
        Some(t) => Ok(tenants::table
            .filter(tenants::id.eq(t))
            .select(tenants::partner_id)
            .first(c)
            .await
            .optional()?
            .flatten()),
        None => Ok(None),
    }
}

#[async_trait]
impl RegistrationRepository for PgRegistrations {
    async fn insert(
        &self,
        id: RegistrationRequestId,
        rec: &RegistrationRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<RegistrationRequest, RepoError> {
        let r = &rec.request;
        let Written(out) = crate::audit::audited(&self.0, audit, now, async |c| {
            if let Some(t) = r.tenant_id {
                crate::tenants::live_tenant(c, t).await?;
            }
            if r.scope == ScopeLevel::Partner
                && let Some(p) = r.partner_id
            {
                crate::partners::live_partner(c, p).await?;
            }
            let s = &r.settings;
            let stored_partner = if r.scope == ScopeLevel::Partner { r.partner_id.map(AsUuid::uuid) } else { None };
            let row = diesel::insert_into(rr::table)
                .values((
                    rr::id.eq(id.uuid()),
                    rr::scope.eq(r.scope.as_str()),
                    rr::partner_id.eq(stored_partner),
                    rr::tenant_id.eq(r.tenant_id.map(AsUuid::uuid)),
                    rr::name.eq(&r.name),
                    rr::description.eq(&r.description),
                    rr::application_type.eq(s.application_type.as_str()),
                    rr::redirect_uris.eq(&s.redirect_uris),
                    rr::post_logout_redirect_uris.eq(&s.post_logout_redirect_uris),
                    rr::allowed_origins.eq(&s.allowed_origins),
                    rr::requested_scopes.eq(&s.allowed_scopes),
                    rr::requested_resources.eq(&s.allowed_resources),
                    rr::grant_types.eq(&s.grant_types),
                    rr::contact_email.eq(&r.contact_email),
                    rr::contact_name.eq(&r.contact_name),
                    rr::organization_name.eq(&r.organization_name),
                    rr::website_url.eq(&r.website_url),
                    rr::status.eq(RegistrationStatus::Pending.as_str()),
                    rr::created_by.eq(&rec.created_by),
                    rr::expires_at.eq(rec.expires_at),
                    rr::created_at.eq(now),
                    rr::updated_at.eq(now),
                ))
                .returning(RegRow::as_returning())
                .get_result(c)
                .await?;
            if let Some(d) = &rec.dynamic {
                use crate::schema::dynamic_clients as dc;
                diesel::insert_into(dc::table)
                    .values((
                        dc::registration_id.eq(id.uuid()),
                        dc::client_id.eq(&d.client_id),
                        dc::token_digest.eq(&d.token_digest),
                        dc::created_ip.eq(&d.ip),
                        dc::created_at.eq(now),
                    ))
                    .execute(c)
                    .await?;
            }
            let partner = partner_of_tenant(c, row.tenant_id).await?;
            Ok(Written(to_request(row, partner)?))
        })
        .await?;
        Ok(out)
    }

    async fn get(&self, id: RegistrationRequestId) -> Result<Option<RegistrationRequest>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<RegRow> = rr::table
            .filter(rr::id.eq(id.uuid()))
            .select(RegRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let partner = partner_of_tenant(&mut conn, row.tenant_id).await.map_err(db)?;
        Ok(Some(to_request(row, partner)?))
    }

    async fn list(
        &self,
        reach: Reach,
        f: &RegistrationFilter,
        now: DateTime<Utc>,
        page: PageRequest,
    ) -> Result<Page<RegistrationRequest>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows): (i64, Vec<RegRow>) =
            list_page!(&mut conn, filtered(reach, f, now), rr::id.desc(), RegRow::as_select(), page);
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let partner = partner_of_tenant(&mut conn, row.tenant_id).await.map_err(db)?;
            items.push(to_request(row, partner)?);
        }
        Ok(Page { items, request: page, total })
    }

    async fn store_review(
        &self,
        read: &RegistrationRequest,
        review: &Review,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<(RegistrationRequest, Option<Application>)>, RepoError> {
        let o = &review.outcome;
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let unchanged = rr::id
                .eq(read.id.uuid())
                .and(rr::status.eq(read.status.as_str()))
                .and(rr::updated_at.eq(read.updated_at));
            let stored: Option<RegRow> = diesel::update(rr::table.filter(unchanged))
                .set((
                    rr::status.eq(o.status.as_str()),
                    rr::reviewed_by.eq(&o.reviewed_by),
                    rr::reviewed_at.eq(o.reviewed_at),
                    rr::review_notes.eq(&o.review_notes),
                    rr::rejection_reason.eq(&o.rejection_reason),
                    rr::updated_at.eq(now),
                ))
                .returning(RegRow::as_returning())
                .get_result(c)
                .await
                .optional()?;
            let Some(mut row) = stored else { return Ok(None) };
            let mut app = None;
            if let Some((app_id, record)) = &review.application {
                let created = crate::applications::insert_app(c, *app_id, record, now).await?;
                row = diesel::update(rr::table.filter(rr::id.eq(read.id.uuid())))
                    .set(rr::application_id.eq(created.id.uuid()))
                    .returning(RegRow::as_returning())
                    .get_result(c)
                    .await?;
                app = Some(created);
            }
            let partner = partner_of_tenant(c, row.tenant_id).await?;
            Ok(Some((to_request(row, partner)?, app)))
        })
        .await?;
        Ok(out)
    }

    async fn dynamic_client(&self, id: RegistrationRequestId) -> Result<Option<DynamicClient>, RepoError> {
        use crate::schema::dynamic_clients as dc;
        let mut conn = self.0.conn().await?;
        let row: Option<(String, Vec<u8>, Option<String>)> = dc::table
            .find(id.uuid())
            .select((dc::client_id, dc::token_digest, dc::created_ip))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(client_id, token_digest, ip)| DynamicClient { client_id, token_digest, ip }))
    }

    async fn by_dynamic_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<(RegistrationRequest, DynamicClient)>, RepoError> {
        use crate::schema::dynamic_clients as dc;
        let found: Option<(Uuid, Vec<u8>, Option<String>)> = {
            let mut conn = self.0.conn().await?;
            dc::table
                .filter(dc::client_id.eq(client_id))
                .select((dc::registration_id, dc::token_digest, dc::created_ip))
                .first(&mut conn)
                .await
                .optional()
                .map_err(db)?
        };
        let Some((reg, token_digest, ip)) = found else { return Ok(None) };
        let Some(request) = self.get(RegistrationRequestId::from_uuid(reg)).await? else { return Ok(None) };
        Ok(Some((request, DynamicClient { client_id: client_id.to_string(), token_digest, ip })))
    }

    async fn dynamic_registrations_from(&self, ip: &str, since: DateTime<Utc>) -> Result<i64, RepoError> {
        use crate::schema::dynamic_clients as dc;
        let mut conn = self.0.conn().await?;
        dc::table
            .filter(dc::created_ip.eq(ip).and(dc::created_at.ge(since)))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db)
    }

    async fn expire_due(&self, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(rr::table.filter(stored_form(DUE, now)))
            .set((rr::status.eq(RegistrationStatus::Expired.as_str()), rr::updated_at.eq(now)))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }
}

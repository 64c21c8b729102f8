//! `IdpRepository` and `AgentRepository` on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{AgentFields, AgentFilter, AgentRepository, IdpFields, IdpFilter, IdpRepository};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federation::{Agent, IdentityProvider, Protocol};
use scaikey_domain::id::{AgentId, IdentityProviderId, PartnerId, TenantId};
use scaikey_domain::status::Status;
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::db;
use crate::list_page::list_page;
use crate::partners::like_pattern;
use crate::schema::{agents, identity_providers as idp, tenants};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Identity providers in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgIdps(pub(crate) Database);

/// Agents in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAgents(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = idp, check_for_backend(diesel::pg::Pg))]
struct IdpRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    protocol: String,
    enabled: bool,
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret_enc: Option<Vec<u8>>,
    scopes: Vec<String>,
    entity_id: Option<String>,
    sso_url: Option<String>,
    certificate: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    jit_provisioning: bool,
    attribute_mapping: serde_json::Value,
}

/// The stored mapping; entries that are not strings (none are written) are left out.
fn mapping_of(v: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    v.as_object()
        .map(|o| o.iter().filter_map(|(k, c)| Some((k.clone(), c.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

fn to_idp(r: IdpRow, partner: Option<Uuid>) -> IdentityProvider {
    IdentityProvider {
        id: IdentityProviderId::from_uuid(r.id),
        tenant_id: TenantId::from_uuid(r.tenant_id),
        partner_id: partner.map(PartnerId::from_uuid),
        name: r.name,
        protocol: Protocol::parse(&r.protocol).unwrap_or(Protocol::Oidc),
        enabled: r.enabled,
        issuer: r.issuer,
        client_id: r.client_id,
        client_secret_set: r.client_secret_enc.is_some(),
        scopes: r.scopes,
        entity_id: r.entity_id,
        sso_url: r.sso_url,
        certificate: r.certificate,
        jit_provisioning: r.jit_provisioning,
        attribute_mapping: mapping_of(&r.attribute_mapping),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = idp)]
struct IdpChangeset<'a> {
    name: Option<&'a str>,
    enabled: Option<bool>,
    issuer: Option<Option<&'a str>>,
    client_id: Option<Option<&'a str>>,
    client_secret_enc: Option<Option<&'a [u8]>>,
    scopes: Option<&'a Vec<String>>,
    entity_id: Option<Option<&'a str>>,
    sso_url: Option<Option<&'a str>>,
    certificate: Option<Option<&'a str>>,
    jit_provisioning: Option<bool>,
    attribute_mapping: Option<serde_json::Value>,
    updated_at: DateTime<Utc>,
}

fn mapping_json(m: &std::collections::BTreeMap<String, String>) -> serde_json::Value {
    serde_json::Value::Object(m.iter().map(|(k, c)| (k.clone(), serde_json::Value::String(c.clone()))).collect())
}

fn idp_changes(f: &IdpFields, now: DateTime<Utc>) -> IdpChangeset<'_> {
    IdpChangeset {
        name: f.name.as_deref(),
        enabled: f.enabled,
        issuer: f.issuer.as_ref().map(Option::as_deref),
        client_id: f.client_id.as_ref().map(Option::as_deref),
        client_secret_enc: f.client_secret_enc.as_ref().map(Option::as_deref),
        scopes: f.scopes.as_ref(),
        entity_id: f.entity_id.as_ref().map(Option::as_deref),
        sso_url: f.sso_url.as_ref().map(Option::as_deref),
        certificate: f.certificate.as_ref().map(Option::as_deref),
        jit_provisioning: f.jit_provisioning,
        attribute_mapping: f.attribute_mapping.as_ref().map(mapping_json),
        updated_at: now,
    }
}

macro_rules! reach_filter {
    ($q:expr, $table:ident, $rows:ty, $reach:expr, $tenant:expr) => {{
        let mut q = $q;
        if let Some(c) = crate::visible::visible::<_, $rows>($reach, Listing::Owned) {
            q = q.filter(c);
        }
        if let Some(t) = $tenant {
            q = q.filter($table::tenant_id.eq(t.uuid()));
        }
        q
    }};
}

#[async_trait]
impl IdpRepository for PgIdps {
    async fn insert(
        &self,
        id: IdentityProviderId,
        tenant: TenantId,
        f: &IdpFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<IdentityProvider, RepoError> {
        let Written(out) = crate::audit::audited(&self.0, audit, now, async |c| {
            let partner = crate::tenants::live_tenant(c, tenant).await?;
            let row = diesel::insert_into(idp::table)
                .values((
                    idp::id.eq(id.uuid()),
                    idp::tenant_id.eq(tenant.uuid()),
                    idp::name.eq(f.name.clone().unwrap_or_default()),
                    idp::protocol.eq(f.protocol.unwrap_or(Protocol::Oidc).as_str()),
                    idp::enabled.eq(f.enabled.unwrap_or(true)),
                    idp::issuer.eq(f.issuer.clone().flatten()),
                    idp::client_id.eq(f.client_id.clone().flatten()),
                    idp::client_secret_enc.eq(f.client_secret_enc.clone().flatten()),
                    idp::scopes.eq(f.scopes.clone().unwrap_or_default()),
                    idp::entity_id.eq(f.entity_id.clone().flatten()),
                    idp::sso_url.eq(f.sso_url.clone().flatten()),
                    idp::certificate.eq(f.certificate.clone().flatten()),
                    idp::jit_provisioning.eq(f.jit_provisioning.unwrap_or(true)),
                    idp::attribute_mapping.eq(f.attribute_mapping.as_ref().map(mapping_json).unwrap_or_default()),
                    idp::created_at.eq(now),
                    idp::updated_at.eq(now),
                ))
                .returning(IdpRow::as_returning())
                .get_result(c)
                .await?;
            Ok(Written(to_idp(row, partner)))
        })
        .await?;
        Ok(out)
    }

    async fn get(&self, id: IdentityProviderId) -> Result<Option<IdentityProvider>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(IdpRow, Option<Uuid>)> = idp::table
            .inner_join(tenants::table)
            .filter(idp::id.eq(id.uuid()).and(idp::deleted_at.is_null()))
            .select((IdpRow::as_select(), tenants::partner_id))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_idp(r, p)))
    }

    async fn list(
        &self,
        reach: Reach,
        filter: &IdpFilter,
        page: PageRequest,
    ) -> Result<Page<IdentityProvider>, RepoError> {
        let mut conn = self.0.conn().await?;
        let q = || {
            let q = reach_filter!(
                idp::table.filter(idp::deleted_at.is_null()).into_boxed(),
                idp,
                crate::visible::IdpRows,
                reach,
                filter.tenant_id
            );
            match &filter.search {
                Some(s) => q.filter(idp::name.ilike(like_pattern(s))),
                None => q,
            }
        };
        let (total, rows): (i64, Vec<IdpRow>) = list_page!(&mut conn, q(), idp::id.desc(), IdpRow::as_select(), page);
        let ids: Vec<Uuid> = rows.iter().map(|r| r.tenant_id).collect();
        let partners = crate::tenants::partners_of(&mut conn, &ids).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let p = partners.get(&r.tenant_id).copied().flatten();
                to_idp(r, p)
            })
            .collect();
        Ok(Page { items, request: page, total })
    }

    async fn update(
        &self,
        id: IdentityProviderId,
        f: &IdpFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<IdentityProvider>, RepoError> {
        let set = idp_changes(f, now);
        let found = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(idp::table.filter(idp::id.eq(id.uuid()).and(idp::deleted_at.is_null())))
                .set(&set)
                .execute(c)
                .await?;
            Ok(n == 1)
        })
        .await?;
        if found { self.get(id).await } else { Ok(None) }
    }

    async fn delete(&self, id: IdentityProviderId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(idp::table.filter(idp::id.eq(id.uuid()).and(idp::deleted_at.is_null())))
                .set((idp::deleted_at.eq(now), idp::updated_at.eq(now)))
                .execute(c)
                .await?;
            Ok(n == 1)
        })
        .await
    }

    async fn sealed_secret(&self, id: IdentityProviderId) -> Result<Option<Vec<u8>>, RepoError> {
        let mut conn = self.0.conn().await?;
        let found: Option<Option<Vec<u8>>> = idp::table
            .filter(idp::id.eq(id.uuid()).and(idp::deleted_at.is_null()))
            .select(idp::client_secret_enc)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(found.flatten())
    }

    async fn enabled_of(&self, tenant: TenantId) -> Result<Vec<IdentityProvider>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(IdpRow, Option<Uuid>)> = idp::table
            .inner_join(tenants::table)
            .filter(idp::tenant_id.eq(tenant.uuid()).and(idp::deleted_at.is_null()).and(idp::enabled.eq(true)))
            .order((idp::name.asc(), idp::id.asc()))
            .limit(50)
            .select((IdpRow::as_select(), tenants::partner_id))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|(r, p)| to_idp(r, p)).collect())
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = agents, check_for_backend(diesel::pg::Pg))]
struct AgentRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    description: Option<String>,
    allowed_tools: Vec<String>,
    allowed_scopes: Vec<String>,
    rate_limit_rpm: Option<i32>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    client_id: Option<String>,
}

fn to_agent(r: AgentRow, partner: Option<Uuid>) -> Agent {
    Agent {
        id: AgentId::from_uuid(r.id),
        tenant_id: TenantId::from_uuid(r.tenant_id),
        partner_id: partner.map(PartnerId::from_uuid),
        name: r.name,
        description: r.description,
        allowed_tools: r.allowed_tools,
        allowed_scopes: r.allowed_scopes,
        rate_limit_rpm: r.rate_limit_rpm,
        status: Status::parse(&r.status).unwrap_or(Status::Suspended),
        client_id: r.client_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = agents)]
struct AgentChangeset<'a> {
    name: Option<&'a str>,
    description: Option<Option<&'a str>>,
    allowed_tools: Option<&'a Vec<String>>,
    allowed_scopes: Option<&'a Vec<String>>,
    rate_limit_rpm: Option<Option<i32>>,
    status: Option<&'a str>,
    updated_at: DateTime<Utc>,
}

#[async_trait]
impl AgentRepository for PgAgents {
    async fn insert(
        &self,
        id: AgentId,
        tenant: TenantId,
        f: &AgentFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Agent, RepoError> {
        let Written(out) = crate::audit::audited(&self.0, audit, now, async |c| {
            let partner = crate::tenants::live_tenant(c, tenant).await?;
            let row = diesel::insert_into(agents::table)
                .values((
                    agents::id.eq(id.uuid()),
                    agents::tenant_id.eq(tenant.uuid()),
                    agents::name.eq(f.name.clone().unwrap_or_default()),
                    agents::description.eq(f.description.clone().flatten()),
                    agents::allowed_tools.eq(f.allowed_tools.clone().unwrap_or_default()),
                    agents::allowed_scopes.eq(f.allowed_scopes.clone().unwrap_or_default()),
                    agents::rate_limit_rpm.eq(f.rate_limit_rpm.flatten()),
                    agents::status.eq(f.status.unwrap_or_default().as_str()),
                    agents::created_at.eq(now),
                    agents::updated_at.eq(now),
                ))
                .returning(AgentRow::as_returning())
                .get_result(c)
                .await?;
            Ok(Written(to_agent(row, partner)))
        })
        .await?;
        Ok(out)
    }

    async fn get(&self, id: AgentId) -> Result<Option<Agent>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(AgentRow, Option<Uuid>)> = agents::table
            .inner_join(tenants::table)
            .filter(agents::id.eq(id.uuid()).and(agents::deleted_at.is_null()))
            .select((AgentRow::as_select(), tenants::partner_id))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_agent(r, p)))
    }

    async fn list(&self, reach: Reach, filter: &AgentFilter, page: PageRequest) -> Result<Page<Agent>, RepoError> {
        let mut conn = self.0.conn().await?;
        let q = || {
            let q = reach_filter!(
                agents::table.filter(agents::deleted_at.is_null()).into_boxed(),
                agents,
                crate::visible::AgentRows,
                reach,
                filter.tenant_id
            );
            match &filter.search {
                Some(s) => {
                    let p = like_pattern(s);
                    q.filter(agents::name.ilike(p.clone()).or(agents::description.ilike(p)))
                }
                None => q,
            }
        };
        let (total, rows): (i64, Vec<AgentRow>) =
            list_page!(&mut conn, q(), agents::id.desc(), AgentRow::as_select(), page);
        let ids: Vec<Uuid> = rows.iter().map(|r| r.tenant_id).collect();
        let partners = crate::tenants::partners_of(&mut conn, &ids).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let p = partners.get(&r.tenant_id).copied().flatten();
                to_agent(r, p)
            })
            .collect();
        Ok(Page { items, request: page, total })
    }

    async fn update(
        &self,
        id: AgentId,
        f: &AgentFields,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Agent>, RepoError> {
        let set = AgentChangeset {
            name: f.name.as_deref(),
            description: f.description.as_ref().map(Option::as_deref),
            allowed_tools: f.allowed_tools.as_ref(),
            allowed_scopes: f.allowed_scopes.as_ref(),
            rate_limit_rpm: f.rate_limit_rpm,
            status: f.status.map(Status::as_str),
            updated_at: now,
        };
        let found = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(agents::table.filter(agents::id.eq(id.uuid()).and(agents::deleted_at.is_null())))
                .set(&set)
                .execute(c)
                .await?;
            Ok(n == 1)
        })
        .await?;
        if found { self.get(id).await } else { Ok(None) }
    }

    async fn set_secret(
        &self,
        id: AgentId,
        client_id: &str,
        digest: &[u8],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<String>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            // The first rotation gives the agent its client ID; later ones keep it.
            let effective: Option<Option<String>> =
                diesel::update(agents::table.filter(agents::id.eq(id.uuid()).and(agents::deleted_at.is_null())))
                    .set((
                        agents::client_id.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                            "COALESCE(client_id, ",
                        )
                        .bind::<diesel::sql_types::Text, _>(client_id)
                        .sql(")")),
                        agents::secret_digest.eq(digest),
                        agents::updated_at.eq(now),
                    ))
                    .returning(agents::client_id)
                    .get_result(c)
                    .await
                    .optional()?;
            let Some(Some(effective)) = effective else { return Ok(None) };
            Ok(Some(effective))
        })
        .await?;
        Ok(out)
    }

    async fn by_client_id(&self, client_id: &str) -> Result<Option<scaikey_app::ports::AgentWithDigest>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(AgentRow, Option<Uuid>, Option<Vec<u8>>)> = agents::table
            .inner_join(tenants::table)
            .filter(agents::client_id.eq(client_id).and(agents::deleted_at.is_null()))
            .select((AgentRow::as_select(), tenants::partner_id, agents::secret_digest))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p, d)| (to_agent(r, p), d)))
    }

    async fn count_call(&self, id: AgentId, window: DateTime<Utc>) -> Result<i64, RepoError> {
        use crate::schema::agent_call_windows as w;
        let mut conn = self.0.conn().await?;
        let calls: i32 = diesel::insert_into(w::table)
            .values((w::agent_id.eq(id.uuid()), w::window_start.eq(window), w::calls.eq(1)))
            .on_conflict((w::agent_id, w::window_start))
            .do_update()
            .set(w::calls.eq(w::calls + 1))
            .returning(w::calls)
            .get_result(&mut conn)
            .await
            .map_err(db)?;
        if calls == 1 {
            // A new window: the agent's older ones count for nothing any more.
            diesel::delete(w::table.filter(w::agent_id.eq(id.uuid()).and(w::window_start.lt(window))))
                .execute(&mut conn)
                .await
                .map_err(db)?;
        }
        Ok(i64::from(calls))
    }

    async fn delete(&self, id: AgentId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(agents::table.filter(agents::id.eq(id.uuid()).and(agents::deleted_at.is_null())))
                .set((agents::deleted_at.eq(now), agents::updated_at.eq(now)))
                .execute(c)
                .await?;
            Ok(n == 1)
        })
        .await?;
        Ok(done)
    }
}

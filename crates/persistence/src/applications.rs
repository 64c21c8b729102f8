//! `ApplicationRepository` on PostgreSQL.
//!
//! TENANT applications store no `partner_id`: their partner is always the tenant's current one
//! (joined on read), so a tenant moving between partners takes its applications along.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{
    ApplicationFilter, ApplicationPatch, ApplicationRecord, ApplicationRepository, Assignee, Assignment,
    ClientDirectory, EffectiveUser,
};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::application::{Application, ApplicationType, IdTokenAlg, MAX_TOKEN_LIFETIME};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, AssignmentId, GroupId, PartnerId, TenantId, UserId};
use scaikey_domain::limits::admit_one;
use scaikey_domain::scope::ScopeLevel;
use scaikey_domain::status::Status;
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::{TxError, db};
use crate::list_page::list_page;
use crate::partners::like_pattern;
use crate::schema::{application_assignments, applications, groups, partners, tenants, users};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{ApplicationRows, AssignmentRows, EffectiveUserRows, visible};

/// Applications in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgApplications(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = applications, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AppRow {
    id: Uuid,
    client_id: String,
    client_secret_hmac: Option<Vec<u8>>,
    name: String,
    description: Option<String>,
    application_type: String,
    scope: String,
    partner_id: Option<Uuid>,
    tenant_id: Option<Uuid>,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    allowed_origins: Vec<String>,
    allowed_scopes: Vec<String>,
    allowed_resources: Vec<String>,
    grant_types: Vec<String>,
    token_lifetime: i32,
    token_exchange_allowed: bool,
    assignment_required: bool,
    first_party: bool,
    id_token_signed_response_alg: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Converts a row; `tenant_partner` is the current partner of a TENANT app's tenant.
pub(crate) fn to_app(r: AppRow, tenant_partner: Option<Uuid>) -> (Application, Option<Vec<u8>>) {
    let partner = r.partner_id.or(tenant_partner);
    let app = Application {
        id: ApplicationId::from_uuid(r.id),
        client_id: r.client_id,
        name: r.name,
        description: r.description,
        application_type: ApplicationType::parse(&r.application_type).unwrap_or(ApplicationType::Web),
        scope: ScopeLevel::parse(&r.scope).unwrap_or(ScopeLevel::Tenant),
        partner_id: partner.map(PartnerId::from_uuid),
        tenant_id: r.tenant_id.map(TenantId::from_uuid),
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        allowed_origins: r.allowed_origins,
        allowed_scopes: r.allowed_scopes,
        allowed_resources: r.allowed_resources,
        grant_types: r.grant_types,
        token_lifetime: i64::from(r.token_lifetime),
        token_exchange_allowed: r.token_exchange_allowed,
        assignment_required: r.assignment_required,
        first_party: r.first_party,
        // The column's CHECK admits only the two names.
        id_token_signed_response_alg: IdTokenAlg::parse(&r.id_token_signed_response_alg).unwrap_or_default(),
        status: Status::parse(&r.status).unwrap_or(Status::Suspended),
        has_secret: r.client_secret_hmac.is_some(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    };
    (app, r.client_secret_hmac)
}

/// Inserts an application inside the caller's transaction, enforcing the tenant's limit.
pub(crate) async fn insert_app(
    c: &mut AsyncPgConnection,
    id: ApplicationId,
    record: &ApplicationRecord,
    now: DateTime<Utc>,
) -> Result<Application, TxError> {
    let a = &record.app;
    let mut tenant_partner = None;
    match (a.scope, a.tenant_id, a.partner_id) {
        (ScopeLevel::Tenant, Some(t), _) => {
            let found: Option<Option<Uuid>> = tenants::table
                .filter(tenants::id.eq(t.uuid()).and(tenants::deleted_at.is_null()))
                .select(tenants::partner_id)
                .for_update()
                .first(c)
                .await
                .optional()?;
            let Some(p) = found else { return Err(RepoError::MissingReference("tenant_id").into()) };
            tenant_partner = p;
            if let Some(p) = p {
                let limit: Option<i32> = partners::table
                    .filter(partners::id.eq(p))
                    .select(partners::max_applications_per_tenant)
                    .first(c)
                    .await?;
                if limit.is_some() {
                    let n: i64 = applications::table
                        .filter(applications::tenant_id.eq(t.uuid()).and(applications::deleted_at.is_null()))
                        .count()
                        .get_result(c)
                        .await?;
                    admit_one("max_applications_per_tenant", limit, n).map_err(RepoError::from)?;
                }
            }
        }
        (ScopeLevel::Partner, _, Some(p)) => crate::partners::live_partner(c, p).await?,
        _ => {}
    }
    let stored_partner = if a.scope == ScopeLevel::Partner { a.partner_id.map(AsUuid::uuid) } else { None };
    let s = &a.settings;
    let row = diesel::insert_into(applications::table)
        .values((
            applications::id.eq(id.uuid()),
            applications::client_id.eq(&record.client_id),
            applications::client_secret_hmac.eq(&record.secret_digest),
            applications::name.eq(&a.name),
            applications::description.eq(&a.description),
            applications::application_type.eq(s.application_type.as_str()),
            applications::scope.eq(a.scope.as_str()),
            applications::partner_id.eq(stored_partner),
            applications::tenant_id.eq(a.tenant_id.map(AsUuid::uuid)),
            applications::redirect_uris.eq(&s.redirect_uris),
            applications::post_logout_redirect_uris.eq(&s.post_logout_redirect_uris),
            applications::allowed_origins.eq(&s.allowed_origins),
            applications::allowed_scopes.eq(&s.allowed_scopes),
            applications::allowed_resources.eq(&s.allowed_resources),
            applications::grant_types.eq(&s.grant_types),
            applications::token_lifetime.eq(i32::try_from(a.token_lifetime).unwrap_or(3600)),
            applications::token_exchange_allowed.eq(a.token_exchange_allowed),
            applications::assignment_required.eq(a.assignment_required),
            applications::first_party.eq(a.first_party),
            applications::id_token_signed_response_alg.eq(a.id_token_signed_response_alg.as_str()),
            applications::status.eq(a.status.as_str()),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(AppRow::as_returning())
        .get_result(c)
        .await?;
    Ok(to_app(row, tenant_partner).0)
}

type AppQuery = applications::BoxedQuery<'static, diesel::pg::Pg>;

fn listed(reach: Reach, f: &ApplicationFilter) -> AppQuery {
    let mut q = applications::table.filter(applications::deleted_at.is_null()).into_boxed();
    if let Some(c) = visible::<_, ApplicationRows>(reach, Listing::Applications) {
        q = q.filter(c);
    }
    if let Some(s) = &f.search {
        let p = like_pattern(s);
        q = q.filter(applications::name.ilike(p.clone()).or(applications::client_id.ilike(p)));
    }
    if !f.exclude_client_ids.is_empty() {
        q = q.filter(applications::client_id.ne_all(f.exclude_client_ids.clone()));
    }
    if let Some(sc) = f.scope {
        q = q.filter(applications::scope.eq(sc.as_str()));
    }
    if let Some(t) = f.application_type {
        q = q.filter(applications::application_type.eq(t.as_str()));
    }
    if let Some(t) = f.tenant_id {
        q = q.filter(applications::tenant_id.eq(t.uuid()));
    }
    if let Some(p) = f.partner_id {
        q = q.filter(
            applications::partner_id
                .assume_not_null()
                .eq(p.uuid())
                .or(applications::tenant_id.assume_not_null().eq_any(crate::visible::tenants_of(p))),
        );
    }
    q
}

async fn with_partners(c: &mut AsyncPgConnection, rows: Vec<AppRow>) -> QueryResult<Vec<Application>> {
    let tenant_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.tenant_id).collect();
    let partners = crate::tenants::partners_of(c, &tenant_ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = r.tenant_id.and_then(|t| partners.get(&t).copied().flatten());
            to_app(r, p).0
        })
        .collect())
}

async fn load_one(c: &mut AsyncPgConnection, filter: AppQuery) -> QueryResult<Option<(Application, Option<Vec<u8>>)>> {
    let row: Option<AppRow> = filter.select(AppRow::as_select()).first(c).await.optional()?;
    let Some(row) = row else { return Ok(None) };
    let partner = match row.tenant_id {
        Some(t) => {
            tenants::table.filter(tenants::id.eq(t)).select(tenants::partner_id).first(c).await.optional()?.flatten()
        }
        None => None,
    };
    Ok(Some(to_app(row, partner)))
}

#[derive(AsChangeset)]
#[diesel(table_name = applications)]
struct AppChangeset<'a> {
    name: Option<&'a str>,
    description: Option<Option<&'a str>>,
    redirect_uris: Option<&'a Vec<String>>,
    post_logout_redirect_uris: Option<&'a Vec<String>>,
    allowed_origins: Option<&'a Vec<String>>,
    allowed_scopes: Option<&'a Vec<String>>,
    allowed_resources: Option<&'a Vec<String>>,
    grant_types: Option<&'a Vec<String>>,
    token_lifetime: Option<i32>,
    token_exchange_allowed: Option<bool>,
    assignment_required: Option<bool>,
    first_party: Option<bool>,
    id_token_signed_response_alg: Option<&'static str>,
    status: Option<&'a str>,
    updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = application_assignments, check_for_backend(diesel::pg::Pg))]
struct AssignmentRow {
    id: Uuid,
    application_id: Uuid,
    user_id: Option<Uuid>,
    group_id: Option<Uuid>,
    tenant_id: Uuid,
    created_at: DateTime<Utc>,
}

fn to_assignment(r: AssignmentRow, partner: Option<Uuid>) -> Assignment {
    Assignment {
        id: AssignmentId::from_uuid(r.id),
        application_id: ApplicationId::from_uuid(r.application_id),
        assignee: match (r.user_id, r.group_id) {
            (Some(u), _) => Assignee::User(UserId::from_uuid(u)),
            (None, Some(g)) => Assignee::Group(GroupId::from_uuid(g)),
            (None, None) => Assignee::User(UserId::from_uuid(Uuid::nil())),
        },
        tenant_id: TenantId::from_uuid(r.tenant_id),
        partner_id: partner.map(PartnerId::from_uuid),
        created_at: r.created_at,
    }
}

#[derive(QueryableByName)]
struct EffectiveRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Nullable<Text>)]
    display_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    tenant_id: Uuid,
    #[diesel(sql_type = Text)]
    tenant_name: String,
    #[diesel(sql_type = Bool)]
    direct: bool,
    #[diesel(sql_type = Array<SqlUuid>)]
    via_groups: Vec<Uuid>,
}

/// The assigned groups and everything nested below them, as (assigned root, group) pairs.
const TREE: &str = "
WITH RECURSIVE
roots AS (
    SELECT group_id AS root FROM application_assignments WHERE application_id = $1 AND group_id IS NOT NULL
),
tree(root, gid) AS (
    SELECT root, root FROM roots
    UNION
    SELECT t.root, n.child_id FROM tree t JOIN group_nesting n ON n.parent_id = t.gid
)";

/// Details and grants of the users of one page ($2: their IDs).
const PAGE_DETAILS: &str = "
SELECT u.id AS user_id, u.email, u.display_name, u.tenant_id, tn.name AS tenant_name,
       EXISTS (SELECT 1 FROM application_assignments a WHERE a.application_id = $1 AND a.user_id = u.id) AS direct,
       coalesce((SELECT array_agg(DISTINCT t.root) FROM tree t JOIN group_members m ON m.group_id = t.gid
                 WHERE m.user_id = u.id), '{}') AS via_groups
FROM users u JOIN tenants tn ON tn.id = u.tenant_id
WHERE u.id = ANY($2)
ORDER BY u.id DESC";

#[async_trait]
impl ClientDirectory for PgApplications {
    async fn by_client_id(
        &self,
        client_id: &str,
    ) -> Result<Option<scaikey_app::ports::ApplicationWithDigest>, RepoError> {
        let mut conn = self.0.conn().await?;
        let q = applications::table
            .filter(applications::client_id.eq(client_id.to_string()).and(applications::deleted_at.is_null()))
            .into_boxed();
        Ok(load_one(&mut conn, q).await.map_err(db)?.map(std::sync::Arc::new))
    }

    async fn disabled(&self, now: DateTime<Utc>) -> Result<Vec<ApplicationId>, RepoError> {
        let mut conn = self.0.conn().await?;
        let since = now - Duration::seconds(MAX_TOKEN_LIFETIME);
        let ids: Vec<Uuid> = applications::table
            .filter(
                applications::deleted_at
                    .gt(since)
                    .or(applications::deleted_at.is_null().and(applications::status.ne("active"))),
            )
            .select(applications::id)
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(ids.into_iter().map(ApplicationId::from_uuid).collect())
    }

    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>, RepoError> {
        let mut conn = self.0.conn().await?;
        applications::table
            .filter(applications::updated_at.gt(since))
            .select((applications::client_id, applications::updated_at))
            .load(&mut conn)
            .await
            .map_err(db)
    }
}

#[async_trait]
impl ApplicationRepository for PgApplications {
    async fn insert(
        &self,
        id: ApplicationId,
        a: &ApplicationRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Application, RepoError> {
        let Written(app) = crate::audit::audited(&self.0, audit, now, async |c| {
            let app = insert_app(c, id, a, now).await?;
            Ok(Written(app))
        })
        .await?;
        Ok(app)
    }

    async fn get(&self, id: ApplicationId) -> Result<Option<Application>, RepoError> {
        let mut conn = self.0.conn().await?;
        let q = applications::table
            .filter(applications::id.eq(id.uuid()).and(applications::deleted_at.is_null()))
            .into_boxed();
        Ok(load_one(&mut conn, q).await.map_err(db)?.map(|(a, _)| a))
    }

    async fn list(
        &self,
        reach: Reach,
        filter: &ApplicationFilter,
        page: PageRequest,
    ) -> Result<Page<Application>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows): (i64, Vec<AppRow>) =
            list_page!(&mut conn, listed(reach, filter), applications::id.desc(), AppRow::as_select(), page);
        let items = with_partners(&mut conn, rows).await.map_err(db)?;
        Ok(Page { items, request: page, total })
    }

    async fn update(
        &self,
        id: ApplicationId,
        p: &ApplicationPatch,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Application>, RepoError> {
        let set = AppChangeset {
            name: p.name.as_deref(),
            description: p.description.as_ref().map(Option::as_deref),
            redirect_uris: p.settings.as_ref().map(|s| &s.redirect_uris),
            post_logout_redirect_uris: p.settings.as_ref().map(|s| &s.post_logout_redirect_uris),
            allowed_origins: p.settings.as_ref().map(|s| &s.allowed_origins),
            allowed_scopes: p.settings.as_ref().map(|s| &s.allowed_scopes),
            allowed_resources: p.settings.as_ref().map(|s| &s.allowed_resources),
            grant_types: p.settings.as_ref().map(|s| &s.grant_types),
            token_lifetime: p.token_lifetime.and_then(|t| i32::try_from(t).ok()),
            token_exchange_allowed: p.token_exchange_allowed,
            assignment_required: p.assignment_required,
            first_party: p.first_party,
            id_token_signed_response_alg: p.id_token_signed_response_alg.map(IdTokenAlg::as_str),
            status: p.status.map(Status::as_str),
            updated_at: now,
        };
        let found = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(
                applications::table.filter(applications::id.eq(id.uuid()).and(applications::deleted_at.is_null())),
            )
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
        id: ApplicationId,
        digest: &[u8],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Application>, RepoError> {
        let found = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(
                applications::table.filter(applications::id.eq(id.uuid()).and(applications::deleted_at.is_null())),
            )
            .set((applications::client_secret_hmac.eq(digest), applications::updated_at.eq(now)))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        if found { self.get(id).await } else { Ok(None) }
    }

    async fn delete(&self, id: ApplicationId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let deleted = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(
                applications::table.filter(applications::id.eq(id.uuid()).and(applications::deleted_at.is_null())),
            )
            .set((applications::deleted_at.eq(now), applications::updated_at.eq(now)))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        Ok(deleted)
    }

    async fn assign(
        &self,
        id: AssignmentId,
        app: &Application,
        assignee: Assignee,
        home: (TenantId, Option<PartnerId>),
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Assignment>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let found: Option<(Uuid, Option<Uuid>)> = match assignee {
                Assignee::User(u) => users::table
                    .inner_join(tenants::table)
                    .filter(users::id.eq(u.uuid()).and(users::deleted_at.is_null()).and(tenants::deleted_at.is_null()))
                    .select((tenants::id, tenants::partner_id))
                    .first(c)
                    .await
                    .optional()?,
                Assignee::Group(g) => groups::table
                    .inner_join(tenants::table)
                    .filter(groups::id.eq(g.uuid()).and(groups::deleted_at.is_null()))
                    .select((tenants::id, tenants::partner_id))
                    .first(c)
                    .await
                    .optional()?,
            };
            // Stored only on the assignee as the caller read it: live, in that tenant, under that partner.
            let (tenant, partner) = (home.0.uuid(), home.1.map(AsUuid::uuid));
            if found != Some((tenant, partner)) {
                return Ok(None);
            }
            let (user, group) = match assignee {
                Assignee::User(u) => (Some(u.uuid()), None),
                Assignee::Group(g) => (None, Some(g.uuid())),
            };
            let row: Option<AssignmentRow> = diesel::insert_into(application_assignments::table)
                .values((
                    application_assignments::id.eq(id.uuid()),
                    application_assignments::application_id.eq(app.id.uuid()),
                    application_assignments::user_id.eq(user),
                    application_assignments::group_id.eq(group),
                    application_assignments::tenant_id.eq(tenant),
                    application_assignments::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .returning(AssignmentRow::as_returning())
                .get_result(c)
                .await
                .optional()?;
            let Some(row) = row else {
                return Err(RepoError::Conflict("Already assigned to this application".into()).into());
            };
            Ok(Some(to_assignment(row, partner)))
        })
        .await?;
        Ok(out)
    }

    async fn assignments(
        &self,
        app: ApplicationId,
        reach: Reach,
        page: PageRequest,
    ) -> Result<Page<Assignment>, RepoError> {
        let mut conn = self.0.conn().await?;
        let q = || {
            let mut q = application_assignments::table
                .inner_join(tenants::table)
                .filter(application_assignments::application_id.eq(app.uuid()))
                .into_boxed();
            if let Some(c) = visible::<_, AssignmentRows>(reach, Listing::Owned) {
                q = q.filter(c);
            }
            q
        };
        let (total, rows): (i64, Vec<(AssignmentRow, Option<Uuid>)>) = list_page!(
            &mut conn,
            q(),
            application_assignments::id.desc(),
            (AssignmentRow::as_select(), tenants::partner_id),
            page
        );
        Ok(Page { items: rows.into_iter().map(|(r, p)| to_assignment(r, p)).collect(), request: page, total })
    }

    async fn assignment(&self, app: ApplicationId, id: AssignmentId) -> Result<Option<Assignment>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(AssignmentRow, Option<Uuid>)> = application_assignments::table
            .inner_join(tenants::table)
            .filter(
                application_assignments::application_id.eq(app.uuid()).and(application_assignments::id.eq(id.uuid())),
            )
            .select((AssignmentRow::as_select(), tenants::partner_id))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_assignment(r, p)))
    }

    async fn unassign(
        &self,
        app: ApplicationId,
        id: AssignmentId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let removed = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(application_assignments::table.filter(
                application_assignments::application_id.eq(app.uuid()).and(application_assignments::id.eq(id.uuid())),
            ))
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        Ok(removed)
    }

    async fn effective_users(
        &self,
        app: &Application,
        reach: Reach,
        tenant: Option<TenantId>,
        page: PageRequest,
    ) -> Result<Page<EffectiveUser>, RepoError> {
        use crate::schema::application_users as au;
        // `application_users`, kept by the triggers of migration 21 (the application's scope is
        // applied when a pair is added): the pairs the reach lists (the domain's rule), in one
        // tenant if asked.
        let within = || {
            let mut q = au::table.filter(au::application_id.eq(app.id.uuid())).into_boxed();
            if let Some(c) = visible::<_, EffectiveUserRows>(reach, Listing::Owned) {
                q = q.filter(c);
            }
            if let Some(t) = tenant {
                q = q.filter(au::tenant_id.eq(t.uuid()));
            }
            q
        };
        let mut conn = self.0.conn().await?;
        let (total, page_ids): (i64, Vec<Uuid>) =
            list_page!(&mut conn, within(), au::user_id.desc(), au::user_id, page);
        if page_ids.is_empty() {
            return Ok(Page { items: Vec::new(), request: page, total });
        }
        let rows: Vec<EffectiveRow> = diesel::sql_query(format!("{TREE}{PAGE_DETAILS}"))
            .bind::<SqlUuid, _>(app.id.uuid())
            .bind::<Array<SqlUuid>, _>(&page_ids)
            .load(&mut conn)
            .await
            .map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| EffectiveUser {
                user_id: UserId::from_uuid(r.user_id),
                email: r.email,
                display_name: r.display_name,
                tenant_id: TenantId::from_uuid(r.tenant_id),
                tenant_name: r.tenant_name,
                direct: r.direct,
                via_groups: r.via_groups.into_iter().map(GroupId::from_uuid).collect(),
            })
            .collect();
        Ok(Page { items, request: page, total })
    }
}

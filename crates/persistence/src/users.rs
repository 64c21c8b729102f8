//! `UserRepository` on PostgreSQL.

use scaikey_domain::mfa::Method;
use scaikey_domain::token_cutoff::{Cut, TokenOwner};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::mfa::MfaDisabled;
use scaikey_app::ports::{EndedSession, UserFilter, UserRecord, UserRepository};
use scaikey_domain::access::{Listing, Reach, Visible};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::limits::admit_one;
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
use scaikey_domain::user::{User, UserChanges};
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::{TxError, db};
use crate::partners::like_pattern;
use crate::schema::{partners, sessions, tenants, user_counts, users};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{UserRows, visible};

/// Users in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgUsers(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    status: String,
    roles: Vec<String>,
    custom_attributes: serde_json::Value,
    mfa_enabled: bool,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    mfa_methods: Vec<String>,
    email_verified: bool,
    #[diesel(select_expression = users::password_hash.is_not_null())]
    #[diesel(select_expression_type = diesel::dsl::IsNotNull<users::password_hash>)]
    password_set: bool,
}

fn to_user(r: UserRow, partner: Option<Uuid>) -> User {
    User {
        id: UserId::from_uuid(r.id),
        tenant_id: r.tenant_id.map(TenantId::from_uuid),
        partner_id: partner.map(PartnerId::from_uuid),
        email: r.email,
        first_name: r.first_name,
        last_name: r.last_name,
        display_name: r.display_name,
        status: Status::parse(&r.status).unwrap_or(Status::Suspended),
        roles: Roles::parse_all(r.roles.iter().map(String::as_str)).unwrap_or_default(),
        custom_attributes: r.custom_attributes,
        mfa_enabled: r.mfa_enabled,
        mfa_methods: r.mfa_methods.iter().filter_map(|m| Method::parse(m)).collect(),
        email_verified: r.email_verified,
        password_set: r.password_set,
        last_login_at: r.last_login_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChangeset<'a> {
    email: Option<&'a str>,
    first_name: Option<Option<&'a str>>,
    last_name: Option<Option<&'a str>>,
    display_name: Option<Option<&'a str>>,
    status: Option<&'a str>,
    roles: Option<Vec<String>>,
    custom_attributes: Option<&'a serde_json::Value>,
    updated_at: DateTime<Utc>,
}

fn role_names(r: Roles) -> Vec<String> {
    r.iter().map(|x| x.as_str().to_string()).collect()
}

/// Revokes every live refresh token of `user` at `now`, the offline ones (which outlive
/// sessions) included.
pub(crate) async fn end_refresh_tokens(
    c: &mut AsyncPgConnection,
    user: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use crate::schema::refresh_tokens as rt;
    diesel::update(rt::table.filter(rt::user_id.eq(user).and(rt::revoked_at.is_null())))
        .set(rt::revoked_at.eq(now))
        .execute(c)
        .await
}

/// Revokes every open session and every refresh token of `user` at `now`, returning the
/// sessions.
pub(crate) async fn end_sessions(
    c: &mut AsyncPgConnection,
    user: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<EndedSession>> {
    end_refresh_tokens(c, user, now).await?;
    let rows: Vec<(Uuid, DateTime<Utc>)> = diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user).and(sessions::revoked_at.is_null()).and(sessions::expires_at.gt(now))),
    )
    .set(sessions::revoked_at.eq(now))
    .returning((sessions::id, sessions::expires_at))
    .get_results(c)
    .await?;
    Ok(rows.into_iter().map(|(id, expires_at)| EndedSession { id: SessionId::from_uuid(id), expires_at }).collect())
}

/// Signs `user` out everywhere after a change of credentials (password set, second factors
/// removed, deletion): ends every session and refresh token and records the cut refusing every
/// token issued before `now` — what `RevocationList::cut_user` then applies in the process.
pub(crate) async fn cut_off(
    c: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> QueryResult<Vec<EndedSession>> {
    let ended = end_sessions(c, user.uuid(), now).await?;
    crate::cutoffs::record(c, TokenOwner::User(user), Cut::Before, now).await?;
    Ok(ended)
}

async fn partner_of(c: &mut AsyncPgConnection, tenant: Option<Uuid>) -> QueryResult<Option<Uuid>> {
    match tenant {
        None => Ok(None),
        Some(t) => Ok(tenants::table
            .filter(tenants::id.eq(t))
            .select(tenants::partner_id)
            .first(c)
            .await
            .optional()?
            .flatten()),
    }
}

fn filtered(reach: Reach, f: &UserFilter) -> users::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = users::table.filter(users::deleted_at.is_null()).into_boxed();
    if let Some(c) = visible::<_, UserRows>(reach, Listing::Owned) {
        q = q.filter(c);
    }
    if let Some(s) = &f.search {
        // The expression of the `users_search_trgm` index (migration 7), so a search is a
        // trigram index scan rather than a scan of every user.
        q = q.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "(lower(users.email) || E'\\n' || lower(COALESCE(users.first_name, '')) || E'\\n' \
                 || lower(COALESCE(users.last_name, '')) || E'\\n' || lower(COALESCE(users.display_name, ''))) LIKE lower(",
            )
            .bind::<diesel::sql_types::Text, _>(like_pattern(s))
            .sql(")"),
        );
    }
    if let Some(st) = f.status {
        q = q.filter(users::status.eq(st.as_str()));
    }
    if let Some(t) = f.tenant_id {
        q = q.filter(users::tenant_id.eq(t.uuid()));
    }
    if let Some(r) = f.role {
        q = q.filter(users::roles.contains(vec![r.as_str().to_string()]));
    }
    q
}

/// The list's total from `user_counts` (one row per tenant, kept by triggers) when the filter is
/// only "live users of a tenant, of a partner's live tenants, or of the platform"; `None` when
/// other filters apply and the rows must be counted. For one tenant it also names the tenant and
/// the version of its user set, for [`Bookmarks`].
async fn counted_total(
    c: &mut AsyncPgConnection,
    reach: Reach,
    f: &UserFilter,
) -> QueryResult<Option<(i64, Option<(Uuid, i64)>)>> {
    use diesel::sql_types::{BigInt, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    if f.search.is_some() || f.status.is_some() || f.role.is_some() {
        return Ok(None);
    }
    // The counters cover exactly the lists the domain's rule can give a user list: every user,
    // one tenant's, or those of a partner's live tenants (users are never a partner's own rows,
    // so its `Partner` form adds none). Any other shape counts the rows.
    let forms = reach.lists(Listing::Owned);
    let tenant = match (forms.as_slice(), f.tenant_id) {
        (&[Visible::Tenant(tenant)], None) | (&[Visible::All], Some(tenant)) => tenant,
        (&[Visible::Tenant(tenant)], Some(t)) if t == tenant => t,
        (&[Visible::All], None) => {
            let s: Sum =
                diesel::sql_query("SELECT COALESCE(sum(live), 0)::bigint AS n FROM user_counts").get_result(c).await?;
            return Ok(Some((s.n, None)));
        }
        (&[Visible::Partner(_), Visible::TenantsOf(p)], None) => {
            let s: Sum = diesel::sql_query(
                "SELECT COALESCE(sum(live), 0)::bigint AS n FROM user_counts
                 WHERE tenant_key IN (SELECT id FROM tenants WHERE partner_id = $1 AND deleted_at IS NULL)",
            )
            .bind::<SqlUuid, _>(p.uuid())
            .get_result(c)
            .await?;
            return Ok(Some((s.n, None)));
        }
        _ => return Ok(None),
    };
    let row: Option<(i64, i64)> = user_counts::table
        .filter(user_counts::tenant_key.eq(tenant.uuid()))
        .select((user_counts::live, user_counts::version))
        .first(c)
        .await
        .optional()?;
    let (live, version) = row.unwrap_or((0, 0));
    Ok(Some((live, Some((tenant.uuid(), version)))))
}

/// Bookmarks are kept one per this many users.
const STRIDE: i64 = 1_000;

/// Pages starting this deep use bookmarks; shallower ones skip entries in the index directly.
const BOOKMARKS_FROM: i64 = 5 * STRIDE;

/// Tenants whose bookmarks are kept at most; the cache is cleared when full.
const MAX_BOOKMARKED_TENANTS: usize = 1_000;

/// The ID at every [`STRIDE`]-th position of a tenant's live users, newest first, as of one
/// version of the tenant's `user_counts` row. A page at offset `o` then starts at bookmark
/// `o / STRIDE` and skips fewer than `STRIDE` index entries, so a deep page costs what the first
/// does. Any change to the tenant's users bumps the version and the bookmarks are rebuilt (one
/// index-only pass) by the next deep page.
#[derive(Debug, Clone)]
struct Bookmarks {
    version: i64,
    ids: Arc<Vec<Uuid>>,
}

/// Per-tenant [`Bookmarks`] of one process.
#[derive(Debug, Clone, Default)]
pub(crate) struct BookmarkCache(Arc<Mutex<HashMap<Uuid, Bookmarks>>>);

impl BookmarkCache {
    fn get(&self, tenant: Uuid, version: i64) -> Option<Arc<Vec<Uuid>>> {
        let m = self.0.lock().ok()?;
        m.get(&tenant).filter(|b| b.version == version).map(|b| b.ids.clone())
    }

    fn put(&self, tenant: Uuid, version: i64, ids: Arc<Vec<Uuid>>) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= MAX_BOOKMARKED_TENANTS {
                m.clear();
            }
            m.insert(tenant, Bookmarks { version, ids });
        }
    }
}

async fn bookmarks(
    c: &mut AsyncPgConnection,
    cache: &BookmarkCache,
    tenant: Uuid,
    version: i64,
) -> QueryResult<Arc<Vec<Uuid>>> {
    if let Some(ids) = cache.get(tenant, version) {
        return Ok(ids);
    }
    #[derive(QueryableByName)]
    struct Mark {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let marks: Vec<Mark> = diesel::sql_query(format!(
        "SELECT id FROM (
             SELECT id, row_number() OVER (ORDER BY id DESC) - 1 AS pos
             FROM users WHERE tenant_id = $1 AND deleted_at IS NULL
         ) s WHERE pos % {STRIDE} = 0 ORDER BY pos"
    ))
    .bind::<diesel::sql_types::Uuid, _>(tenant)
    .load(c)
    .await?;
    let ids = Arc::new(marks.into_iter().map(|m| m.id).collect::<Vec<_>>());
    cache.put(tenant, version, ids.clone());
    Ok(ids)
}

/// One page, newest first. The IDs are picked first (an index-only scan that skips `offset`
/// entries without touching the table), then only those rows are read. A deep page of one
/// tenant's whole list starts from a bookmark; other deep pages past the middle are counted from
/// the oldest end, so the last page costs what the first does.
async fn page_rows(
    c: &mut AsyncPgConnection,
    cache: &BookmarkCache,
    reach: Reach,
    f: &UserFilter,
    page: PageRequest,
    total: i64,
    tenant_version: Option<(Uuid, i64)>,
) -> QueryResult<Vec<UserRow>> {
    let per_page = i64::from(page.per_page());
    let offset = page.offset();
    if offset >= total {
        return Ok(Vec::new());
    }
    let ids = match tenant_version {
        Some((tenant, version)) if offset >= BOOKMARKS_FROM => {
            let marks = bookmarks(c, cache, tenant, version).await?;
            let k = usize::try_from(offset / STRIDE).unwrap_or(usize::MAX);
            match marks.get(k) {
                Some(mark) => filtered(reach, f)
                    .filter(users::id.le(*mark))
                    .select(users::id)
                    .order(users::id.desc())
                    .limit(per_page)
                    .offset(offset % STRIDE),
                // The set shrank since the count was read: an empty page, as past the end.
                None => return Ok(Vec::new()),
            }
        }
        _ if offset > total / 2 => {
            // Rows [offset, offset + per_page) newest-first are rows [total - offset - per_page,
            // total - offset) oldest-first.
            let end = total - offset;
            let start = (end - per_page).max(0);
            filtered(reach, f).select(users::id).order(users::id.asc()).limit(end - start).offset(start)
        }
        _ => filtered(reach, f).select(users::id).order(users::id.desc()).limit(per_page).offset(offset),
    };
    users::table.filter(users::id.eq_any(ids)).order(users::id.desc()).select(UserRow::as_select()).load(c).await
}

/// A page of a `search`: the matches come from the trigram index, so the page's IDs and the
/// total are taken in one pass over them (`count(*) OVER ()`) rather than searching twice.
async fn searched_page(
    c: &mut AsyncPgConnection,
    reach: Reach,
    f: &UserFilter,
    page: PageRequest,
) -> QueryResult<(i64, Vec<UserRow>)> {
    let found: Vec<(Uuid, i64)> = filtered(reach, f)
        .select((users::id, diesel::dsl::sql::<diesel::sql_types::BigInt>("count(*) OVER ()")))
        .order(users::id.desc())
        .limit(i64::from(page.per_page()))
        .offset(page.offset())
        .load(c)
        .await?;
    let total = match <[(Uuid, i64)]>::first(&found) {
        Some((_, total)) => *total,
        // Past the end (or nothing matches): count on its own.
        None if page.offset() > 0 => filtered(reach, f).count().get_result(c).await?,
        None => 0,
    };
    let ids: Vec<Uuid> = found.into_iter().map(|(id, _)| id).collect();
    let rows =
        users::table.filter(users::id.eq_any(ids)).order(users::id.desc()).select(UserRow::as_select()).load(c).await?;
    Ok((total, rows))
}

#[async_trait]
impl UserRepository for PgUsers {
    async fn insert(
        &self,
        id: UserId,
        u: &UserRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<User, RepoError> {
        let Written((row, partner)) = crate::audit::audited(&self.0, audit, now, async |c| {
            let (row, partner) = insert_user(c, id, u, now).await?;
            Ok(Written((row, partner)))
        })
        .await?;
        Ok(to_user(row, partner))
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(UserRow, Option<Uuid>)> = users::table
            .left_join(tenants::table)
            .filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null()))
            .select((UserRow::as_select(), tenants::partner_id.nullable()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_user(r, p)))
    }

    async fn list(&self, reach: Reach, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows) = if filter.search.is_some() {
            searched_page(&mut conn, reach, filter, page).await.map_err(db)?
        } else {
            let (total, tenant_version) = match counted_total(&mut conn, reach, filter).await.map_err(db)? {
                Some(counted) => counted,
                None => (filtered(reach, filter).count().get_result(&mut conn).await.map_err(db)?, None),
            };
            let rows = page_rows(&mut conn, &self.0.bookmarks, reach, filter, page, total, tenant_version)
                .await
                .map_err(db)?;
            (total, rows)
        };
        // One small query for the partners of the tenants on this page.
        let tenant_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.tenant_id).collect();
        let partners = crate::tenants::partners_of(&mut conn, &tenant_ids).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let p = r.tenant_id.and_then(|t| partners.get(&t).copied().flatten());
                to_user(r, p)
            })
            .collect();
        Ok(Page { items, request: page, total })
    }

    async fn update(
        &self,
        id: UserId,
        ch: &UserChanges,
        cut: Option<Cut>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<(User, Vec<EndedSession>)>, RepoError> {
        let set = UserChangeset {
            email: ch.email.as_deref(),
            first_name: ch.first_name.as_ref().map(Option::as_deref),
            last_name: ch.last_name.as_ref().map(Option::as_deref),
            display_name: ch.display_name.as_ref().map(Option::as_deref),
            status: ch.status.map(Status::as_str),
            roles: ch.roles.map(role_names),
            custom_attributes: ch.custom_attributes.as_ref(),
            updated_at: now,
        };
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let row: Option<UserRow> =
                diesel::update(users::table.filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null())))
                    .set(&set)
                    .returning(UserRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
            let Some(row) = row else { return Ok(None) };
            let ended = if ch.status.is_some_and(|s| s != Status::Active) {
                end_sessions(c, id.uuid(), now).await?
            } else {
                Vec::new()
            };
            if let Some(cut) = cut {
                crate::cutoffs::record(c, TokenOwner::User(id), cut, now).await?;
            }
            let partner = partner_of(c, row.tenant_id).await?;
            Ok(Some((to_user(row, partner), ended)))
        })
        .await?;
        Ok(out)
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(users::table.filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null())))
                .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                .execute(c)
                .await?;
            if n == 0 {
                return Ok(None);
            }
            let ended = cut_off(c, id, now).await?;
            Ok(Some(ended))
        })
        .await?;
        Ok(out)
    }

    async fn disable_mfa(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<MfaDisabled>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let row: Option<UserRow> =
                diesel::update(users::table.filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null())))
                    .set((
                        users::mfa_enabled.eq(false),
                        users::mfa_methods.eq(Vec::<String>::new()),
                        users::updated_at.eq(now),
                    ))
                    .returning(UserRow::as_returning())
                    .get_result(c)
                    .await
                    .optional()?;
            let Some(row) = row else { return Ok(None) };
            crate::mfa::remove_all(c, id.uuid()).await?;
            let ended = cut_off(c, id, now).await?;
            let partner = partner_of(c, row.tenant_id).await?;
            Ok(Some(MfaDisabled { user: to_user(row, partner), ended }))
        })
        .await?;
        Ok(out)
    }

    async fn delete(
        &self,
        id: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<EndedSession>>, RepoError> {
        let out = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(users::table.filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null())))
                .set((users::deleted_at.eq(now), users::updated_at.eq(now)))
                .execute(c)
                .await?;
            if n == 0 {
                return Ok(None);
            }
            let ended = cut_off(c, id, now).await?;
            Ok(Some(ended))
        })
        .await?;
        Ok(out)
    }
}

/// Inserts a user in its transaction `c`, holding the tenant row lock while the partner's
/// `max_users_per_tenant` is checked (admin creates and federated first sign-ins alike).
pub(crate) async fn insert_user(
    c: &mut diesel_async::AsyncPgConnection,
    id: UserId,
    u: &UserRecord,
    now: DateTime<Utc>,
) -> Result<(UserRow, Option<Uuid>), TxError> {
    let mut partner = None;
    if let Some(t) = u.tenant_id {
        // Lock the tenant so concurrent creates count each other.
        let found: Option<Option<Uuid>> = tenants::table
            .filter(tenants::id.eq(t.uuid()).and(tenants::deleted_at.is_null()))
            .select(tenants::partner_id)
            .for_update()
            .first(c)
            .await
            .optional()?;
        let Some(p) = found else { return Err(RepoError::MissingReference("tenant_id").into()) };
        partner = p;
        if let Some(p) = p {
            let limit: Option<i32> =
                partners::table.filter(partners::id.eq(p)).select(partners::max_users_per_tenant).first(c).await?;
            if limit.is_some() {
                // The trigger-kept count: every create holds the tenant row lock
                // taken above, and other writes only lower it, so no race admits
                // one user too many.
                let n: i64 = user_counts::table
                    .filter(user_counts::tenant_key.eq(t.uuid()))
                    .select(user_counts::live)
                    .first(c)
                    .await
                    .optional()?
                    .unwrap_or(0);
                admit_one("max_users_per_tenant", limit, n).map_err(RepoError::from)?;
            }
        }
    }
    let row = diesel::insert_into(users::table)
        .values((
            users::id.eq(id.uuid()),
            users::tenant_id.eq(u.tenant_id.map(AsUuid::uuid)),
            users::email.eq(&u.email),
            users::password_hash.eq(&u.password_hash),
            users::first_name.eq(&u.first_name),
            users::last_name.eq(&u.last_name),
            users::display_name.eq(&u.display_name),
            users::status.eq(u.status.as_str()),
            users::roles.eq(role_names(u.roles)),
            users::custom_attributes.eq(&u.custom_attributes),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(c)
        .await?;
    Ok((row, partner))
}

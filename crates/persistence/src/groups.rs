//! `GroupRepository` on PostgreSQL: groups, members, nesting.
//!
//! Nesting changes in one tenant are serialised with a transaction-scoped advisory lock keyed by
//! the tenant, and the cycle check (is the new parent reachable from the child?) runs under it,
//! so two requests racing to close a cycle cannot both succeed. Reachability and effective
//! membership use recursive CTEs with `UNION`, which also stops on any cycle.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{GroupFilter, GroupRecord, GroupRepository, GroupSummary, MemberSummary};
use scaikey_domain::access::{Listing, Reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::group::{Group, GroupChanges, MembershipRefusal, NestingFacts, NestingRefusal, may_join, may_nest};
use scaikey_domain::id::{GroupId, PartnerId, TenantId, UserId};
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::{db, refused};
use crate::list_page::list_page;
use crate::partners::like_pattern;
use crate::schema::{group_members, group_nesting, groups, tenants, users};
use crate::uuid_ids::{AsUuid, FromUuid};
use crate::visible::{GroupRows, visible};

/// Groups in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgGroups(pub(crate) Database);

/// First key of the advisory lock that serialises nesting changes per tenant.
const NESTING_LOCK_SPACE: i32 = 0x5CA1;

#[derive(Queryable, Selectable)]
#[diesel(table_name = groups, check_for_backend(diesel::pg::Pg))]
struct GroupRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn to_group(r: GroupRow, partner: Option<Uuid>) -> Group {
    Group {
        id: GroupId::from_uuid(r.id),
        tenant_id: TenantId::from_uuid(r.tenant_id),
        partner_id: partner.map(PartnerId::from_uuid),
        name: r.name,
        description: r.description,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = groups)]
struct GroupChangeset<'a> {
    name: Option<&'a str>,
    description: Option<Option<&'a str>>,
    updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

#[derive(QueryableByName)]
struct UserIdRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The groups below (and including) `$1`.
const SUBTREE: &str = "WITH RECURSIVE tree(id) AS ( \
        SELECT $1::uuid \
        UNION \
        SELECT n.child_id FROM group_nesting n JOIN tree t ON n.parent_id = t.id \
    )";

async fn live_group(c: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Uuid>> {
    groups::table
        .filter(groups::id.eq(id).and(groups::deleted_at.is_null()))
        .select(groups::tenant_id)
        .first(c)
        .await
        .optional()
}

fn filtered(reach: Reach, f: &GroupFilter) -> groups::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = groups::table.filter(groups::deleted_at.is_null()).into_boxed();
    if let Some(c) = visible::<_, GroupRows>(reach, Listing::Owned) {
        q = q.filter(c);
    }
    if let Some(s) = &f.search {
        q = q.filter(groups::name.ilike(like_pattern(s)));
    }
    if let Some(t) = f.tenant_id {
        q = q.filter(groups::tenant_id.eq(t.uuid()));
    }
    q
}

#[async_trait]
impl GroupRepository for PgGroups {
    async fn insert(
        &self,
        id: GroupId,
        g: &GroupRecord,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Group, RepoError> {
        let Written((row, partner)) = crate::audit::audited(&self.0, audit, now, async |c| {
            let partner = crate::tenants::live_tenant(c, g.tenant_id).await?;
            let row = diesel::insert_into(groups::table)
                .values((
                    groups::id.eq(id.uuid()),
                    groups::tenant_id.eq(g.tenant_id.uuid()),
                    groups::name.eq(&g.name),
                    groups::description.eq(&g.description),
                    groups::created_at.eq(now),
                    groups::updated_at.eq(now),
                ))
                .returning(GroupRow::as_returning())
                .get_result(c)
                .await?;
            Ok(Written((row, partner)))
        })
        .await?;
        Ok(to_group(row, partner))
    }

    async fn get(&self, id: GroupId) -> Result<Option<Group>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<(GroupRow, Option<Uuid>)> = groups::table
            .inner_join(tenants::table)
            .filter(groups::id.eq(id.uuid()).and(groups::deleted_at.is_null()))
            .select((GroupRow::as_select(), tenants::partner_id))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(r, p)| to_group(r, p)))
    }

    async fn list(&self, reach: Reach, filter: &GroupFilter, page: PageRequest) -> Result<Page<Group>, RepoError> {
        let mut conn = self.0.conn().await?;
        let (total, rows): (i64, Vec<GroupRow>) =
            list_page!(&mut conn, filtered(reach, filter), groups::id.desc(), GroupRow::as_select(), page);
        let tenant_ids: Vec<Uuid> = rows.iter().map(|r| r.tenant_id).collect();
        let partners = crate::tenants::partners_of(&mut conn, &tenant_ids).await.map_err(db)?;
        let items = rows
            .into_iter()
            .map(|r| {
                let p = partners.get(&r.tenant_id).copied().flatten();
                to_group(r, p)
            })
            .collect();
        Ok(Page { items, request: page, total })
    }

    async fn update(
        &self,
        id: GroupId,
        ch: &GroupChanges,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Group>, RepoError> {
        let set = GroupChangeset {
            name: ch.name.as_deref(),
            description: ch.description.as_ref().map(Option::as_deref),
            updated_at: now,
        };
        let found = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::update(groups::table.filter(groups::id.eq(id.uuid()).and(groups::deleted_at.is_null())))
                .set(&set)
                .execute(c)
                .await?;
            Ok(n == 1)
        })
        .await?;
        if found { self.get(id).await } else { Ok(None) }
    }

    async fn delete(&self, id: GroupId, now: DateTime<Utc>, audit: &AuditRecord) -> Result<bool, RepoError> {
        let deleted = crate::audit::audited(&self.0, audit, now, async |c| {
            let Some(tenant) = live_group(c, id.uuid()).await? else { return Ok(false) };
            lock_nesting(c, tenant).await?;
            diesel::update(groups::table.filter(groups::id.eq(id.uuid())))
                .set((groups::deleted_at.eq(now), groups::updated_at.eq(now)))
                .execute(c)
                .await?;
            diesel::delete(group_members::table.filter(group_members::group_id.eq(id.uuid()))).execute(c).await?;
            diesel::delete(
                group_nesting::table
                    .filter(group_nesting::parent_id.eq(id.uuid()).or(group_nesting::child_id.eq(id.uuid()))),
            )
            .execute(c)
            .await?;
            Ok(true)
        })
        .await?;
        Ok(deleted)
    }

    async fn members(&self, id: GroupId) -> Result<Vec<MemberSummary>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(Uuid, String, Option<String>)> = group_members::table
            .inner_join(users::table)
            .filter(group_members::group_id.eq(id.uuid()).and(users::deleted_at.is_null()))
            .order(users::id.desc())
            .select((users::id, users::email, users::display_name))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(u, email, display_name)| MemberSummary { user_id: UserId::from_uuid(u), email, display_name })
            .collect())
    }

    async fn children(&self, id: GroupId) -> Result<Vec<GroupSummary>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(Uuid, String)> = group_nesting::table
            .inner_join(groups::table.on(groups::id.eq(group_nesting::child_id)))
            .filter(group_nesting::parent_id.eq(id.uuid()).and(groups::deleted_at.is_null()))
            .order(groups::id.desc())
            .select((groups::id, groups::name))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows.into_iter().map(|(g, name)| GroupSummary { id: GroupId::from_uuid(g), name }).collect())
    }

    async fn add_member(
        &self,
        group: GroupId,
        user: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        crate::audit::audited(&self.0, audit, now, async |c| {
            // The facts, read inside the write; the domain decides.
            let group_tenant = live_group(c, group.uuid()).await?;
            let user_tenant: Option<Option<Uuid>> = users::table
                .filter(users::id.eq(user.uuid()).and(users::deleted_at.is_null()))
                .select(users::tenant_id)
                .first(c)
                .await
                .optional()?;
            may_join(group_tenant.map(TenantId::from_uuid), user_tenant.map(|t| t.map(TenantId::from_uuid)))
                .map_err(|r| refused(&r))?;
            let n = diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(group.uuid()),
                    group_members::user_id.eq(user.uuid()),
                    group_members::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if n == 0 {
                return Err(refused(&MembershipRefusal::AlreadyMember).into());
            }
            Ok(Written(()))
        })
        .await?;
        Ok(())
    }

    async fn remove_member(
        &self,
        group: GroupId,
        user: UserId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let removed = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(
                group_members::table
                    .filter(group_members::group_id.eq(group.uuid()).and(group_members::user_id.eq(user.uuid()))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        Ok(removed)
    }

    async fn add_child(
        &self,
        parent: GroupId,
        child: GroupId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), RepoError> {
        crate::audit::audited(&self.0, audit, now, async |c| {
            // The facts, read under the tenant's nesting lock; the domain decides.
            let parent_tenant = live_group(c, parent.uuid()).await?;
            let child_tenant = live_group(c, child.uuid()).await?;
            if let Some(t) = parent_tenant {
                lock_nesting(c, t).await?;
            }
            let below: Found =
                diesel::sql_query(format!("{SUBTREE} SELECT EXISTS (SELECT 1 FROM tree WHERE id = $2) AS found"))
                    .bind::<SqlUuid, _>(child.uuid())
                    .bind::<SqlUuid, _>(parent.uuid())
                    .get_result(c)
                    .await?;
            let facts = NestingFacts {
                parent_tenant: parent_tenant.map(TenantId::from_uuid),
                child_tenant: child_tenant.map(TenantId::from_uuid),
                parent_below_child: below.found,
            };
            may_nest(parent, child, &facts).map_err(|r| refused(&r))?;
            let n = diesel::insert_into(group_nesting::table)
                .values((
                    group_nesting::parent_id.eq(parent.uuid()),
                    group_nesting::child_id.eq(child.uuid()),
                    group_nesting::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if n == 0 {
                return Err(refused(&NestingRefusal::AlreadyNested).into());
            }
            Ok(Written(()))
        })
        .await?;
        Ok(())
    }

    async fn remove_child(
        &self,
        parent: GroupId,
        child: GroupId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let removed = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(
                group_nesting::table
                    .filter(group_nesting::parent_id.eq(parent.uuid()).and(group_nesting::child_id.eq(child.uuid()))),
            )
            .execute(c)
            .await?;
            Ok(n == 1)
        })
        .await?;
        Ok(removed)
    }

    async fn effective_members(&self, id: GroupId, page: PageRequest) -> Result<Page<UserId>, RepoError> {
        let mut conn = self.0.conn().await?;
        let body = "FROM group_members m JOIN tree t ON m.group_id = t.id \
                    JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL";
        let total: Count = diesel::sql_query(format!("{SUBTREE} SELECT count(DISTINCT m.user_id) AS n {body}"))
            .bind::<SqlUuid, _>(id.uuid())
            .get_result(&mut conn)
            .await
            .map_err(db)?;
        let rows: Vec<UserIdRow> = diesel::sql_query(format!(
            "{SUBTREE} SELECT DISTINCT m.user_id {body} ORDER BY m.user_id DESC LIMIT $2 OFFSET $3"
        ))
        .bind::<SqlUuid, _>(id.uuid())
        .bind::<BigInt, _>(i64::from(page.per_page()))
        .bind::<BigInt, _>(page.offset())
        .load(&mut conn)
        .await
        .map_err(db)?;
        Ok(Page {
            items: rows.into_iter().map(|r| UserId::from_uuid(r.user_id)).collect(),
            request: page,
            total: total.n,
        })
    }
}

/// Serialises nesting changes within `tenant` until the transaction ends.
async fn lock_nesting(c: &mut AsyncPgConnection, tenant: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind::<Integer, _>(NESTING_LOCK_SPACE)
        .bind::<Text, _>(tenant.to_string())
        .execute(c)
        .await?;
    Ok(())
}

//! `GrantRepository` on PostgreSQL: authorization codes, refresh tokens and consents. Every
//! state change is a compare-and-set (`… WHERE used_at IS NULL`), so of two processes racing on
//! one code or refresh token exactly one wins; the loser is told and stores nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::oidc::{
    BrowserSession, ConsentSummary, GrantRepository, NewCode, NewRefresh, Replace, SignInUser, StoredCode,
    StoredRefresh,
};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{ApplicationId, PartnerId, SessionId, TenantId, UserId};
use scaikey_domain::role::Roles;
use ulid::Ulid;
use uuid::Uuid;

use crate::batches::Batched;
use crate::db::Database;
use crate::error::{TxError, db};
use crate::prepared::Prepared;
use crate::rotations::Rotation;
use crate::schema::{authorization_codes as ac, consents, partners, refresh_tokens as rt, sessions, tenants, users};
use crate::uuid_ids::{AsUuid, FromUuid};

/// The live groups user `$2` is in, directly or through nesting.
const UP: &str = "
WITH RECURSIVE up(gid) AS (
    SELECT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id AND g.deleted_at IS NULL
    WHERE m.user_id = $2
    UNION
    SELECT n.parent_id FROM up JOIN group_nesting n ON n.child_id = up.gid
    JOIN groups g ON g.id = n.parent_id AND g.deleted_at IS NULL
)";

/// A code redeemed (`$2`, its keyed hash, still unused) at `$1`, and its family's first
/// refresh token (`$3`…, family `$5`) stored only if the redemption won: one row inserted
/// means the code was this caller's.
static REDEEM_WITH_REFRESH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH won AS (
            UPDATE authorization_codes SET used_at = $1, family_id = $5
            WHERE code_hmac = $2 AND used_at IS NULL
            RETURNING 1
        )
        INSERT INTO refresh_tokens ({}) SELECT {} FROM won",
        REFRESH_COLUMNS,
        crate::prepared::placeholders(3, 13)
    )
});

/// The columns of a new refresh-token row, in the order [`bind_refresh`] binds them.
pub(crate) const REFRESH_COLUMNS: &str = "id, current_hmac, family_id, application_id, client_id, user_id, \
    session_id, scopes, resource, auth_time, amr, issued_at, expires_at";

/// Binds `t`'s row as the next 13 parameters of `q` (see [`REFRESH_COLUMNS`]): for statements
/// that store a refresh token beside other writes; [`insert_refresh`] is the same row alone.
pub(crate) fn bind_refresh<'a>(
    q: diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>,
    t: &'a NewRefresh,
) -> diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery> {
    use diesel::sql_types::{Array, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    q.bind::<SqlUuid, _>(Uuid::from(t.id))
        .bind::<Bytea, _>(&t.token_hmac)
        .bind::<SqlUuid, _>(Uuid::from(t.family_id))
        .bind::<SqlUuid, _>(t.application_id.uuid())
        .bind::<Text, _>(&t.client_id)
        .bind::<SqlUuid, _>(t.user_id.uuid())
        .bind::<Nullable<SqlUuid>, _>(t.session_id.map(AsUuid::uuid))
        .bind::<Array<Text>, _>(&t.scopes)
        .bind::<Nullable<Text>, _>(&t.resource)
        .bind::<Timestamptz, _>(t.auth_time)
        .bind::<Array<Text>, _>(&t.amr)
        .bind::<Timestamptz, _>(t.issued_at)
        .bind::<Timestamptz, _>(t.expires_at)
}

/// A session read with a grant is open at `now`: not revoked and not yet at its end.
fn open_at(ends: DateTime<Utc>, revoked: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    revoked.is_none() && ends > now
}

/// Codes, refresh tokens and consents in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgGrants(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = ac, check_for_backend(diesel::pg::Pg))]
struct CodeRow {
    code_hmac: Vec<u8>,
    application_id: Uuid,
    client_id: String,
    user_id: Uuid,
    session_id: Uuid,
    redirect_uri: String,
    scopes: Vec<String>,
    resource: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: DateTime<Utc>,
    amr: Vec<String>,
    issued_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = rt, check_for_backend(diesel::pg::Pg))]
struct RefreshRow {
    id: Uuid,
    legacy_hmac: Option<Vec<u8>>,
    current_hmac: Option<Vec<u8>>,
    previous_hmac: Option<Vec<u8>>,
    family_id: Uuid,
    application_id: Uuid,
    client_id: String,
    user_id: Uuid,
    session_id: Option<Uuid>,
    scopes: Vec<String>,
    resource: Option<String>,
    auth_time: DateTime<Utc>,
    amr: Vec<String>,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    grace_used: bool,
    revoked_at: Option<DateTime<Utc>>,
}

/// A user as sign-in sees them, with their tenant's and partner's state.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct SignInRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    display_name: Option<String>,
    roles: Vec<String>,
    status: String,
    #[diesel(select_expression = tenants::status.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<tenants::status>)]
    tenant_status: Option<String>,
    #[diesel(select_expression = tenants::partner_id.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<tenants::partner_id>)]
    partner_id: Option<Uuid>,
    #[diesel(select_expression = partners::status.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<partners::status>)]
    partner_status: Option<String>,
    email_verified: bool,
}

impl From<SignInRow> for SignInUser {
    fn from(r: SignInRow) -> Self {
        SignInUser {
            user_id: UserId::from_uuid(r.id),
            tenant_id: r.tenant_id.map(TenantId::from_uuid),
            partner_id: r.partner_id.map(PartnerId::from_uuid),
            email_verified: r.email_verified,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            display_name: r.display_name,
            roles: Roles::parse_all(r.roles.iter().map(String::as_str)).unwrap_or_default(),
            user_active: r.status == "active",
            tenant_active: r.tenant_status.as_deref().is_none_or(|s| s == "active"),
            partner_active: r.partner_status.as_deref().is_none_or(|s| s == "active"),
        }
    }
}

/// Which of a row's tokens was presented.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Presented {
    Current,
    Previous,
    /// Neither: an older token of the row (or a guess at one).
    Older,
}

impl RefreshRow {
    fn presented(&self, hmac: &[u8]) -> Presented {
        if self.current_hmac.as_deref() == Some(hmac) {
            Presented::Current
        } else if self.previous_hmac.as_deref() == Some(hmac) {
            Presented::Previous
        } else {
            Presented::Older
        }
    }
}

/// The row as token `hmac` stands in it (see [`GrantRepository::refresh_token`]).
/// `session_ends`: `None` for an offline token; else the end of its session, `None` when the
/// session is no longer live.
fn to_refresh(
    r: RefreshRow,
    hmac: &[u8],
    session_ends: Option<Option<DateTime<Utc>>>,
    user: Option<SignInUser>,
) -> StoredRefresh {
    let (rotated_at, grace_used) = match r.presented(hmac) {
        Presented::Current => (None, false),
        Presented::Previous => (r.rotated_at, r.grace_used),
        Presented::Older => (Some(r.rotated_at.unwrap_or(r.issued_at)), true),
    };
    StoredRefresh {
        token: NewRefresh {
            id: Ulid::from(r.id),
            token_hmac: hmac.to_vec(),
            family_id: Ulid::from(r.family_id),
            application_id: ApplicationId::from_uuid(r.application_id),
            client_id: r.client_id,
            user_id: UserId::from_uuid(r.user_id),
            session_id: r.session_id.map(SessionId::from_uuid),
            scopes: r.scopes,
            resource: r.resource,
            auth_time: r.auth_time,
            amr: r.amr,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
        },
        rotated_at,
        grace_used,
        revoked_at: r.revoked_at,
        session_live: session_ends.is_none_or(|e| e.is_some()),
        session_ends_at: session_ends.flatten(),
        user,
    }
}

pub(crate) async fn insert_refresh(c: &mut diesel_async::AsyncPgConnection, t: &NewRefresh) -> QueryResult<usize> {
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(Uuid::from(t.id)),
            rt::current_hmac.eq(&t.token_hmac),
            rt::family_id.eq(Uuid::from(t.family_id)),
            rt::application_id.eq(t.application_id.uuid()),
            rt::client_id.eq(&t.client_id),
            rt::user_id.eq(t.user_id.uuid()),
            rt::session_id.eq(t.session_id.map(AsUuid::uuid)),
            rt::scopes.eq(&t.scopes),
            rt::resource.eq(&t.resource),
            rt::auth_time.eq(t.auth_time),
            rt::amr.eq(&t.amr),
            rt::issued_at.eq(t.issued_at),
            rt::expires_at.eq(t.expires_at),
        ))
        .execute(c)
        .await
}

/// One refresh token to find, by the row it names or (older form) its keyed hash, as of `now`.
pub(crate) struct Lookup {
    row: Option<Ulid>,
    token_hmac: Vec<u8>,
    now: DateTime<Utc>,
}

/// Refresh-token lookups in one query (see [`crate::batches`]): each token with its session's
/// end and state and the user it speaks for, as sign-in sees them, which is all a refresh reads.
pub(crate) struct Lookups;

impl Batched for Lookups {
    type Job = Lookup;
    type Out = Option<StoredRefresh>;
    const MAX: usize = 64;
    const WORKERS: usize = 2;
    const WHAT: &'static str = "refresh-token lookup";

    async fn run(database: &Database, jobs: &[Lookup]) -> Result<Vec<Option<StoredRefresh>>, RepoError> {
        type Found = (RefreshRow, Option<(DateTime<Utc>, Option<DateTime<Utc>>)>, Option<SignInRow>);
        let mut conn = database.conn().await?;
        let rows_named: Vec<Uuid> = jobs.iter().filter_map(|j| j.row.map(Uuid::from)).collect();
        let legacy: Vec<&[u8]> = jobs.iter().filter(|j| j.row.is_none()).map(|j| j.token_hmac.as_slice()).collect();
        let query = rt::table
            .left_join(sessions::table.on(sessions::id.nullable().eq(rt::session_id)))
            .left_join(users::table.on(users::id.eq(rt::user_id).and(users::deleted_at.is_null())))
            .left_join(tenants::table.on(tenants::id.nullable().eq(users::tenant_id)))
            .left_join(partners::table.on(partners::id.nullable().eq(tenants::partner_id)))
            .select((
                RefreshRow::as_select(),
                (sessions::expires_at, sessions::revoked_at).nullable(),
                Option::<SignInRow>::as_select(),
            ))
            .into_boxed();
        // Tokens of the older form are rare: only their batches ask for them.
        let rows: Vec<Found> = if legacy.is_empty() {
            query.filter(rt::id.eq_any(&rows_named)).load(&mut conn).await
        } else {
            query
                .filter(rt::id.eq_any(&rows_named).or(rt::legacy_hmac.assume_not_null().eq_any(&legacy)))
                .load(&mut conn)
                .await
        }
        .map_err(db)?;
        let by_row: std::collections::HashMap<Uuid, &Found> = rows.iter().map(|f| (f.0.id, f)).collect();
        let by_legacy: std::collections::HashMap<&[u8], &Found> =
            rows.iter().filter_map(|f| Some((f.0.legacy_hmac.as_deref()?, f))).collect();
        Ok(jobs
            .iter()
            .map(|j| {
                let (row, session, user) = match j.row {
                    Some(id) => by_row.get(&Uuid::from(id))?,
                    None => by_legacy.get(j.token_hmac.as_slice())?,
                };
                // `None` for an offline token; the session's end while it is live (as of this
                // job's clock); `Some(None)` after.
                let live = session.filter(|(ends, revoked)| open_at(*ends, *revoked, j.now)).map(|(ends, _)| ends);
                let session_ends = row.session_id.map(|_| live);
                Some(to_refresh(row.clone(), &j.token_hmac, session_ends, user.clone().map(SignInUser::from)))
            })
            .collect())
    }
}

#[async_trait]
impl GrantRepository for PgGrants {
    async fn insert_code(&self, c: &NewCode) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        diesel::insert_into(ac::table)
            .values((
                ac::code_hmac.eq(&c.code_hmac),
                ac::application_id.eq(c.application_id.uuid()),
                ac::client_id.eq(&c.client_id),
                ac::user_id.eq(c.user_id.uuid()),
                ac::session_id.eq(c.session_id.uuid()),
                ac::redirect_uri.eq(&c.redirect_uri),
                ac::scopes.eq(&c.scopes),
                ac::resource.eq(&c.resource),
                ac::nonce.eq(&c.nonce),
                ac::code_challenge.eq(&c.code_challenge),
                ac::auth_time.eq(c.auth_time),
                ac::amr.eq(&c.amr),
                ac::issued_at.eq(c.issued_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn code(&self, code_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<StoredCode>, RepoError> {
        let mut conn = self.0.conn().await?;
        // The code with its session and its user as sign-in sees them: one read for the grant.
        let found: Option<(CodeRow, Option<(DateTime<Utc>, Option<DateTime<Utc>>)>, Option<SignInRow>)> = ac::table
            .left_join(sessions::table.on(sessions::id.eq(ac::session_id)))
            .left_join(users::table.on(users::id.eq(ac::user_id).and(users::deleted_at.is_null())))
            .left_join(tenants::table.on(tenants::id.nullable().eq(users::tenant_id)))
            .left_join(partners::table.on(partners::id.nullable().eq(tenants::partner_id)))
            .filter(ac::code_hmac.eq(code_hmac))
            .select((
                CodeRow::as_select(),
                (sessions::expires_at, sessions::revoked_at).nullable(),
                Option::<SignInRow>::as_select(),
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(found.map(|(r, session, user)| StoredCode {
            session_live: session.is_some_and(|(ends, revoked)| open_at(ends, revoked, now)),
            user: user.map(SignInUser::from),
            code: NewCode {
                code_hmac: r.code_hmac,
                application_id: ApplicationId::from_uuid(r.application_id),
                client_id: r.client_id,
                user_id: UserId::from_uuid(r.user_id),
                session_id: SessionId::from_uuid(r.session_id),
                redirect_uri: r.redirect_uri,
                scopes: r.scopes,
                resource: r.resource,
                nonce: r.nonce,
                code_challenge: r.code_challenge,
                auth_time: r.auth_time,
                amr: r.amr,
                issued_at: r.issued_at,
            },
            used_at: r.used_at,
        }))
    }

    async fn redeem_code(
        &self,
        code_hmac: &[u8],
        now: DateTime<Utc>,
        refresh: Option<NewRefresh>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let Some(r) = refresh else {
            let n = diesel::update(ac::table.filter(ac::code_hmac.eq(code_hmac).and(ac::used_at.is_null())))
                .set((ac::used_at.eq(now), ac::family_id.eq(None::<Uuid>)))
                .execute(&mut conn)
                .await
                .map_err(db)?;
            return Ok(n == 1);
        };
        // One statement: the code's compare-and-set, and the first refresh token only if it won
        // (atomic without a transaction's BEGIN and COMMIT round trips).
        use diesel::sql_types::{Bytea, Timestamptz};
        let q = diesel::sql_query(REDEEM_WITH_REFRESH.as_str())
            .into_boxed()
            .bind::<Timestamptz, _>(now)
            .bind::<Bytea, _>(code_hmac);
        let n = Prepared(bind_refresh(q, &r)).execute(&mut conn).await.map_err(db)?;
        Ok(n == 1)
    }

    async fn revoke_code_family(&self, code_hmac: &[u8], now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let family: Option<Option<Uuid>> = ac::table
            .filter(ac::code_hmac.eq(code_hmac))
            .select(ac::family_id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        let Some(Some(family)) = family else { return Ok(0) };
        self.revoke_family(Ulid::from(family), now).await
    }

    async fn refresh_token(
        &self,
        row: Option<Ulid>,
        token_hmac: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<StoredRefresh>, RepoError> {
        // Looked up with whatever other lookups are waiting (see `Lookups`).
        self.0.lookups.run(&self.0, Lookup { row, token_hmac: token_hmac.to_vec(), now }).await
    }

    async fn rotate(
        &self,
        old: Ulid,
        presented: &[u8],
        how: Replace,
        now: DateTime<Utc>,
        new: NewRefresh,
    ) -> Result<bool, RepoError> {
        // Committed with whatever other rotations are waiting (see `rotations`): one commit
        // for many, each still its own compare-and-set.
        self.0.rotations.run(&self.0, Rotation { old, presented: presented.to_vec(), how, now, new }).await
    }

    async fn revoke_family(&self, family_id: Ulid, now: DateTime<Utc>) -> Result<u64, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(rt::table.filter(rt::family_id.eq(Uuid::from(family_id)).and(rt::revoked_at.is_null())))
            .set(rt::revoked_at.eq(now))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(n as u64)
    }

    async fn browser_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<Option<BrowserSession>, RepoError> {
        let mut conn = self.0.conn().await?;
        type Row = (Uuid, Uuid, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>, Option<Vec<u8>>, Vec<String>);
        let row: Option<Row> = sessions::table
            .filter(sessions::id.eq(id.uuid()))
            .select((
                sessions::id,
                sessions::user_id,
                sessions::created_at,
                sessions::expires_at,
                sessions::revoked_at,
                sessions::cookie_hmac,
                sessions::amr,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(|(id, user, created, expires, revoked, cookie_hmac, amr)| BrowserSession {
            id: SessionId::from_uuid(id),
            user_id: UserId::from_uuid(user),
            auth_time: created,
            cookie_hmac,
            amr,
            live: open_at(expires, revoked, now),
        }))
    }

    async fn tenant_by_slug_or_id(&self, slug_or_id: &str) -> Result<Option<TenantId>, RepoError> {
        let mut conn = self.0.conn().await?;
        let by_id = slug_or_id.parse::<TenantId>().ok().map(AsUuid::uuid);
        let found: Option<Uuid> = tenants::table
            .filter(tenants::deleted_at.is_null())
            .filter(tenants::slug.eq(slug_or_id.to_lowercase()).or(tenants::id.nullable().eq(by_id)))
            .select(tenants::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(found.map(TenantId::from_uuid))
    }

    async fn sign_in_user(&self, id: UserId) -> Result<Option<SignInUser>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<SignInRow> = users::table
            .left_join(tenants::table.on(tenants::id.nullable().eq(users::tenant_id)))
            .left_join(partners::table.on(partners::id.nullable().eq(tenants::partner_id)))
            .filter(users::id.eq(id.uuid()).and(users::deleted_at.is_null()))
            .select(SignInRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(SignInUser::from))
    }

    async fn is_effective_user(&self, app: ApplicationId, user: UserId) -> Result<bool, RepoError> {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            found: bool,
        }
        let mut conn = self.0.conn().await?;
        // Walks up from the user's groups (a handful of rows even in deep trees), not down from
        // the assigned ones: one user's check stays cheap however many users the app has.
        let q = format!(
            "{UP} SELECT EXISTS (SELECT 1 FROM application_assignments a
                WHERE a.application_id = $1 AND (a.user_id = $2 OR a.group_id IN (SELECT gid FROM up))) AS found"
        );
        let r: Found = Prepared(
            diesel::sql_query(q)
                .bind::<diesel::sql_types::Uuid, _>(app.uuid())
                .bind::<diesel::sql_types::Uuid, _>(user.uuid()),
        )
        .get_result(&mut conn)
        .await
        .map_err(db)?;
        Ok(r.found)
    }

    async fn group_names(&self, user: UserId) -> Result<Vec<String>, RepoError> {
        #[derive(QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let mut conn = self.0.conn().await?;
        let q = format!(
            "{UP} SELECT g.name FROM up JOIN groups g ON g.id = up.gid WHERE $1::uuid IS NOT NULL ORDER BY g.name"
        );
        let rows: Vec<Name> = Prepared(
            diesel::sql_query(q)
                .bind::<diesel::sql_types::Uuid, _>(user.uuid())
                .bind::<diesel::sql_types::Uuid, _>(user.uuid()),
        )
        .load(&mut conn)
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(|n| n.name).collect())
    }

    async fn origin_allowed(&self, origin: &str) -> Result<bool, RepoError> {
        use crate::schema::applications as apps;
        let mut conn = self.0.conn().await?;
        // `@>` so the GIN index of migration 11 serves it.
        let n: i64 = apps::table
            .filter(apps::deleted_at.is_null().and(apps::status.eq("active")))
            .filter(apps::allowed_origins.contains(vec![origin.to_string()]))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db)?;
        Ok(n > 0)
    }

    async fn consent(&self, user: UserId, app: ApplicationId) -> Result<Vec<String>, RepoError> {
        let mut conn = self.0.conn().await?;
        let scopes: Option<Vec<String>> = consents::table
            .filter(consents::user_id.eq(user.uuid()).and(consents::application_id.eq(app.uuid())))
            .select(consents::scopes)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(scopes.unwrap_or_default())
    }

    async fn consents_of(&self, user: UserId) -> Result<Vec<ConsentSummary>, RepoError> {
        use crate::schema::applications as apps;
        let mut conn = self.0.conn().await?;
        let rows: Vec<(Uuid, String, Vec<String>, DateTime<Utc>)> = consents::table
            .inner_join(apps::table)
            .filter(consents::user_id.eq(user.uuid()).and(apps::deleted_at.is_null()))
            .order((consents::granted_at.desc(), consents::application_id.desc()))
            .select((consents::application_id, apps::name, consents::scopes, consents::granted_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, scopes, granted_at)| ConsentSummary {
                application_id: ApplicationId::from_uuid(id),
                application_name: name,
                scopes,
                granted_at,
            })
            .collect())
    }

    async fn revoke_consent(
        &self,
        user: UserId,
        app: ApplicationId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        crate::audit::audited(&self.0, audit, now, async |c| {
            let gone = diesel::delete(
                consents::table.filter(consents::user_id.eq(user.uuid()).and(consents::application_id.eq(app.uuid()))),
            )
            .execute(c)
            .await?;
            if gone == 0 {
                return Ok(false);
            }
            diesel::update(rt::table.filter(
                rt::user_id.eq(user.uuid()).and(rt::application_id.eq(app.uuid())).and(rt::revoked_at.is_null()),
            ))
            .set(rt::revoked_at.eq(now))
            .execute(c)
            .await?;
            Ok(true)
        })
        .await
    }

    async fn grant_consent(
        &self,
        user: UserId,
        app: ApplicationId,
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut conn = self.0.conn().await?;
        conn.transaction::<_, TxError, _>(async |c| {
            let before: Option<Vec<String>> = consents::table
                .filter(consents::user_id.eq(user.uuid()).and(consents::application_id.eq(app.uuid())))
                .select(consents::scopes)
                .for_update()
                .first(c)
                .await
                .optional()?;
            let mut all = before.unwrap_or_default();
            for s in scopes {
                if !all.contains(s) {
                    all.push(s.clone());
                }
            }
            diesel::insert_into(consents::table)
                .values((
                    consents::user_id.eq(user.uuid()),
                    consents::application_id.eq(app.uuid()),
                    consents::scopes.eq(&all),
                    consents::granted_at.eq(now),
                ))
                .on_conflict((consents::user_id, consents::application_id))
                .do_update()
                .set((consents::scopes.eq(&all), consents::granted_at.eq(now)))
                .execute(c)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

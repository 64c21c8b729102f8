//! `AuthRepository` on PostgreSQL: login lookups, sessions, bootstrap admin.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scaikey_app::RepoError;
use scaikey_app::ports::{AuthRepository, LoginCandidate, NewSession};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{PartnerId, TenantId, UserId};
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
use uuid::Uuid;

use crate::db::Database;
use crate::error::{TxError, db};
use crate::schema::{partners, tenants, users};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Users and sessions in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAuth(pub(crate) Database);

type CandidateRow = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Vec<String>,
    String,
    Option<String>,
    Option<serde_json::Value>,
    Option<Uuid>,
    Option<String>,
    Vec<String>,
    String,
);

/// A session (with the refresh token the JSON login stores with it, when given), the user's
/// last login and the audit record, as one statement: atomic, as a transaction would be, in
/// one round trip instead of five or six.
async fn open_in_one_statement(database: &Database, s: &NewSession, audit: &AuditRecord) -> Result<(), RepoError> {
    use diesel::sql_types::{Array, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    /// The statement with or without the refresh token's part; the audit record's parameters
    /// follow the others.
    fn sql(refresh: bool) -> String {
        let (refresh_part, audit_from) = if refresh {
            let values = crate::prepared::placeholders(10, 13);
            (format!(", r AS (INSERT INTO refresh_tokens ({}) VALUES ({values}))", crate::grants::REFRESH_COLUMNS), 23)
        } else {
            (String::new(), 10)
        };
        format!(
            "WITH s AS (
                INSERT INTO sessions (id, user_id, tenant_id, created_at, last_seen_at, expires_at, ip, user_agent,
                                      cookie_hmac, amr)
                VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)
            ), u AS (
                UPDATE users SET last_login_at = $4 WHERE id = $2
            ){refresh_part}
            {}",
            crate::audit::insert_sql(audit_from)
        )
    }
    static PLAIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql(false));
    static WITH_REFRESH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql(true));
    let text = if s.refresh.is_some() { WITH_REFRESH.as_str() } else { PLAIN.as_str() };
    let mut q = diesel::sql_query(text)
        .into_boxed()
        .bind::<SqlUuid, _>(s.id.uuid())
        .bind::<SqlUuid, _>(s.user_id.uuid())
        .bind::<Nullable<SqlUuid>, _>(s.tenant_id.map(AsUuid::uuid))
        .bind::<Timestamptz, _>(s.created_at)
        .bind::<Timestamptz, _>(s.expires_at)
        .bind::<Nullable<Text>, _>(&s.ip)
        .bind::<Nullable<Text>, _>(&s.user_agent)
        .bind::<Nullable<Bytea>, _>(&s.cookie_hmac)
        .bind::<Array<Text>, _>(&s.amr);
    if let Some(r) = &s.refresh {
        q = crate::grants::bind_refresh(q, r);
    }
    let mut conn = database.conn().await?;
    crate::prepared::Prepared(crate::audit::bind_row(q, audit, s.created_at)).execute(&mut conn).await.map_err(db)?;
    Ok(())
}

/// Serialises bootstrap across processes sharing one database.
const BOOTSTRAP_LOCK: i64 = 0x5CA1_4E59_0001;

/// Which login candidates to load.
enum By<'a> {
    /// By e-mail (case-insensitive), in one tenant when given.
    Email(&'a str, Option<TenantId>),
    /// One user.
    Id(UserId),
}

/// Live users with their tenant's and partner's status and settings.
async fn load_candidates(conn: &mut AsyncPgConnection, by: By<'_>) -> Result<Vec<LoginCandidate>, RepoError> {
    let mut q = users::table
        .left_join(tenants::table.left_join(partners::table))
        .filter(users::deleted_at.is_null())
        // A user whose tenant is deleted cannot log in (tenant must be live when set).
        .filter(users::tenant_id.is_null().or(tenants::deleted_at.is_null()))
        .into_boxed();
    match by {
        By::Email(email, tenant) => {
            q = q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(users.email) = ")
                    .bind::<diesel::sql_types::Text, _>(email.to_lowercase()),
            );
            if let Some(t) = tenant {
                q = q.filter(users::tenant_id.eq(t.uuid()));
            }
        }
        By::Id(id) => q = q.filter(users::id.eq(id.uuid())),
    }
    let rows: Vec<CandidateRow> = q
        .select((
            users::id,
            users::tenant_id,
            users::password_hash,
            users::roles,
            users::status,
            tenants::status.nullable(),
            tenants::settings.nullable(),
            tenants::partner_id.nullable(),
            partners::status.nullable(),
            users::mfa_methods,
            users::email,
        ))
        .limit(16)
        .load(conn)
        .await
        .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(id, tenant_id, hash, roles, status, t_status, settings, partner_id, p_status, mfa, email)| {
            LoginCandidate {
                user_id: UserId::from_uuid(id),
                tenant_id: tenant_id.map(TenantId::from_uuid),
                partner_id: partner_id.map(PartnerId::from_uuid),
                email,
                password_hash: hash,
                roles: Roles::parse_all(roles.iter().map(String::as_str)).unwrap_or_default(),
                status: Status::parse(&status).unwrap_or(Status::Suspended),
                tenant_status: t_status.map(|s| Status::parse(&s).unwrap_or(Status::Suspended)),
                partner_status: p_status.map(|s| Status::parse(&s).unwrap_or(Status::Suspended)),
                tenant_settings: settings.unwrap_or_else(|| serde_json::json!({})),
                mfa_methods: mfa.iter().filter_map(|m| scaikey_domain::mfa::Method::parse(m)).collect(),
            }
        })
        .collect())
}

#[async_trait]
impl AuthRepository for PgAuth {
    async fn login_candidates(&self, email: &str, tenant: Option<TenantId>) -> Result<Vec<LoginCandidate>, RepoError> {
        let mut conn = self.0.conn().await?;
        load_candidates(&mut conn, By::Email(email, tenant)).await
    }

    async fn candidate(&self, user: UserId) -> Result<Option<LoginCandidate>, RepoError> {
        let mut conn = self.0.conn().await?;
        Ok(load_candidates(&mut conn, By::Id(user)).await?.pop())
    }

    async fn open_session(&self, s: &NewSession, audit: &AuditRecord) -> Result<(), RepoError> {
        open_in_one_statement(&self.0, s, audit).await
    }

    async fn bootstrap_super_admin(
        &self,
        id: UserId,
        email: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let created = conn
            .transaction::<_, TxError, _>(async |c| {
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(BOOTSTRAP_LOCK)
                    .execute(c)
                    .await?;
                let existing: i64 = users::table
                    .filter(users::deleted_at.is_null())
                    .filter(users::status.eq(Status::Active.as_str()))
                    .filter(users::roles.contains(vec!["super_admin".to_string()]))
                    .count()
                    .get_result(c)
                    .await?;
                if existing > 0 {
                    return Ok(false);
                }
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(id.uuid()),
                        users::tenant_id.eq(None::<Uuid>),
                        users::email.eq(email),
                        users::password_hash.eq(hash),
                        users::display_name.eq("Platform administrator"),
                        users::status.eq(Status::Active.as_str()),
                        users::roles.eq(vec!["super_admin".to_string()]),
                        users::created_at.eq(now),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)
                    .await?;
                Ok(true)
            })
            .await?;
        Ok(created)
    }
}

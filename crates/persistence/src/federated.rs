//! `FederationRepository` on PostgreSQL: started upstream sign-ins (`federation_states`) and
//! the links of upstream identities to users (`federated_identities`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::UserRecord;
use scaikey_app::ports::federation::{
    FederatedLink, FederatedSignIn, FederationRepository, LinkTarget, NewFederationState, TenantStanding,
};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::federated::{EmailMatch, UpstreamIdentity};
use scaikey_domain::id::{IdentityProviderId, PartnerId, TenantId, UserId};
use scaikey_domain::role::Roles;
use scaikey_domain::status::Status;
use uuid::Uuid;

use crate::audit::Written;
use crate::db::Database;
use crate::error::db;
use crate::schema::{
    federated_identities as fi, federation_states as fs, identity_providers as idp, partners, saml_assertions as sa,
    tenants, users,
};
use crate::uuid_ids::{AsUuid, FromUuid};

/// Federated sign-ins in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgFederation(pub(crate) Database);

#[derive(Queryable, Selectable)]
#[diesel(table_name = fs, check_for_backend(diesel::pg::Pg))]
struct StateRow {
    state_hmac: Vec<u8>,
    idp_id: Uuid,
    binding_hmac: Vec<u8>,
    nonce: String,
    code_verifier: String,
    interaction: String,
    expires_at: DateTime<Utc>,
    identity: Option<serde_json::Value>,
}

/// The stored form of a verified identity (`federation_states.identity`).
fn identity_json(who: &UpstreamIdentity) -> serde_json::Value {
    serde_json::json!({
        "subject": who.subject,
        "email": who.email,
        "email_verified": who.email_verified,
        "given_name": who.given_name,
        "family_name": who.family_name,
        "claims": who.claims,
    })
}

fn identity_of(v: &serde_json::Value) -> Option<UpstreamIdentity> {
    let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
    Some(UpstreamIdentity {
        subject: text("subject")?,
        email: text("email"),
        email_verified: v.get("email_verified").and_then(serde_json::Value::as_bool).unwrap_or(false),
        given_name: text("given_name"),
        family_name: text("family_name"),
        claims: v.get("claims").and_then(serde_json::Value::as_object).cloned().unwrap_or_default(),
    })
}

fn to_state(r: StateRow) -> NewFederationState {
    NewFederationState {
        state_hmac: r.state_hmac,
        idp_id: IdentityProviderId::from_uuid(r.idp_id),
        binding_hmac: r.binding_hmac,
        nonce: r.nonce,
        code_verifier: r.code_verifier,
        interaction: r.interaction,
        expires_at: r.expires_at,
        identity: r.identity.as_ref().and_then(identity_of),
    }
}

#[async_trait]
impl FederationRepository for PgFederation {
    async fn insert_state(
        &self,
        s: &NewFederationState,
        ip: Option<String>,
        per_minute: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        // Abandoned sign-ins (the person never came back) go as new ones start.
        diesel::delete(fs::table.filter(fs::expires_at.lt(now))).execute(&mut conn).await.map_err(db)?;
        // Approximate under races (concurrent starts may each see the count below the bound),
        // which is what a flood bound needs.
        let recent: i64 = fs::table
            .filter(fs::ip.is_not_distinct_from(&ip).and(fs::created_at.gt(now - chrono::Duration::minutes(1))))
            .count()
            .get_result(&mut conn)
            .await
            .map_err(db)?;
        if recent >= per_minute {
            return Ok(false);
        }
        diesel::insert_into(fs::table)
            .values((
                fs::state_hmac.eq(&s.state_hmac),
                fs::idp_id.eq(s.idp_id.uuid()),
                fs::binding_hmac.eq(&s.binding_hmac),
                fs::nonce.eq(&s.nonce),
                fs::code_verifier.eq(&s.code_verifier),
                fs::interaction.eq(&s.interaction),
                fs::ip.eq(&ip),
                fs::created_at.eq(now),
                fs::expires_at.eq(s.expires_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(true)
    }

    async fn take_state(&self, state_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<NewFederationState>, RepoError> {
        let mut conn = self.0.conn().await?;
        // A compare-and-set on `used_at`: of two callbacks with one state, exactly one gets it.
        let row: Option<StateRow> =
            diesel::update(fs::table.filter(fs::state_hmac.eq(state_hmac).and(fs::used_at.is_null())))
                .set(fs::used_at.eq(now))
                .returning(StateRow::as_returning())
                .get_result(&mut conn)
                .await
                .optional()
                .map_err(db)?;
        Ok(row.filter(|r| r.expires_at > now).map(to_state))
    }

    async fn peek_state(&self, state_hmac: &[u8], now: DateTime<Utc>) -> Result<Option<NewFederationState>, RepoError> {
        let mut conn = self.0.conn().await?;
        let row: Option<StateRow> = fs::table
            .filter(
                fs::state_hmac
                    .eq(state_hmac)
                    .and(fs::expires_at.gt(now))
                    .and(fs::identity.is_null())
                    .and(fs::used_at.is_null()),
            )
            .select(StateRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(row.map(to_state))
    }

    async fn attach_identity(
        &self,
        state_hmac: &[u8],
        identity: &UpstreamIdentity,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        let n = diesel::update(
            fs::table.filter(
                fs::state_hmac
                    .eq(state_hmac)
                    .and(fs::expires_at.gt(now))
                    .and(fs::identity.is_null())
                    .and(fs::used_at.is_null()),
            ),
        )
        .set(fs::identity.eq(identity_json(identity)))
        .execute(&mut conn)
        .await
        .map_err(db)?;
        Ok(n == 1)
    }

    async fn first_use_of_assertion(
        &self,
        idp_id: IdentityProviderId,
        assertion_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let mut conn = self.0.conn().await?;
        diesel::delete(sa::table.filter(sa::expires_at.lt(now))).execute(&mut conn).await.map_err(db)?;
        let n = diesel::insert_into(sa::table)
            .values((sa::idp_id.eq(idp_id.uuid()), sa::assertion_id.eq(assertion_id), sa::expires_at.eq(expires_at)))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(db)?;
        Ok(n == 1)
    }

    async fn linked_user(&self, idp_id: IdentityProviderId, subject: &str) -> Result<Option<UserId>, RepoError> {
        let mut conn = self.0.conn().await?;
        let found: Option<Uuid> = fi::table
            .inner_join(users::table)
            .filter(fi::idp_id.eq(idp_id.uuid()).and(fi::subject.eq(subject)).and(users::deleted_at.is_null()))
            .select(fi::user_id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(found.map(UserId::from_uuid))
    }

    async fn tenant_standing(&self, tenant: TenantId) -> Result<Option<TenantStanding>, RepoError> {
        let mut conn = self.0.conn().await?;
        let found: Option<(String, Option<Uuid>, Option<String>)> = tenants::table
            .left_join(partners::table)
            .filter(tenants::id.eq(tenant.uuid()).and(tenants::deleted_at.is_null()))
            .select((tenants::status, tenants::partner_id, partners::status.nullable()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        let active = |s: &str| Status::parse(s) == Some(Status::Active);
        Ok(found.map(|(t, p, ps)| TenantStanding {
            partner_id: p.map(PartnerId::from_uuid),
            tenant_active: active(&t),
            partner_active: ps.as_deref().is_none_or(active),
        }))
    }

    async fn user_by_email(&self, tenant: TenantId, email: &str) -> Result<Option<EmailMatch>, RepoError> {
        let mut conn = self.0.conn().await?;
        let found: Option<(Uuid, Vec<String>)> = users::table
            .filter(
                users::tenant_id.eq(tenant.uuid()).and(users::deleted_at.is_null()).and(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("lower(users.email) = lower(")
                        .bind::<diesel::sql_types::Text, _>(email)
                        .sql(")"),
                ),
            )
            .select((users::id, users::roles))
            .first(&mut conn)
            .await
            .optional()
            .map_err(db)?;
        Ok(found.map(|(id, roles)| EmailMatch { user: UserId::from_uuid(id), admin: !roles.is_empty() }))
    }

    async fn sign_in(
        &self,
        s: &FederatedSignIn,
        now: DateTime<Utc>,
        audit: Option<AuditRecord>,
    ) -> Result<UserId, RepoError> {
        let Written(out) = crate::audit::audited(&self.0, audit.as_ref(), now, async |c| {
            let user = match &s.target {
                LinkTarget::Linked(u) | LinkTarget::Existing(u) => *u,
                LinkTarget::Create(u) => {
                    let record = UserRecord {
                        tenant_id: Some(s.tenant_id),
                        email: s.email.clone().unwrap_or_default(),
                        password_hash: None,
                        first_name: s.first_name.clone(),
                        last_name: s.last_name.clone(),
                        display_name: None,
                        status: Status::Active,
                        roles: Roles::default(),
                        custom_attributes: serde_json::Value::Object(s.attributes.clone()),
                    };
                    crate::users::insert_user(c, *u, &record, now).await?;
                    *u
                }
            };
            match &s.target {
                LinkTarget::Linked(_) => {
                    diesel::update(fi::table.filter(fi::idp_id.eq(s.idp_id.uuid()).and(fi::subject.eq(&s.subject))))
                        .set((fi::last_login_at.eq(now), fi::email.eq(&s.email)))
                        .execute(c)
                        .await?;
                }
                LinkTarget::Existing(_) | LinkTarget::Create(_) => {
                    // A link of a deleted user leads nowhere: the person links afresh.
                    let dead = users::table.filter(users::deleted_at.is_not_null()).select(users::id);
                    diesel::delete(fi::table.filter(
                        fi::idp_id.eq(s.idp_id.uuid()).and(fi::subject.eq(&s.subject)).and(fi::user_id.eq_any(dead)),
                    ))
                    .execute(c)
                    .await?;
                    let n = diesel::insert_into(fi::table)
                        .values((
                            fi::idp_id.eq(s.idp_id.uuid()),
                            fi::subject.eq(&s.subject),
                            fi::user_id.eq(user.uuid()),
                            fi::email.eq(&s.email),
                            fi::created_at.eq(now),
                            fi::last_login_at.eq(now),
                        ))
                        .on_conflict_do_nothing()
                        .execute(c)
                        .await?;
                    if n == 0 {
                        return Err(RepoError::Conflict(
                            "This account is already linked to another identity of this provider".into(),
                        )
                        .into());
                    }
                }
            }
            // The profile as the upstream asserts it now: names and mapped attributes on
            // each sign-in; the e-mail when no other live user of the tenant has it.
            let email_free = match s.email.as_deref() {
                Some(e) => {
                    users::table
                        .filter(
                            users::tenant_id
                                .eq(s.tenant_id.uuid())
                                .and(users::deleted_at.is_null())
                                .and(users::id.ne(user.uuid()))
                                .and(
                                    diesel::dsl::sql::<diesel::sql_types::Bool>("lower(users.email) = lower(")
                                        .bind::<diesel::sql_types::Text, _>(e)
                                        .sql(")"),
                                ),
                        )
                        .count()
                        .get_result::<i64>(c)
                        .await?
                        == 0
                }
                None => false,
            };
            let attributes = serde_json::Value::Object(s.attributes.clone());
            diesel::update(users::table.filter(users::id.eq(user.uuid()).and(users::deleted_at.is_null())))
                .set((
                    s.first_name.as_ref().map(|n| users::first_name.eq(n)),
                    s.last_name.as_ref().map(|n| users::last_name.eq(n)),
                    s.email.as_ref().filter(|_| email_free).map(|e| users::email.eq(e)),
                    // Verified only for the address stored: a new address is as verified as
                    // the upstream says; the same one stays verified once it was.
                    s.email.as_ref().filter(|_| email_free).map(|e| {
                        users::email_verified.eq(diesel::dsl::sql::<diesel::sql_types::Bool>(
                            "CASE WHEN lower(users.email) = lower(",
                        )
                        .bind::<diesel::sql_types::Text, _>(e.clone())
                        .sql(") THEN users.email_verified OR ")
                        .bind::<diesel::sql_types::Bool, _>(s.email_verified)
                        .sql(" ELSE ")
                        .bind::<diesel::sql_types::Bool, _>(s.email_verified)
                        .sql(" END"))
                    }),
                    users::custom_attributes.eq(diesel::dsl::sql::<diesel::sql_types::Jsonb>("custom_attributes || ")
                        .bind::<diesel::sql_types::Jsonb, _>(attributes)),
                    users::last_login_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .execute(c)
                .await?;
            Ok(Written(user))
        })
        .await?;
        Ok(out)
    }

    async fn links_of(&self, user: UserId) -> Result<Vec<FederatedLink>, RepoError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<(Uuid, String, String, Option<String>, DateTime<Utc>, DateTime<Utc>)> = fi::table
            .inner_join(idp::table)
            .filter(fi::user_id.eq(user.uuid()).and(idp::deleted_at.is_null()))
            .order((fi::created_at.asc(), fi::idp_id.asc()))
            .select((fi::idp_id, idp::name, fi::subject, fi::email, fi::created_at, fi::last_login_at))
            .load(&mut conn)
            .await
            .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(|(i, name, subject, email, created_at, last_login_at)| FederatedLink {
                idp_id: IdentityProviderId::from_uuid(i),
                idp_name: name,
                subject,
                email,
                created_at,
                last_login_at,
            })
            .collect())
    }

    async fn unlink(
        &self,
        user: UserId,
        idp_id: IdentityProviderId,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let done = crate::audit::audited(&self.0, audit, now, async |c| {
            let n = diesel::delete(fi::table.filter(fi::user_id.eq(user.uuid()).and(fi::idp_id.eq(idp_id.uuid()))))
                .execute(c)
                .await?;
            Ok(n > 0)
        })
        .await?;
        Ok(done)
    }
}

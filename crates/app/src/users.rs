//! User administration within the caller's reach, with the role-escalation rule.

use scaikey_domain::token_cutoff::{self, TokenOwner};
use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Reach, Target, can, can_grant, can_manage_user, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::{TenantId, UserId};
use scaikey_domain::password::PasswordPolicy;
use scaikey_domain::principal::Principal;
use scaikey_domain::tenant::Tenant;
use scaikey_domain::user::{NewUser, User, UserChanges, UserInput, check_roles_fit};
use scaikey_domain::validation::FieldError;
use serde_json::json;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, IdGenerator, PasswordHasher, TenantRepository, UserFilter, UserRecord, UserRepository};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "User";

/// Where a user lives, for the access rules.
#[must_use]
pub fn owner_of(u: &User) -> Owner {
    match u.tenant_id {
        Some(tenant) => Owner::Tenant { tenant, partner: u.partner_id },
        None => Owner::Platform,
    }
}

/// Creates, reads, changes and deletes users; resets passwords; disables MFA.
#[derive(Clone)]
pub struct UserService {
    users: Arc<dyn UserRepository>,
    tenants: Arc<dyn TenantRepository>,
    hasher: Arc<dyn PasswordHasher>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    invitations: Option<Arc<crate::mail_links::MailLinkService>>,
    federation: Option<Arc<dyn crate::ports::federation::FederationRepository>>,
}

impl std::fmt::Debug for UserService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserService")
    }
}

fn policy_error(v: scaikey_domain::password::PolicyViolation, field: &str) -> AppError {
    AppError::field(FieldError::new(field, "password_policy", v.to_string()))
}

impl UserService {
    /// Wires the service to its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        tenants: Arc<dyn TenantRepository>,
        hasher: Arc<dyn PasswordHasher>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { users, tenants, hasher, revocations, clock, ids, invitations: None, federation: None }
    }

    /// Lets admins read and remove users' linked upstream identities (contract §11).
    #[must_use]
    pub fn with_federation(mut self, store: Arc<dyn crate::ports::federation::FederationRepository>) -> Self {
        self.federation = Some(store);
        self
    }

    /// The user's linked upstream identities, oldest first.
    pub async fn identities(
        &self,
        ctx: &RequestContext,
        id: UserId,
    ) -> Result<Vec<crate::ports::federation::FederatedLink>, AppError> {
        let u = self.visible(ctx, id, Action::Read).await?;
        match &self.federation {
            Some(f) => Ok(f.links_of(u.id).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Removes the user's link to identity provider `idp`: the next sign-in through it links
    /// by e-mail or provisions again, as a first one does.
    pub async fn unlink(
        &self,
        ctx: &RequestContext,
        id: UserId,
        idp: scaikey_domain::id::IdentityProviderId,
    ) -> Result<(), AppError> {
        const LINK: &str = "Linked identity";
        let u = self.manageable(ctx, id).await?;
        let Some(f) = &self.federation else { return Err(AppError::NotFound(LINK)) };
        let audit =
            Self::audit(ctx, &u, action::USER_UNLINK_IDENTITY).details(serde_json::json!({"idp_id": idp.to_string()}));
        if f.unlink(id, idp, self.clock.now(), &audit).await? { Ok(()) } else { Err(AppError::NotFound(LINK)) }
    }

    /// Lets the service mail invitations to users created without a password (contract §10).
    #[must_use]
    pub fn with_invitations(mut self, links: Arc<crate::mail_links::MailLinkService>) -> Self {
        self.invitations = Some(links);
        self
    }

    /// The mail links, when ScaiKey can send mail.
    fn mail(&self) -> Option<&Arc<crate::mail_links::MailLinkService>> {
        self.invitations.as_ref().filter(|l| l.enabled())
    }

    /// The tenant a new resource goes to, checked for write reach: a tenant out of reach (or
    /// missing, for anyone but the platform) is a 403, so nothing is revealed.
    pub(crate) async fn writable_tenant(
        tenants: &dyn TenantRepository,
        principal: &Principal,
        id: TenantId,
        resource: &'static str,
    ) -> Result<Tenant, AppError> {
        let r = reach(principal, Action::Write).map_err(AppError::denied(resource))?;
        match tenants.get(id).await? {
            Some(t) if can(principal, Action::Write, Target::Owned(&crate::tenants::owner_of(&t))).is_allowed() => {
                Ok(t)
            }
            None if r == Reach::Platform => {
                Err(AppError::field(FieldError::new("tenant_id", "value_error", "Tenant not found")))
            }
            _ => Err(AppError::Denied(scaikey_domain::access::Denial::Forbidden, resource)),
        }
    }

    fn check_grants(principal: &Principal, user_roles: scaikey_domain::role::Roles) -> Result<(), AppError> {
        for role in user_roles.iter() {
            can_grant(principal, role).into_result().map_err(|d| AppError::Denied(d, RESOURCE))?;
        }
        Ok(())
    }

    /// Creates a user. A tenant admin who names no tenant creates in its own tenant. Without a
    /// password the user is mailed an invitation to choose one (refused while mail is off).
    pub async fn create(&self, ctx: &RequestContext, mut input: UserInput) -> Result<User, AppError> {
        let r = reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        if input.tenant_id.is_none()
            && let Reach::Tenant { tenant, .. } = r
        {
            input.tenant_id = Some(tenant.to_string());
        }
        let new = NewUser::validate(input)?;
        Self::check_grants(&ctx.principal, new.roles)?;
        let (tenant, settings) = match new.tenant_id {
            Some(t) => {
                let t = Self::writable_tenant(self.tenants.as_ref(), &ctx.principal, t, RESOURCE).await?;
                let settings = t.settings.clone();
                (Some(t), settings)
            }
            None => {
                can(&ctx.principal, Action::Write, Target::Owned(&Owner::Platform))
                    .into_result()
                    .map_err(|_| AppError::Denied(scaikey_domain::access::Denial::Forbidden, RESOURCE))?;
                (None, json!({}))
            }
        };
        let partner = tenant.as_ref().and_then(|t| t.partner_id);
        check_roles_fit(new.roles, new.tenant_id, partner).map_err(AppError::field)?;
        let hash = match &new.password {
            Some(p) => {
                PasswordPolicy::from_settings(&settings).check(p).map_err(|v| policy_error(v, "password"))?;
                Some(self.hasher.hash(p.clone()).await.map_err(AppError::Internal)?)
            }
            None if self.mail().is_none() => {
                return Err(AppError::field(FieldError::new(
                    "password",
                    "missing",
                    "Field required: without a password the user is invited by e-mail, and ScaiKey cannot send e-mail (SCAIKEY_SMTP_URL is not configured)",
                )));
            }
            None => None,
        };
        let id = UserId::generate_from(self.ids.next());
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::USER_CREATE, "user")
            .resource(id)
            .within(new.tenant_id, partner)
            .details(json!({
                "roles": new.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "invited": hash.is_none(),
            }));
        let record = UserRecord {
            tenant_id: new.tenant_id,
            email: new.email,
            password_hash: hash,
            first_name: new.first_name,
            last_name: new.last_name,
            display_name: new.display_name,
            status: new.status,
            roles: new.roles,
            custom_attributes: new.custom_attributes,
        };
        let user = self.users.insert(id, &record, self.clock.now(), &audit).await?;
        if !user.password_set
            && let Some(links) = self.mail()
        {
            // The user exists either way; a failed invitation can be sent again.
            if let Err(e) = links.invite(&user, &Self::audit(ctx, &user, action::USER_INVITE)).await {
                tracing::warn!(error = %e, user_id = %user.id, "invitation not sent");
            }
        }
        Ok(user)
    }

    /// Mails the user an invitation to choose a password again; `Conflict` once a password is
    /// set, for a suspended user, or while mail is off.
    pub async fn invite(&self, ctx: &RequestContext, id: UserId) -> Result<(), AppError> {
        let u = self.manageable(ctx, id).await?;
        let Some(links) = self.mail() else {
            return Err(AppError::Conflict(crate::mail_links::MAIL_OFF.into()));
        };
        if u.status != scaikey_domain::status::Status::Active {
            return Err(AppError::Conflict("The user is suspended".into()));
        }
        links.invite(&u, &Self::audit(ctx, &u, action::USER_INVITE)).await
    }

    async fn visible(&self, ctx: &RequestContext, id: UserId, action: Action) -> Result<User, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(RESOURCE))?;
        let u = self.users.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, action, Target::Owned(&owner_of(&u))).into_result().map_err(AppError::denied(RESOURCE))?;
        Ok(u)
    }

    async fn manageable(&self, ctx: &RequestContext, id: UserId) -> Result<User, AppError> {
        let u = self.visible(ctx, id, Action::Write).await?;
        can_manage_user(&ctx.principal, u.roles).into_result().map_err(|d| AppError::Denied(d, RESOURCE))?;
        Ok(u)
    }

    fn audit(ctx: &RequestContext, u: &User, action: &'static str) -> AuditRecord {
        AuditRecord::success(&ctx.principal, &ctx.meta, action, "user").resource(u.id).within(u.tenant_id, u.partner_id)
    }

    /// Reads a user within reach.
    pub async fn get(&self, ctx: &RequestContext, id: UserId) -> Result<User, AppError> {
        self.visible(ctx, id, Action::Read).await
    }

    /// Lists users within reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<User>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.users.list(r, filter, page).await?)
    }

    /// Applies a PATCH (never the password). Suspending ends the user's sessions.
    pub async fn update(&self, ctx: &RequestContext, id: UserId, input: UserInput) -> Result<User, AppError> {
        let changes = UserChanges::validate(input)?;
        let u = self.manageable(ctx, id).await?;
        if changes.is_empty() {
            return Ok(u);
        }
        if let Some(roles) = changes.roles {
            Self::check_grants(&ctx.principal, roles)?;
            check_roles_fit(roles, u.tenant_id, u.partner_id).map_err(AppError::field)?;
        }
        let mut fields = Vec::new();
        for (set, name) in [
            (changes.email.is_some(), "email"),
            (changes.first_name.is_some(), "first_name"),
            (changes.last_name.is_some(), "last_name"),
            (changes.display_name.is_some(), "display_name"),
            (changes.status.is_some(), "status"),
            (changes.roles.is_some(), "roles"),
            (changes.custom_attributes.is_some(), "custom_attributes"),
        ] {
            if set {
                fields.push(name);
            }
        }
        let audit = Self::audit(ctx, &u, action::USER_UPDATE).details(json!({"fields": fields}));
        let cut = token_cutoff::user_cut(&u, &changes);
        let now = self.clock.now();
        let (user, ended) =
            self.users.update(id, &changes, cut, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        self.revocations.add(&ended);
        if let Some(cut) = cut {
            self.revocations.cut(TokenOwner::User(id), cut, now);
        }
        Ok(user)
    }

    /// Sets a new password (checked against the tenant's policy) and ends every session.
    pub async fn reset_password(&self, ctx: &RequestContext, id: UserId, new_password: &str) -> Result<(), AppError> {
        let u = self.manageable(ctx, id).await?;
        let settings = match u.tenant_id {
            Some(t) => self.tenants.get(t).await?.map(|t| t.settings).unwrap_or_else(|| json!({})),
            None => json!({}),
        };
        PasswordPolicy::from_settings(&settings).check(new_password).map_err(|v| policy_error(v, "new_password"))?;
        let hash = self.hasher.hash(new_password.to_string()).await.map_err(AppError::Internal)?;
        let audit = Self::audit(ctx, &u, action::USER_RESET_PASSWORD);
        let now = self.clock.now();
        let ended = self.users.set_password(id, &hash, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        self.revocations.cut_user(id, &ended, now);
        Ok(())
    }

    /// Removes every second factor and recovery code and ends the user's sessions and refresh
    /// tokens (contract §10).
    pub async fn disable_mfa(&self, ctx: &RequestContext, id: UserId) -> Result<User, AppError> {
        let u = self.manageable(ctx, id).await?;
        let audit = Self::audit(ctx, &u, action::USER_MFA_DISABLE);
        let now = self.clock.now();
        let done = self.users.disable_mfa(id, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        self.revocations.cut_user(id, &done.ended, now);
        Ok(done.user)
    }

    /// Soft-deletes a user and ends its sessions. Deleting yourself is refused.
    pub async fn delete(&self, ctx: &RequestContext, id: UserId) -> Result<(), AppError> {
        let u = self.manageable(ctx, id).await?;
        if let Principal::User(me) = &ctx.principal
            && me.user_id == id
        {
            return Err(AppError::Conflict("You cannot delete your own account".into()));
        }
        let audit = Self::audit(ctx, &u, action::USER_DELETE);
        let now = self.clock.now();
        let ended = self.users.delete(id, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        self.revocations.cut_user(id, &ended, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockPasswordHasher, MockTenantRepository, MockUserRepository};
    use crate::test_support::{ctx_super, ctx_tenant_admin_parts, fixed_clock, ids};
    use chrono::Utc;
    use scaikey_domain::access::Denial;
    use scaikey_domain::id::PartnerId;
    use scaikey_domain::role::Role;
    use scaikey_domain::status::Status;

    fn tenant(id: TenantId, partner: Option<PartnerId>, settings: serde_json::Value) -> Tenant {
        Tenant {
            id,
            partner_id: partner,
            name: "T".into(),
            slug: "t".into(),
            status: Status::Active,
            contact_email: None,
            settings,
            branding: json!({}),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn user(id: UserId, tenant: TenantId, partner: Option<PartnerId>, roles: &[Role]) -> User {
        User {
            id,
            tenant_id: Some(tenant),
            partner_id: partner,
            email: "u@x.test".into(),
            first_name: None,
            last_name: None,
            display_name: None,
            status: Status::Active,
            roles: roles.iter().copied().collect(),
            custom_attributes: json!({}),
            mfa_enabled: false,
            mfa_methods: Vec::new(),
            email_verified: false,
            password_set: true,
            last_login_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn service(users: MockUserRepository, tenants: MockTenantRepository, hasher: MockPasswordHasher) -> UserService {
        UserService::new(
            Arc::new(users),
            Arc::new(tenants),
            Arc::new(hasher),
            Arc::new(RevocationList::new()),
            Arc::new(fixed_clock()),
            Arc::new(ids(3)),
        )
    }

    fn input(roles: &[&str], tenant: Option<String>, password: &str) -> UserInput {
        UserInput {
            email: Some("new@x.test".into()),
            password: Some(password.into()),
            tenant_id: tenant,
            roles: Some(roles.iter().map(|r| (*r).to_string()).collect()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_tenant_admin_cannot_grant_partner_admin() {
        let (ctx, _, _) = ctx_tenant_admin_parts();
        // Refused before any storage is touched: the mocks expect nothing.
        let svc = service(MockUserRepository::new(), MockTenantRepository::new(), MockPasswordHasher::new());
        let e = svc.create(&ctx, input(&["partner_admin"], None, "long enough")).await.unwrap_err();
        assert!(matches!(e, AppError::Denied(Denial::Forbidden, _)), "{e:?}");
    }

    #[tokio::test]
    async fn tenant_admins_create_in_their_tenant_under_its_password_policy() {
        let (ctx, own, partner) = ctx_tenant_admin_parts();
        let mut tenants = MockTenantRepository::new();
        tenants
            .expect_get()
            .returning(move |id| Ok(Some(tenant(id, Some(partner), json!({"password_policy": {"min_length": 12}})))));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().times(1).returning(|_| Ok("phc".into()));
        let mut users = MockUserRepository::new();
        users
            .expect_insert()
            .withf(move |_, rec, _, audit| {
                rec.tenant_id == Some(own)
                    && rec.password_hash.as_deref() == Some("phc")
                    && audit.action == "user.create"
            })
            .times(1)
            .returning(move |id, _, _, _| Ok(user(id, own, Some(partner), &[])));
        let svc = service(users, tenants, hasher);
        let e = svc.create(&ctx, input(&[], None, "too short")).await.unwrap_err();
        match e {
            AppError::Invalid(errs) => assert!(errs.errors()[0].msg.contains("min_length"), "{errs}"),
            other => panic!("{other:?}"),
        }
        let u = svc.create(&ctx, input(&["tenant_admin"], None, "long enough pw")).await.unwrap();
        assert_eq!(u.tenant_id, Some(own));
    }

    #[tokio::test]
    async fn without_mail_a_user_needs_a_password() {
        let (ctx, _, partner) = ctx_tenant_admin_parts();
        let mut tenants = MockTenantRepository::new();
        tenants.expect_get().returning(move |id| Ok(Some(tenant(id, Some(partner), json!({})))));
        // Refused before hashing or storing: those mocks expect nothing.
        let svc = service(MockUserRepository::new(), tenants, MockPasswordHasher::new());
        let e = svc.create(&ctx, UserInput { password: None, ..input(&[], None, "") }).await.unwrap_err();
        match e {
            AppError::Invalid(errs) => {
                assert_eq!(errs.errors()[0].loc, ["password"]);
                assert!(errs.errors()[0].msg.contains("SCAIKEY_SMTP_URL"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn resets_end_sessions_in_the_revocation_list() {
        let t = TenantId::generate_from(ulid::Ulid::from_parts(4, 4));
        let uid = UserId::generate_from(ulid::Ulid::from_parts(4, 5));
        let sid = scaikey_domain::id::SessionId::generate_from(ulid::Ulid::from_parts(4, 6));
        let mut users = MockUserRepository::new();
        users.expect_get().returning(move |id| Ok(Some(user(id, t, None, &[Role::TenantAdmin]))));
        users.expect_set_password().returning(move |_, _, _, _| {
            Ok(Some(vec![crate::ports::EndedSession { id: sid, expires_at: Utc::now() + chrono::Duration::hours(1) }]))
        });
        let mut tenants = MockTenantRepository::new();
        tenants.expect_get().returning(move |id| Ok(Some(tenant(id, None, json!({})))));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("phc".into()));
        let svc = service(users, tenants, hasher);
        svc.reset_password(&ctx_super(), uid, "a new password").await.unwrap();
        assert!(svc.revocations.is_revoked(sid));
    }

    #[tokio::test]
    async fn admins_cannot_manage_users_above_their_reach() {
        let (ctx, own, partner) = ctx_tenant_admin_parts();
        let mut users = MockUserRepository::new();
        users.expect_get().returning(move |id| Ok(Some(user(id, own, Some(partner), &[Role::PartnerAdmin]))));
        let svc = service(users, MockTenantRepository::new(), MockPasswordHasher::new());
        let uid = UserId::generate_from(ulid::Ulid::from_parts(5, 5));
        let e = svc.delete(&ctx, uid).await.unwrap_err();
        assert!(matches!(e, AppError::Denied(Denial::Forbidden, _)), "{e:?}");
    }
}

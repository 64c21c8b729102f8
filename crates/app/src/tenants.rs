//! Tenant administration: the platform writes tenant records; partner and tenant admins read
//! those within reach (contract §5).

use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Target, can, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::TenantId;
use scaikey_domain::tenant::{NewTenant, Tenant, TenantChanges, TenantInput};
use serde_json::json;

use scaikey_domain::token_cutoff::{self, Cut, TokenOwner};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, IdGenerator, TenantFilter, TenantRepository};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Tenant";

/// Where a tenant sits, for the access rules.
#[must_use]
pub fn owner_of(t: &Tenant) -> Owner {
    Owner::Tenant { tenant: t.id, partner: t.partner_id }
}

/// Creates, reads, changes, moves and deletes tenants.
#[derive(Clone)]
pub struct TenantService {
    repo: Arc<dyn TenantRepository>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for TenantService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantService")
    }
}

impl TenantService {
    /// Wires the service to its ports.
    pub fn new(
        repo: Arc<dyn TenantRepository>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { repo, revocations, clock, ids }
    }

    /// Tenant records are written by the platform only: decided before any lookup, so the
    /// answer is the same 403 whether or not the tenant exists.
    pub fn authorize_write(ctx: &RequestContext) -> Result<(), AppError> {
        can(&ctx.principal, Action::Write, Target::TenantRecord(&Owner::Platform))
            .into_result()
            .map_err(AppError::denied(RESOURCE))
    }

    /// Creates a tenant, under a partner or directly under the platform.
    pub async fn create(&self, ctx: &RequestContext, input: TenantInput) -> Result<Tenant, AppError> {
        Self::authorize_write(ctx)?;
        let new = NewTenant::validate(input)?;
        let id = TenantId::generate_from(self.ids.next());
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::TENANT_CREATE, "tenant")
            .resource(id)
            .within(Some(id), new.partner_id)
            .details(json!({"slug": new.slug}));
        Ok(self.repo.insert(id, &new, self.clock.now(), &audit).await?)
    }

    /// Reads a live tenant within the caller's reach.
    pub async fn get(&self, ctx: &RequestContext, id: TenantId) -> Result<Tenant, AppError> {
        // Check the caller has any admin reach before touching storage.
        reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        let t = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, Action::Read, Target::TenantRecord(&owner_of(&t)))
            .into_result()
            .map_err(AppError::denied(RESOURCE))?;
        Ok(t)
    }

    /// Lists live tenants within the caller's reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &TenantFilter,
        page: PageRequest,
    ) -> Result<Page<Tenant>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.repo.list(r, filter, page).await?)
    }

    /// Applies a PATCH; `partner_id` moves the tenant to another partner.
    pub async fn update(&self, ctx: &RequestContext, id: TenantId, input: TenantInput) -> Result<Tenant, AppError> {
        Self::authorize_write(ctx)?;
        let changes = TenantChanges::validate(input)?;
        if changes == TenantChanges::default() {
            return self.get(ctx, id).await;
        }
        let mut details = json!({"fields": changed_fields(&changes)});
        if let Some(p) = &changes.partner_id {
            details["partner_id"] = json!(p.map(|p| p.to_string()));
        }
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::TENANT_UPDATE, "tenant")
            .resource(id)
            .within(Some(id), changes.partner_id.flatten())
            .details(details);
        let before = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        let cut = token_cutoff::tenant_cut(&before, &changes);
        let now = self.clock.now();
        let t = self.repo.update(id, &changes, cut, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        if let Some(cut) = cut {
            self.revocations.cut(TokenOwner::Tenant(id), cut, now);
        }
        Ok(t)
    }

    /// Soft-deletes a tenant.
    pub async fn delete(&self, ctx: &RequestContext, id: TenantId) -> Result<(), AppError> {
        Self::authorize_write(ctx)?;
        // The event names the partner the tenant stood under, so that partner's audit list shows it.
        let partner = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?.partner_id;
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::TENANT_DELETE, "tenant")
            .resource(id)
            .within(Some(id), partner);
        let now = self.clock.now();
        if !self.repo.delete(id, now, &audit).await? {
            return Err(AppError::NotFound(RESOURCE));
        }
        self.revocations.cut(TokenOwner::Tenant(id), Cut::Block, now);
        Ok(())
    }
}

fn changed_fields(c: &TenantChanges) -> Vec<&'static str> {
    [
        (c.name.is_some(), "name"),
        (c.slug.is_some(), "slug"),
        (c.status.is_some(), "status"),
        (c.contact_email.is_some(), "contact_email"),
        (c.partner_id.is_some(), "partner_id"),
        (c.settings.is_some(), "settings"),
        (c.branding.is_some(), "branding"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockIdGenerator, MockTenantRepository};
    use crate::test_support::*;
    use chrono::Utc;
    use scaikey_domain::access::{Denial, Reach};
    use scaikey_domain::status::Status;

    fn tenant(id: TenantId, partner: Option<scaikey_domain::id::PartnerId>) -> Tenant {
        Tenant {
            id,
            partner_id: partner,
            name: "T".into(),
            slug: "t".into(),
            status: Status::Active,
            contact_email: None,
            settings: json!({}),
            branding: json!({}),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn service(repo: MockTenantRepository) -> TenantService {
        TenantService::new(Arc::new(repo), Arc::new(RevocationList::new()), Arc::new(fixed_clock()), Arc::new(ids(5)))
    }

    #[tokio::test]
    async fn tenant_admin_reads_own_tenant_but_not_others() {
        let (ctx, own, partner) = ctx_tenant_admin_parts();
        let other = TenantId::generate_from(ulid::Ulid::from_parts(99, 99));
        let mut repo = MockTenantRepository::new();
        repo.expect_get().returning(move |id| Ok(Some(tenant(id, Some(partner)))));
        let svc = service(repo);
        assert_eq!(svc.get(&ctx, own).await.unwrap().id, own);
        assert!(matches!(svc.get(&ctx, other).await, Err(AppError::NotFound("Tenant"))));
    }

    #[tokio::test]
    async fn writes_by_anyone_but_the_platform_are_403_without_lookup() {
        let (ctx, own, _) = ctx_tenant_admin_parts();
        let svc = TenantService::new(
            Arc::new(MockTenantRepository::new()),
            Arc::new(RevocationList::new()),
            Arc::new(MockClock::new()),
            Arc::new(MockIdGenerator::new()),
        );
        let patch = TenantInput { name: Some("x".into()), ..Default::default() };
        assert!(matches!(svc.update(&ctx, own, patch).await, Err(AppError::Denied(Denial::Forbidden, _))));
        assert!(matches!(svc.delete(&ctx, own).await, Err(AppError::Denied(Denial::Forbidden, _))));
        let create = TenantInput { name: Some("x".into()), ..Default::default() };
        assert!(matches!(svc.create(&ctx, create).await, Err(AppError::Denied(Denial::Forbidden, _))));
    }

    #[tokio::test]
    async fn lists_are_filtered_by_reach() {
        let (ctx, own, partner) = ctx_tenant_admin_parts();
        let mut repo = MockTenantRepository::new();
        repo.expect_list()
            .withf(move |r, _, _| *r == Reach::Tenant { tenant: own, partner: Some(partner) })
            .returning(|_, _, p| Ok(Page { items: vec![], request: p, total: 0 }));
        service(repo).list(&ctx, &TenantFilter::default(), PageRequest::default()).await.unwrap();
    }

    #[tokio::test]
    async fn transfer_is_audited_with_the_new_partner() {
        let target = scaikey_domain::id::PartnerId::generate_from(ulid::Ulid::from_parts(3, 3));
        let mut repo = MockTenantRepository::new();
        repo.expect_get().returning(|id| Ok(Some(tenant(id, None))));
        // The move cuts the tenant's tokens (they name the old partner), in the same write.
        repo.expect_update()
            .withf(move |_, c, cut, _, a| {
                c.partner_id == Some(Some(target))
                    && *cut == Some(Cut::Before)
                    && a.partner_id == Some(target)
                    && a.action == "tenant.update"
            })
            .returning(move |id, _, _, _, _| Ok(Some(tenant(id, Some(target)))));
        let revocations = Arc::new(RevocationList::new());
        let svc = TenantService::new(Arc::new(repo), revocations.clone(), Arc::new(fixed_clock()), Arc::new(ids(5)));
        let id = TenantId::generate_from(ulid::Ulid::from_parts(4, 4));
        let input = TenantInput { partner_id: Some(Some(target.to_string())), ..Default::default() };
        assert_eq!(svc.update(&ctx_super(), id, input).await.unwrap().partner_id, Some(target));
        assert!(!revocations.is_blocked(TokenOwner::Tenant(id)), "a move cuts but does not block");
    }

    #[tokio::test]
    async fn suspension_blocks_the_tenants_tokens_at_once_in_this_process() {
        let mut repo = MockTenantRepository::new();
        repo.expect_get().returning(|id| Ok(Some(tenant(id, None))));
        repo.expect_update()
            .withf(|_, _, cut, _, _| *cut == Some(Cut::Block))
            .returning(|id, _, _, _, _| Ok(Some(Tenant { status: Status::Suspended, ..tenant(id, None) })));
        let revocations = Arc::new(RevocationList::new());
        let svc = TenantService::new(Arc::new(repo), revocations.clone(), Arc::new(fixed_clock()), Arc::new(ids(5)));
        let id = TenantId::generate_from(ulid::Ulid::from_parts(4, 5));
        let input = TenantInput { status: Some("suspended".into()), ..Default::default() };
        svc.update(&ctx_super(), id, input).await.unwrap();
        assert!(revocations.is_blocked(TokenOwner::Tenant(id)));
    }
}

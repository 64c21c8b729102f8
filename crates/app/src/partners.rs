//! Partner administration: platform only (contract §5).

use std::sync::Arc;

use scaikey_domain::access::{Action, Target, can};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::id::PartnerId;
use scaikey_domain::partner::{NewPartner, Partner, PartnerChanges, PartnerInput};
use serde_json::json;

use scaikey_domain::token_cutoff::{self, Cut, TokenOwner};

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{Clock, IdGenerator, PartnerFilter, PartnerRepository};
use crate::revocation::RevocationList;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Partner";

/// Creates, reads, changes and deletes partners.
#[derive(Clone)]
pub struct PartnerService {
    repo: Arc<dyn PartnerRepository>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for PartnerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartnerService")
    }
}

impl PartnerService {
    /// Wires the service to its ports.
    pub fn new(
        repo: Arc<dyn PartnerRepository>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { repo, revocations, clock, ids }
    }

    /// The access check every partner operation starts with (403 for all but the platform).
    /// Handlers may call it before parsing path IDs so a forbidden caller never learns more.
    pub fn authorize(ctx: &RequestContext, action: Action) -> Result<(), AppError> {
        can(&ctx.principal, action, Target::Partners).into_result().map_err(AppError::denied(RESOURCE))
    }

    /// Creates a partner.
    pub async fn create(&self, ctx: &RequestContext, input: PartnerInput) -> Result<Partner, AppError> {
        Self::authorize(ctx, Action::Write)?;
        let new = NewPartner::validate(input)?;
        let id = PartnerId::generate_from(self.ids.next());
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::PARTNER_CREATE, "partner")
            .resource(id)
            .within(None, Some(id))
            .details(json!({"slug": new.slug}));
        Ok(self.repo.insert(id, &new, self.clock.now(), &audit).await?)
    }

    /// Reads a live partner.
    pub async fn get(&self, ctx: &RequestContext, id: PartnerId) -> Result<Partner, AppError> {
        Self::authorize(ctx, Action::Read)?;
        self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))
    }

    /// Lists live partners.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &PartnerFilter,
        page: PageRequest,
    ) -> Result<Page<Partner>, AppError> {
        Self::authorize(ctx, Action::Read)?;
        Ok(self.repo.list(filter, page).await?)
    }

    /// Applies a PATCH.
    pub async fn update(&self, ctx: &RequestContext, id: PartnerId, input: PartnerInput) -> Result<Partner, AppError> {
        Self::authorize(ctx, Action::Write)?;
        let changes = PartnerChanges::validate(input)?;
        if changes.is_empty() {
            return self.get(ctx, id).await;
        }
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::PARTNER_UPDATE, "partner")
            .resource(id)
            .within(None, Some(id))
            .details(json!({"fields": changed_fields(&changes)}));
        let before = self.repo.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        let cut = token_cutoff::partner_cut(&before, &changes);
        let now = self.clock.now();
        let p = self.repo.update(id, &changes, cut, now, &audit).await?.ok_or(AppError::NotFound(RESOURCE))?;
        if let Some(cut) = cut {
            self.revocations.cut(TokenOwner::Partner(id), cut, now);
        }
        Ok(p)
    }

    /// Soft-deletes a partner that has no live tenants.
    pub async fn delete(&self, ctx: &RequestContext, id: PartnerId) -> Result<(), AppError> {
        Self::authorize(ctx, Action::Write)?;
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::PARTNER_DELETE, "partner")
            .resource(id)
            .within(None, Some(id));
        let now = self.clock.now();
        if !self.repo.delete(id, now, &audit).await? {
            return Err(AppError::NotFound(RESOURCE));
        }
        self.revocations.cut(TokenOwner::Partner(id), Cut::Block, now);
        Ok(())
    }
}

fn changed_fields(c: &PartnerChanges) -> Vec<&'static str> {
    let mut f = Vec::new();
    let mut mark = |set: bool, name| {
        if set {
            f.push(name);
        }
    };
    mark(c.name.is_some(), "name");
    mark(c.slug.is_some(), "slug");
    mark(c.status.is_some(), "status");
    mark(c.contact_email.is_some(), "contact_email");
    mark(c.max_tenants.is_some(), "max_tenants");
    mark(c.max_users_per_tenant.is_some(), "max_users_per_tenant");
    mark(c.max_applications_per_tenant.is_some(), "max_applications_per_tenant");
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{MockClock, MockIdGenerator, MockPartnerRepository};
    use crate::test_support::{ctx_super, ctx_tenant_admin, fixed_clock, ids};
    use chrono::Utc;
    use scaikey_domain::access::Denial;
    use scaikey_domain::limits::PartnerLimits;
    use scaikey_domain::status::Status;

    fn partner(id: PartnerId, name: &str) -> Partner {
        Partner {
            id,
            name: name.into(),
            slug: name.to_lowercase(),
            status: Status::Active,
            contact_email: None,
            limits: PartnerLimits::default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn service(repo: MockPartnerRepository, clock: MockClock, ids: MockIdGenerator) -> PartnerService {
        PartnerService::new(Arc::new(repo), Arc::new(RevocationList::new()), Arc::new(clock), Arc::new(ids))
    }

    #[tokio::test]
    async fn create_validates_then_stores_with_an_audit_record() {
        let mut repo = MockPartnerRepository::new();
        repo.expect_insert()
            .withf(|id, new, _, audit| {
                new.slug == "acme"
                    && audit.action == "partner.create"
                    && audit.resource_id.as_deref() == Some(&id.to_string())
            })
            .times(1)
            .returning(|id, new, _, _| Ok(partner(id, &new.name)));
        let svc = service(repo, fixed_clock(), ids(1));
        let p =
            svc.create(&ctx_super(), PartnerInput { name: Some("Acme".into()), ..Default::default() }).await.unwrap();
        assert_eq!(p.name, "Acme");
    }

    #[tokio::test]
    async fn invalid_input_never_reaches_storage() {
        let svc = service(MockPartnerRepository::new(), fixed_clock(), MockIdGenerator::new());
        let e = svc.create(&ctx_super(), PartnerInput::default()).await.unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)));
    }

    #[tokio::test]
    async fn non_platform_callers_get_403_before_any_io() {
        let svc = service(MockPartnerRepository::new(), MockClock::new(), MockIdGenerator::new());
        let ctx = ctx_tenant_admin();
        let id = PartnerId::generate_from(ulid::Ulid::nil());
        assert!(matches!(svc.get(&ctx, id).await, Err(AppError::Denied(Denial::Forbidden, _))));
        assert!(matches!(svc.delete(&ctx, id).await, Err(AppError::Denied(Denial::Forbidden, _))));
        let e = svc.list(&ctx, &PartnerFilter::default(), PageRequest::default()).await.unwrap_err();
        assert!(matches!(e, AppError::Denied(Denial::Forbidden, _)));
    }

    #[tokio::test]
    async fn missing_rows_are_404_and_empty_patch_reads() {
        let mut repo = MockPartnerRepository::new();
        repo.expect_delete().returning(|_, _, _| Ok(false));
        repo.expect_get().returning(|_| Ok(None));
        let svc = service(repo, fixed_clock(), MockIdGenerator::new());
        let id = PartnerId::generate_from(ulid::Ulid::nil());
        assert!(matches!(svc.delete(&ctx_super(), id).await, Err(AppError::NotFound("Partner"))));
        // An empty PATCH changes nothing and reads the row (here: absent).
        let e = svc.update(&ctx_super(), id, PartnerInput::default()).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound("Partner")));
    }
}

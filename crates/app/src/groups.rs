//! Group administration: groups, direct members and nesting, inside tenants within reach.

use std::sync::Arc;

use scaikey_domain::access::{Action, Owner, Target, can, reach};
use scaikey_domain::audit::AuditRecord;
use scaikey_domain::group::{Group, GroupChanges, GroupInput, NewGroup};
use scaikey_domain::id::{GroupId, UserId};
use scaikey_domain::validation as v;
use serde_json::json;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::page::{Page, PageRequest};
use crate::ports::{
    Clock, GroupFilter, GroupRecord, GroupRepository, GroupSummary, IdGenerator, MemberSummary, TenantRepository,
};
use crate::users::UserService;
use scaikey_domain::audit::action;

const RESOURCE: &str = "Group";

/// Where a group lives.
#[must_use]
pub fn owner_of(g: &Group) -> Owner {
    Owner::Tenant { tenant: g.tenant_id, partner: g.partner_id }
}

/// A group with its direct members and child groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    /// The group.
    pub group: Group,
    /// Direct members.
    pub members: Vec<MemberSummary>,
    /// Direct child groups.
    pub child_groups: Vec<GroupSummary>,
}

/// Creates, reads, changes and deletes groups; manages members and nesting.
#[derive(Clone)]
pub struct GroupService {
    groups: Arc<dyn GroupRepository>,
    tenants: Arc<dyn TenantRepository>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl std::fmt::Debug for GroupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupService")
    }
}

impl GroupService {
    /// Wires the service to its ports.
    pub fn new(
        groups: Arc<dyn GroupRepository>,
        tenants: Arc<dyn TenantRepository>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { groups, tenants, clock, ids }
    }

    /// Creates a group; a tenant admin who names no tenant creates in its own tenant.
    pub async fn create(&self, ctx: &RequestContext, input: GroupInput) -> Result<Group, AppError> {
        let r = reach(&ctx.principal, Action::Write).map_err(AppError::denied(RESOURCE))?;
        let new = NewGroup::validate(input)?;
        let tenant_id = r.home_tenant(new.tenant_id).map_err(AppError::field)?;
        let tenant = UserService::writable_tenant(self.tenants.as_ref(), &ctx.principal, tenant_id, RESOURCE).await?;
        let id = GroupId::generate_from(self.ids.next());
        let audit = AuditRecord::success(&ctx.principal, &ctx.meta, action::GROUP_CREATE, "group")
            .resource(id)
            .within(Some(tenant.id), tenant.partner_id)
            .details(json!({"name": new.name}));
        let record = GroupRecord { tenant_id, name: new.name, description: new.description };
        Ok(self.groups.insert(id, &record, self.clock.now(), &audit).await?)
    }

    async fn visible(&self, ctx: &RequestContext, id: GroupId, action: Action) -> Result<Group, AppError> {
        reach(&ctx.principal, action).map_err(AppError::denied(RESOURCE))?;
        let g = self.groups.get(id).await?.ok_or(AppError::NotFound(RESOURCE))?;
        can(&ctx.principal, action, Target::Owned(&owner_of(&g))).into_result().map_err(AppError::denied(RESOURCE))?;
        Ok(g)
    }

    fn audit(ctx: &RequestContext, g: &Group, action: &'static str) -> AuditRecord {
        AuditRecord::success(&ctx.principal, &ctx.meta, action, "group")
            .resource(g.id)
            .within(Some(g.tenant_id), g.partner_id)
    }

    /// Reads a group with its direct members and children.
    pub async fn get(&self, ctx: &RequestContext, id: GroupId) -> Result<GroupDetail, AppError> {
        let group = self.visible(ctx, id, Action::Read).await?;
        let members = self.groups.members(id).await?;
        let child_groups = self.groups.children(id).await?;
        Ok(GroupDetail { group, members, child_groups })
    }

    /// Lists groups within reach.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &GroupFilter,
        page: PageRequest,
    ) -> Result<Page<Group>, AppError> {
        let r = reach(&ctx.principal, Action::Read).map_err(AppError::denied(RESOURCE))?;
        Ok(self.groups.list(r, filter, page).await?)
    }

    /// Applies a PATCH.
    pub async fn update(&self, ctx: &RequestContext, id: GroupId, input: GroupInput) -> Result<Group, AppError> {
        let changes = GroupChanges::validate(input)?;
        let g = self.visible(ctx, id, Action::Write).await?;
        if changes == GroupChanges::default() {
            return Ok(g);
        }
        let audit = Self::audit(ctx, &g, action::GROUP_UPDATE);
        self.groups.update(id, &changes, self.clock.now(), &audit).await?.ok_or(AppError::NotFound(RESOURCE))
    }

    /// Soft-deletes a group, dropping its memberships and nesting edges.
    pub async fn delete(&self, ctx: &RequestContext, id: GroupId) -> Result<(), AppError> {
        let g = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &g, action::GROUP_DELETE);
        if self.groups.delete(id, self.clock.now(), &audit).await? { Ok(()) } else { Err(AppError::NotFound(RESOURCE)) }
    }

    /// Adds a direct member (a user of the same tenant).
    pub async fn add_member(&self, ctx: &RequestContext, id: GroupId, user_id: &str) -> Result<UserId, AppError> {
        let user: UserId = v::id("user_id", user_id).map_err(AppError::field)?;
        let g = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &g, action::GROUP_MEMBER_ADD).details(json!({"user_id": user.to_string()}));
        self.groups.add_member(id, user, self.clock.now(), &audit).await?;
        Ok(user)
    }

    /// Removes a direct member.
    pub async fn remove_member(&self, ctx: &RequestContext, id: GroupId, user: UserId) -> Result<(), AppError> {
        let g = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &g, action::GROUP_MEMBER_REMOVE).details(json!({"user_id": user.to_string()}));
        if self.groups.remove_member(id, user, self.clock.now(), &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("Member"))
        }
    }

    /// Nests a child group (same tenant, no cycle).
    pub async fn add_child(&self, ctx: &RequestContext, id: GroupId, child: &str) -> Result<GroupId, AppError> {
        let child: GroupId = v::id("child_group_id", child).map_err(AppError::field)?;
        let g = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &g, action::GROUP_NEST).details(json!({"child_group_id": child.to_string()}));
        self.groups.add_child(id, child, self.clock.now(), &audit).await?;
        Ok(child)
    }

    /// Removes a nesting edge.
    pub async fn remove_child(&self, ctx: &RequestContext, id: GroupId, child: GroupId) -> Result<(), AppError> {
        let g = self.visible(ctx, id, Action::Write).await?;
        let audit = Self::audit(ctx, &g, action::GROUP_UNNEST).details(json!({"child_group_id": child.to_string()}));
        if self.groups.remove_child(id, child, self.clock.now(), &audit).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("Child group"))
        }
    }
}

#[cfg(test)]
mod tests;

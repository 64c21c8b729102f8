//! Groups: named sets of users in one tenant, nested to any depth without cycles.

use chrono::{DateTime, Utc};

use crate::id::{GroupId, PartnerId, TenantId};
use crate::validation::{self as v, FieldError, ValidationErrors};

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its ID.
    pub id: GroupId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// Name, unique within the tenant (case-insensitive) among live groups.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A change the domain refused on facts storage read (a group's members or children, a
/// partner's deletion): its message, and the request field it concerns (`None`: the request is
/// fine but the state forbids it, a 409).
pub trait Refusal: std::fmt::Display {
    /// The field the refusal points at, if it is the caller's input.
    fn field(&self) -> Option<&'static str>;
}

/// Why a user cannot become a direct member of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MembershipRefusal {
    /// The group is gone.
    #[error("Group was deleted")]
    GroupGone,
    /// No live user has the ID.
    #[error("User not found")]
    UserNotFound,
    /// Members share their group's tenant.
    #[error("User belongs to another tenant than the group")]
    OtherTenant,
    /// The user is a direct member already.
    #[error("User is already a member of this group")]
    AlreadyMember,
}

impl Refusal for MembershipRefusal {
    fn field(&self) -> Option<&'static str> {
        match self {
            MembershipRefusal::UserNotFound | MembershipRefusal::OtherTenant => Some("user_id"),
            MembershipRefusal::GroupGone | MembershipRefusal::AlreadyMember => None,
        }
    }
}

/// Whether a user may join a group, on the facts storage read inside the write: the group's
/// tenant (`None`: gone) and the user's (`None`: no live user; `Some(None)`: a platform user).
///
/// # Errors
/// The [`MembershipRefusal`] that applies.
pub fn may_join(
    group_tenant: Option<TenantId>,
    user_tenant: Option<Option<TenantId>>,
) -> Result<(), MembershipRefusal> {
    let Some(group) = group_tenant else { return Err(MembershipRefusal::GroupGone) };
    match user_tenant {
        None => Err(MembershipRefusal::UserNotFound),
        Some(t) if t != Some(group) => Err(MembershipRefusal::OtherTenant),
        Some(_) => Ok(()),
    }
}

/// Why a group cannot be nested in another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NestingRefusal {
    /// A group inside itself.
    #[error("A group cannot contain itself")]
    Itself,
    /// The parent is gone.
    #[error("Group was deleted")]
    ParentGone,
    /// No live group has the child's ID.
    #[error("Group not found")]
    ChildNotFound,
    /// Nested groups share a tenant.
    #[error("Group belongs to another tenant than the parent")]
    OtherTenant,
    /// The parent lies below the child already.
    #[error("Nesting this group would create a cycle")]
    Cycle,
    /// The child is nested here already.
    #[error("Group is already nested here")]
    AlreadyNested,
}

impl Refusal for NestingRefusal {
    fn field(&self) -> Option<&'static str> {
        match self {
            NestingRefusal::ChildNotFound | NestingRefusal::OtherTenant => Some("child_group_id"),
            NestingRefusal::Itself
            | NestingRefusal::ParentGone
            | NestingRefusal::Cycle
            | NestingRefusal::AlreadyNested => None,
        }
    }
}

/// The facts a nesting is decided on, read by storage under the tenant's nesting lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestingFacts {
    /// The parent's tenant (`None`: gone).
    pub parent_tenant: Option<TenantId>,
    /// The child's tenant (`None`: no live group).
    pub child_tenant: Option<TenantId>,
    /// The parent is the child or lies below it.
    pub parent_below_child: bool,
}

/// Whether `child` may be nested in `parent`: both live in one tenant and no cycle forms, so
/// groups stay a forest of trees without loops.
///
/// # Errors
/// The [`NestingRefusal`] that applies.
pub fn may_nest(parent: GroupId, child: GroupId, facts: &NestingFacts) -> Result<(), NestingRefusal> {
    if parent == child {
        return Err(NestingRefusal::Itself);
    }
    let Some(p) = facts.parent_tenant else { return Err(NestingRefusal::ParentGone) };
    match facts.child_tenant {
        None => Err(NestingRefusal::ChildNotFound),
        Some(c) if c != p => Err(NestingRefusal::OtherTenant),
        Some(_) if facts.parent_below_child => Err(NestingRefusal::Cycle),
        Some(_) => Ok(()),
    }
}

/// Raw group fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInput {
    /// `name`.
    pub name: Option<String>,
    /// `description`.
    pub description: Option<Option<String>>,
    /// `tenant_id` (create only).
    pub tenant_id: Option<String>,
}

/// A validated group to create (the tenant may still be defaulted by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewGroup {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Tenant, if given.
    pub tenant_id: Option<TenantId>,
}

/// Validated changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct GroupChanges {
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears).
    pub description: Option<Option<String>>,
}

impl NewGroup {
    /// Validates a create request.
    pub fn validate(input: GroupInput) -> Result<NewGroup, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
            None => {
                errs.push(FieldError::missing("name"));
                None
            }
        };
        let description =
            errs.take(v::optional_text("description", input.description.flatten().as_deref(), v::MAX_DESCRIPTION_LEN));
        let tenant_id = match input.tenant_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => errs.take(v::id::<TenantId>("tenant_id", t)).map(Some),
            None => Some(None),
        };
        errs.clone().into_result()?;
        match (name, description, tenant_id) {
            (Some(name), Some(description), Some(tenant_id)) => Ok(NewGroup { name, description, tenant_id }),
            _ => Err(errs),
        }
    }
}

impl GroupChanges {
    /// Validates a PATCH request.
    pub fn validate(input: GroupInput) -> Result<GroupChanges, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        if input.tenant_id.is_some() {
            errs.push(FieldError::new("tenant_id", "extra_forbidden", "A group cannot move to another tenant"));
        }
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        let description = input
            .description
            .as_ref()
            .and_then(|d| errs.take(v::optional_text("description", d.as_deref(), v::MAX_DESCRIPTION_LEN)));
        errs.into_result()?;
        Ok(GroupChanges { name, description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u64) -> TenantId {
        TenantId::generate_from(ulid::Ulid::from_parts(n, 1))
    }
    fn g(n: u64) -> GroupId {
        GroupId::generate_from(ulid::Ulid::from_parts(n, 2))
    }

    #[test]
    fn who_may_join_a_group() {
        use MembershipRefusal::*;
        assert_eq!(may_join(Some(t(1)), Some(Some(t(1)))), Ok(()));
        assert_eq!(may_join(None, Some(Some(t(1)))), Err(GroupGone));
        assert_eq!(may_join(Some(t(1)), None), Err(UserNotFound));
        assert_eq!(may_join(Some(t(1)), Some(Some(t(2)))), Err(OtherTenant));
        assert_eq!(may_join(Some(t(1)), Some(None)), Err(OtherTenant), "platform users join no group");
        assert_eq!((UserNotFound.field(), AlreadyMember.field()), (Some("user_id"), None));
    }

    #[test]
    fn what_may_be_nested() {
        use NestingRefusal::*;
        let facts = |p: Option<u64>, c: Option<u64>, below: bool| NestingFacts {
            parent_tenant: p.map(t),
            child_tenant: c.map(t),
            parent_below_child: below,
        };
        assert_eq!(may_nest(g(1), g(2), &facts(Some(1), Some(1), false)), Ok(()));
        assert_eq!(may_nest(g(1), g(1), &facts(Some(1), Some(1), true)), Err(Itself));
        assert_eq!(may_nest(g(1), g(2), &facts(None, Some(1), false)), Err(ParentGone));
        assert_eq!(may_nest(g(1), g(2), &facts(Some(1), None, false)), Err(ChildNotFound));
        assert_eq!(may_nest(g(1), g(2), &facts(Some(1), Some(2), false)), Err(OtherTenant));
        assert_eq!(may_nest(g(1), g(2), &facts(Some(1), Some(1), true)), Err(Cycle));
        assert_eq!((OtherTenant.field(), Cycle.field()), (Some("child_group_id"), None));
    }
}

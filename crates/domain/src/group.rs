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

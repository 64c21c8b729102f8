//! Partner wire types.

use chrono::{DateTime, Utc};
use scaikey_domain::partner::{Partner, PartnerInput};
use scaikey_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::not_null;
use crate::extract::double_option;

/// A partner.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerOut {
    /// `prt_…`
    #[schema(example = "prt_01JD7Z8K3V5Q9X2M4N6P8R0T2W")]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique among live partners.
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Contact address.
    pub contact_email: Option<String>,
    /// Most live tenants (null: unlimited).
    pub max_tenants: Option<i32>,
    /// Most live users per tenant (null: unlimited).
    pub max_users_per_tenant: Option<i32>,
    /// Most live applications per tenant (null: unlimited).
    pub max_applications_per_tenant: Option<i32>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Partner> for PartnerOut {
    fn from(p: Partner) -> Self {
        PartnerOut {
            id: p.id.to_string(),
            name: p.name,
            slug: p.slug,
            status: p.status.as_str().to_string(),
            contact_email: p.contact_email,
            max_tenants: p.limits.max_tenants,
            max_users_per_tenant: p.limits.max_users_per_tenant,
            max_applications_per_tenant: p.limits.max_applications_per_tenant,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of partners.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    /// Partners, newest first.
    pub items: Vec<PartnerOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /partners`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerCreate {
    /// Display name (1–255 characters).
    #[schema(required = true, value_type = String, example = "Acme Resellers")]
    pub name: Option<String>,
    /// Lower-case letters, digits and hyphens; derived from the name when absent.
    #[schema(example = "acme-resellers")]
    pub slug: Option<String>,
    /// `active` (default) or `suspended`.
    pub status: Option<String>,
    /// Contact address.
    #[serde(default, deserialize_with = "double_option")]
    pub contact_email: Option<Option<String>>,
    /// Most live tenants (null or absent: unlimited).
    #[serde(default, deserialize_with = "double_option")]
    pub max_tenants: Option<Option<i64>>,
    /// Most live users per tenant.
    #[serde(default, deserialize_with = "double_option")]
    pub max_users_per_tenant: Option<Option<i64>>,
    /// Most live applications per tenant.
    #[serde(default, deserialize_with = "double_option")]
    pub max_applications_per_tenant: Option<Option<i64>>,
}

/// Body of `PATCH /partners/{id}`: only the fields present change; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerUpdate {
    /// Display name.
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    /// Slug.
    #[serde(default, deserialize_with = "double_option")]
    pub slug: Option<Option<String>>,
    /// `active` or `suspended`.
    #[serde(default, deserialize_with = "double_option")]
    pub status: Option<Option<String>>,
    /// Contact address (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    pub contact_email: Option<Option<String>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    pub max_tenants: Option<Option<i64>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    pub max_users_per_tenant: Option<Option<i64>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    pub max_applications_per_tenant: Option<Option<i64>>,
}

impl PartnerCreate {
    /// To the domain's raw input.
    #[must_use]
    pub fn into_input(self) -> PartnerInput {
        PartnerInput {
            name: self.name,
            slug: self.slug,
            status: self.status,
            contact_email: self.contact_email,
            max_tenants: self.max_tenants,
            max_users_per_tenant: self.max_users_per_tenant,
            max_applications_per_tenant: self.max_applications_per_tenant,
        }
    }
}

impl PartnerUpdate {
    /// To the domain's raw input, refusing `null` for fields that cannot be null.
    pub fn into_input(self) -> Result<PartnerInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = PartnerInput {
            name: not_null(&mut errs, "name", self.name),
            slug: not_null(&mut errs, "slug", self.slug),
            status: not_null(&mut errs, "status", self.status),
            contact_email: self.contact_email,
            max_tenants: self.max_tenants,
            max_users_per_tenant: self.max_users_per_tenant,
            max_applications_per_tenant: self.max_applications_per_tenant,
        };
        errs.into_result().map(|()| input)
    }
}

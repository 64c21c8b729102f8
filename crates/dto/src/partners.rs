//! Partner wire types.

use chrono::{DateTime, Utc};
use scaikey_domain::partner::{Partner, PartnerInput};
use scaikey_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::not_null;
use super::schema as s;
use crate::double_option;

/// A partner.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerOut {
    /// `prt_…`
    #[schema(value_type = s::PartnerId)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique among live partners.
    pub slug: String,
    /// `active` or `suspended`.
    #[schema(value_type = s::Status)]
    pub status: String,
    /// Contact address.
    #[schema(format = Email)]
    pub contact_email: Option<String>,
    /// Most live tenants (null: unlimited).
    #[schema(minimum = 0)]
    pub max_tenants: Option<i32>,
    /// Most live users per tenant (null: unlimited).
    #[schema(minimum = 0)]
    pub max_users_per_tenant: Option<i32>,
    /// Most live applications per tenant (null: unlimited).
    #[schema(minimum = 0)]
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
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Acme Resellers")]
    pub name: Option<String>,
    /// Lower-case letters, digits and single hyphens; derived from the name when absent.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 63, example = "acme-resellers")]
    pub slug: Option<String>,
    /// `active` (default) or `suspended`.
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
    /// Contact address.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = Email, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    /// Most live tenants (null or absent: unlimited).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub max_tenants: Option<Option<i64>>,
    /// Most live users per tenant.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub max_users_per_tenant: Option<Option<i64>>,
    /// Most live applications per tenant.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub max_applications_per_tenant: Option<Option<i64>>,
}

/// Body of `PATCH /partners/{id}`: only the fields present change; `null` clears a nullable field.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerUpdate {
    /// Display name (1–255 characters; not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<Option<String>>,
    /// Slug (not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 63)]
    pub slug: Option<Option<String>>,
    /// `active` or `suspended` (not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = s::Status)]
    pub status: Option<Option<String>>,
    /// Contact address (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = Email, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub max_tenants: Option<Option<i64>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
    pub max_users_per_tenant: Option<Option<i64>>,
    /// `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 2147483647)]
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

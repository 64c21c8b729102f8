//! Tenant wire types.

use chrono::{DateTime, Utc};
use scaikey_domain::tenant::{Tenant, TenantInput};
use scaikey_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::not_null;
use super::schema as s;
use crate::double_option;

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantOut {
    /// `tnt_…`
    #[schema(value_type = s::TenantId)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique among live tenants.
    pub slug: String,
    /// `active` or `suspended`.
    #[schema(value_type = s::Status)]
    pub status: String,
    /// Contact address.
    #[schema(format = Email)]
    pub contact_email: Option<String>,
    /// The partner it stands under; null directly under the platform.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// Settings: `mfa_required`, `mfa_methods`, `password_policy`, `session_timeout`, …
    #[schema(value_type = s::TenantSettings)]
    pub settings: serde_json::Value,
    /// Branding (free-form).
    #[schema(value_type = Object)]
    pub branding: serde_json::Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Tenant> for TenantOut {
    fn from(t: Tenant) -> Self {
        TenantOut {
            id: t.id.to_string(),
            name: t.name,
            slug: t.slug,
            status: t.status.as_str().to_string(),
            contact_email: t.contact_email,
            partner_id: t.partner_id.map(|p| p.to_string()),
            settings: t.settings,
            branding: t.branding,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A page of tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    /// Tenants, newest first.
    pub items: Vec<TenantOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /tenants`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TenantCreate {
    /// Display name (1–255 characters).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255, example = "Globex")]
    pub name: Option<String>,
    /// Lower-case letters, digits and single hyphens; derived from the name when absent.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 63)]
    pub slug: Option<String>,
    /// `active` (default) or `suspended`.
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
    /// Contact address.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(format = Email, max_length = 254)]
    pub contact_email: Option<Option<String>>,
    /// Partner to stand under (`prt_…`); absent or null: directly under the platform.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<Option<String>>,
    /// Settings. Known keys: `mfa_required` (bool), `mfa_methods` (subset of totp, sms, email,
    /// webauthn), `password_policy` {`min_length`, `require_uppercase`, `require_lowercase`,
    /// `require_digit`, `require_symbol`}, `session_timeout` (minutes, 1–43200).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<s::TenantSettings>)]
    pub settings: Option<Option<serde_json::Value>>,
    /// Branding (any JSON object).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub branding: Option<Option<serde_json::Value>>,
}

/// Body of `PATCH /tenants/{id}`: only the fields present change. `partner_id` moves the tenant
/// (null: to the platform); `settings` and `branding` are replaced whole (null resets to `{}`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TenantUpdate {
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
    /// Cross-partner transfer (`null`: to the platform).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<Option<String>>,
    /// Replaces the settings (`null` resets to `{}`).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<s::TenantSettings>)]
    pub settings: Option<Option<serde_json::Value>>,
    /// Replaces the branding.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub branding: Option<Option<serde_json::Value>>,
}

impl TenantCreate {
    /// To the domain's raw input.
    #[must_use]
    pub fn into_input(self) -> TenantInput {
        TenantInput {
            name: self.name,
            slug: self.slug,
            status: self.status,
            contact_email: self.contact_email,
            partner_id: self.partner_id,
            settings: self.settings,
            branding: self.branding,
        }
    }
}

impl TenantUpdate {
    /// To the domain's raw input, refusing `null` for fields that cannot be null.
    pub fn into_input(self) -> Result<TenantInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = TenantInput {
            name: not_null(&mut errs, "name", self.name),
            slug: not_null(&mut errs, "slug", self.slug),
            status: not_null(&mut errs, "status", self.status),
            contact_email: self.contact_email,
            partner_id: self.partner_id,
            settings: self.settings,
            branding: self.branding,
        };
        errs.into_result().map(|()| input)
    }
}

//! User, group and session wire types.

use chrono::{DateTime, Utc};
use scaikey_app::groups::GroupDetail;
use scaikey_app::ports::Session;
use scaikey_domain::group::{Group, GroupInput};
use scaikey_domain::user::{User, UserInput};
use scaikey_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::not_null;
use super::schema as s;
use crate::double_option;

/// A user (never with a password or hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// `usr_…`
    #[schema(value_type = s::UserId)]
    pub id: String,
    /// Tenant (null for platform super admins).
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// The tenant's partner.
    #[schema(value_type = Option<s::PartnerId>)]
    pub partner_id: Option<String>,
    /// E-mail, unique within the tenant.
    #[schema(format = Email)]
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// `active` or `suspended`.
    #[schema(value_type = s::Status)]
    pub status: String,
    /// Subset of `super_admin`, `partner_admin`, `tenant_admin`.
    #[schema(value_type = Vec<s::Role>)]
    pub roles: Vec<String>,
    /// AD-compatible attributes, kept as sent (`employeeId`, `department`, `manager`, …).
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Value,
    /// MFA enrolled.
    pub mfa_enabled: bool,
    /// The enrolled second factors (`totp`, `webauthn`).
    #[schema(example = json!(["totp"]))]
    pub mfa_methods: Vec<&'static str>,
    /// A link mailed to the address was followed.
    pub email_verified: bool,
    /// The user has a password (an invited user has none until they set one).
    pub password_set: bool,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id.to_string(),
            tenant_id: u.tenant_id.map(|t| t.to_string()),
            partner_id: u.partner_id.map(|p| p.to_string()),
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            display_name: u.display_name,
            status: u.status.as_str().to_string(),
            roles: u.roles.iter().map(|r| r.as_str().to_string()).collect(),
            custom_attributes: u.custom_attributes,
            mfa_enabled: u.mfa_enabled,
            mfa_methods: u.mfa_methods.iter().map(|m| m.as_str()).collect(),
            email_verified: u.email_verified,
            password_set: u.password_set,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Users, newest first.
    pub items: Vec<UserOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserCreate {
    /// E-mail, unique within the tenant.
    #[schema(required = true, value_type = String, format = Email, max_length = 254, example = "ada@example.com")]
    pub email: Option<String>,
    /// Checked against the tenant's `password_policy` (at most 256 characters). Omit it to
    /// invite the user: `password_set` is then false and the user is mailed a link, valid
    /// 7 days, to choose one (422 while ScaiKey cannot send mail).
    #[schema(value_type = Option<String>, min_length = 1, max_length = 256, format = Password)]
    pub password: Option<String>,
    /// Tenant (`tnt_…`); defaults to the caller's tenant for tenant admins; omit only for
    /// platform super admins.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Given name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub first_name: Option<Option<String>>,
    /// Family name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub last_name: Option<Option<String>>,
    /// Display name.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<Option<String>>,
    /// `active` (default) or `suspended`.
    #[schema(value_type = Option<s::Status>)]
    pub status: Option<String>,
    /// Admin roles; only roles at or below the caller's own reach may be granted.
    #[schema(value_type = Option<Vec<s::Role>>)]
    pub roles: Option<Vec<String>>,
    /// Any JSON object.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<Option<serde_json::Value>>,
}

impl UserCreate {
    /// To the domain's raw input.
    #[must_use]
    pub fn into_input(self) -> UserInput {
        UserInput {
            email: self.email,
            tenant_id: self.tenant_id,
            password: self.password,
            first_name: self.first_name,
            last_name: self.last_name,
            display_name: self.display_name,
            status: self.status,
            roles: self.roles,
            custom_attributes: self.custom_attributes,
        }
    }
}

/// Body of `PATCH /users/{id}`. Never carries a password (use `reset-password`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserUpdate {
    /// E-mail (not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    /// Given name (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub first_name: Option<Option<String>>,
    /// Family name (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub last_name: Option<Option<String>>,
    /// Display name (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(min_length = 1, max_length = 255)]
    pub display_name: Option<Option<String>>,
    /// `active` or `suspended`; suspending ends the user's sessions (not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = s::Status)]
    pub status: Option<Option<String>>,
    /// Replaces the roles (escalation rule applies; not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<s::Role>)]
    pub roles: Option<Option<Vec<String>>>,
    /// Replaces the attributes (`null` resets to `{}`).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<Option<serde_json::Value>>,
    /// Refused: PATCH never sets the password (not in the schema).
    #[serde(default)]
    #[schema(ignore)]
    pub password: Option<serde_json::Value>,
    /// Refused: users do not move between tenants (not in the schema).
    #[serde(default)]
    #[schema(ignore)]
    pub tenant_id: Option<serde_json::Value>,
}

impl UserUpdate {
    /// To the domain's raw input, refusing `null` for fields that cannot be null.
    pub fn into_input(self) -> Result<UserInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = UserInput {
            email: not_null(&mut errs, "email", self.email),
            tenant_id: self.tenant_id.map(|v| v.to_string()),
            password: self.password.map(|_| String::new()),
            first_name: self.first_name,
            last_name: self.last_name,
            display_name: self.display_name,
            status: not_null(&mut errs, "status", self.status),
            roles: not_null(&mut errs, "roles", self.roles),
            custom_attributes: self.custom_attributes,
        };
        errs.into_result().map(|()| input)
    }
}

/// Body of `POST /users/{id}/reset-password`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    /// Checked against the tenant's `password_policy` (at most 256 characters).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 256, format = Password)]
    pub new_password: Option<String>,
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    /// `grp_…`
    #[schema(value_type = s::GroupId)]
    pub id: String,
    /// Its tenant.
    #[schema(value_type = s::TenantId)]
    pub tenant_id: String,
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Group> for GroupOut {
    fn from(g: Group) -> Self {
        GroupOut {
            id: g.id.to_string(),
            tenant_id: g.tenant_id.to_string(),
            name: g.name,
            description: g.description,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

/// A direct member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// `usr_…`
    #[schema(value_type = s::UserId)]
    pub user_id: String,
    /// E-mail.
    #[schema(format = Email)]
    pub email: String,
    /// Display name.
    pub display_name: Option<String>,
}

/// A direct child group.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildGroupOut {
    /// `grp_…`
    #[schema(value_type = s::GroupId)]
    pub id: String,
    /// Name.
    pub name: String,
}

/// A group with its direct members and child groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDetailOut {
    /// The group's fields.
    #[serde(flatten)]
    pub group: GroupOut,
    /// Direct members.
    pub members: Vec<MemberOut>,
    /// Direct child groups.
    pub child_groups: Vec<ChildGroupOut>,
}

impl From<GroupDetail> for GroupDetailOut {
    fn from(d: GroupDetail) -> Self {
        GroupDetailOut {
            group: d.group.into(),
            members: d
                .members
                .into_iter()
                .map(|m| MemberOut { user_id: m.user_id.to_string(), email: m.email, display_name: m.display_name })
                .collect(),
            child_groups: d
                .child_groups
                .into_iter()
                .map(|c| ChildGroupOut { id: c.id.to_string(), name: c.name })
                .collect(),
        }
    }
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    /// Groups, newest first.
    pub items: Vec<GroupOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

/// Body of `POST /groups`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupCreate {
    /// Name (unique within the tenant).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4096)]
    pub description: Option<Option<String>>,
    /// Tenant; defaults to the caller's tenant for tenant admins.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
}

impl GroupCreate {
    /// To the domain's raw input.
    #[must_use]
    pub fn into_input(self) -> GroupInput {
        GroupInput { name: self.name, description: self.description, tenant_id: self.tenant_id }
    }
}

/// Body of `PATCH /groups/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupUpdate {
    /// Name (not null).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 255)]
    pub name: Option<Option<String>>,
    /// Description (`null` clears).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4096)]
    pub description: Option<Option<String>>,
}

impl GroupUpdate {
    /// To the domain's raw input.
    pub fn into_input(self) -> Result<GroupInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input =
            GroupInput { name: not_null(&mut errs, "name", self.name), description: self.description, tenant_id: None };
        errs.into_result().map(|()| input)
    }
}

/// Body of `POST /groups/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberAdd {
    /// `usr_…` of a user in the group's tenant.
    #[schema(required = true, value_type = s::UserId)]
    pub user_id: Option<String>,
}

/// Body of `POST /groups/{id}/nested`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NestedAdd {
    /// `grp_…` of a group in the same tenant.
    #[schema(required = true, value_type = s::GroupId)]
    pub child_group_id: Option<String>,
}

/// A membership created.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipOut {
    /// The group.
    #[schema(value_type = s::GroupId)]
    pub group_id: String,
    /// The user.
    #[schema(value_type = s::UserId)]
    pub user_id: String,
}

/// A nesting created.
#[derive(Debug, Serialize, ToSchema)]
pub struct NestingOut {
    /// The parent group.
    #[schema(value_type = s::GroupId)]
    pub group_id: String,
    /// The child group.
    #[schema(value_type = s::GroupId)]
    pub child_group_id: String,
}

/// An SSO session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    /// `ses_…`
    #[schema(value_type = s::SessionId)]
    pub id: String,
    /// The user.
    #[schema(value_type = s::UserId)]
    pub user_id: String,
    /// The user's tenant.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen_at: DateTime<Utc>,
    /// Ends.
    pub expires_at: DateTime<Utc>,
    /// Client IP at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Neither revoked nor expired now.
    pub active: bool,
}

impl SessionOut {
    /// Converts, judging `active` at `now`.
    #[must_use]
    pub fn new(s: Session, now: DateTime<Utc>) -> Self {
        SessionOut {
            active: s.is_active(now),
            id: s.id.to_string(),
            user_id: s.user_id.to_string(),
            tenant_id: s.tenant_id.map(|t| t.to_string()),
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
            revoked_at: s.revoked_at,
        }
    }
}

/// A page of sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Sessions, newest first.
    pub items: Vec<SessionOut>,
    /// Page facts.
    pub pagination: super::common::Pagination,
}

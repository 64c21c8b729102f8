//! Users: people who log in. Platform users (no tenant) are super admins; tenant users may hold
//! `tenant_admin` or, in a tenant with a partner, `partner_admin`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::id::{PartnerId, TenantId, UserId};
use crate::role::{Role, Roles};
use crate::status::Status;
use crate::tenant::MAX_JSON_DOCUMENT_BYTES;
use crate::validation::{self as v, FieldError, ValidationErrors};

/// A stored user (never with its password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Its ID.
    pub id: UserId,
    /// Its tenant; `None` for platform users.
    pub tenant_id: Option<TenantId>,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// E-mail, unique within the tenant (case-insensitive).
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Lifecycle status.
    pub status: Status,
    /// Admin roles.
    pub roles: Roles,
    /// Free-form attributes (AD-compatible names such as `employeeId` are kept as sent).
    pub custom_attributes: Value,
    /// MFA enrolled.
    pub mfa_enabled: bool,
    /// The enrolled second factors.
    pub mfa_methods: Vec<crate::mfa::Method>,
    /// A link mailed to the address was followed.
    pub email_verified: bool,
    /// The user has a password (admin-invited users have none until they set one).
    pub password_set: bool,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Raw user fields as a client sent them (create or PATCH).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInput {
    /// `email`.
    pub email: Option<String>,
    /// `tenant_id` as text (create only).
    pub tenant_id: Option<String>,
    /// `password` (create only).
    pub password: Option<String>,
    /// `first_name`.
    pub first_name: Option<Option<String>>,
    /// `last_name`.
    pub last_name: Option<Option<String>>,
    /// `display_name`.
    pub display_name: Option<Option<String>>,
    /// `status`.
    pub status: Option<String>,
    /// `roles`.
    pub roles: Option<Vec<String>>,
    /// `custom_attributes` (`null` resets to `{}`).
    pub custom_attributes: Option<Option<Value>>,
}

/// A validated user to create; the tenant, password policy and role rules are checked by the
/// service against stored data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewUser {
    /// E-mail.
    pub email: String,
    /// Tenant, if any.
    pub tenant_id: Option<TenantId>,
    /// Plain password, to be checked against the tenant's policy and hashed; `None` for an
    /// invited user, who sets one through the mailed link.
    pub password: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Status.
    pub status: Status,
    /// Roles.
    pub roles: Roles,
    /// Attributes (an object).
    pub custom_attributes: Value,
}

/// Validated changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct UserChanges {
    /// New e-mail.
    pub email: Option<String>,
    /// New given name (`Some(None)` clears).
    pub first_name: Option<Option<String>>,
    /// New family name.
    pub last_name: Option<Option<String>>,
    /// New display name.
    pub display_name: Option<Option<String>>,
    /// New status.
    pub status: Option<Status>,
    /// New roles (replaces the set).
    pub roles: Option<Roles>,
    /// New attributes (replaces the object).
    pub custom_attributes: Option<Value>,
}

impl UserChanges {
    /// `true` when nothing would change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == UserChanges::default()
    }
}

fn name(field: &str, value: Option<&str>) -> Result<Option<String>, FieldError> {
    value.map(|x| v::text(field, x, v::MAX_NAME_LEN)).transpose()
}

fn roles(value: &[String]) -> Result<Roles, FieldError> {
    Roles::parse_all(value.iter().map(String::as_str)).map_err(|bad| {
        FieldError::new(
            "roles",
            "enum",
            format!("Unknown role '{bad}': use 'super_admin', 'partner_admin' or 'tenant_admin'"),
        )
    })
}

fn attributes(value: Option<Value>) -> Result<Value, FieldError> {
    let value = value.unwrap_or_else(|| Value::Object(Map::new()));
    if !value.is_object() {
        return Err(FieldError::new("custom_attributes", "dict_type", "Input should be an object"));
    }
    v::storable_document("custom_attributes", &value)?;
    if value.to_string().len() > MAX_JSON_DOCUMENT_BYTES {
        return Err(FieldError::new(
            "custom_attributes",
            "too_long",
            format!("Document must be at most {MAX_JSON_DOCUMENT_BYTES} bytes"),
        ));
    }
    Ok(value)
}

fn status(value: &str) -> Result<Status, FieldError> {
    v::one_of("status", value, &Status::ALL, Status::as_str)
}

impl NewUser {
    /// Validates a create request, reporting every problem.
    ///
    /// ```
    /// use scaikey_domain::user::{NewUser, UserInput};
    /// let u = NewUser::validate(UserInput {
    ///     email: Some("Ada@Example.com".into()),
    ///     password: Some("correct horse".into()),
    ///     tenant_id: Some("tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV".into()),
    ///     custom_attributes: Some(Some(serde_json::json!({"employeeId": "E1"}))),
    ///     ..Default::default()
    /// }).unwrap();
    /// assert_eq!(u.custom_attributes["employeeId"], "E1");
    /// ```
    pub fn validate(input: UserInput) -> Result<NewUser, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let email = match input.email.as_deref() {
            Some(e) => errs.take(v::email("email", e)),
            None => {
                errs.push(FieldError::missing("email"));
                None
            }
        };
        let tenant_id = match input.tenant_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => errs.take(v::id::<TenantId>("tenant_id", t)).map(Some),
            None => Some(None),
        };
        // Without a password the user is invited by mail to choose one (contract §10).
        let password = Some(input.password);
        let first_name = errs.take(name("first_name", input.first_name.flatten().as_deref()));
        let last_name = errs.take(name("last_name", input.last_name.flatten().as_deref()));
        let display_name = errs.take(name("display_name", input.display_name.flatten().as_deref()));
        let status = match input.status.as_deref() {
            Some(s) => errs.take(status(s)),
            None => Some(Status::Active),
        };
        let roles = errs.take(roles(input.roles.as_deref().unwrap_or_default()));
        let custom_attributes = errs.take(attributes(input.custom_attributes.flatten()));
        if let (Some(None), Some(r)) = (&tenant_id, &roles)
            && !r.contains(Role::SuperAdmin)
        {
            errs.push(FieldError::new(
                "tenant_id",
                "missing",
                "Only super admins stand outside a tenant: give a tenant_id",
            ));
        }
        errs.clone().into_result()?;
        match (email, tenant_id, password, first_name, last_name, display_name, status, roles, custom_attributes) {
            (
                Some(email),
                Some(tenant_id),
                Some(password),
                Some(first_name),
                Some(last_name),
                Some(display_name),
                Some(status),
                Some(roles),
                Some(custom_attributes),
            ) => Ok(NewUser {
                email,
                tenant_id,
                password,
                first_name,
                last_name,
                display_name,
                status,
                roles,
                custom_attributes,
            }),
            _ => Err(errs),
        }
    }
}

impl UserChanges {
    /// Validates a PATCH request, reporting every problem. A `password` is refused: passwords
    /// change through `reset-password` only.
    pub fn validate(input: UserInput) -> Result<UserChanges, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        if input.password.is_some() {
            errs.push(FieldError::new(
                "password",
                "extra_forbidden",
                "PATCH never sets the password: use reset-password",
            ));
        }
        if input.tenant_id.is_some() {
            errs.push(FieldError::new("tenant_id", "extra_forbidden", "A user cannot move to another tenant"));
        }
        let email = input.email.as_deref().and_then(|e| errs.take(v::email("email", e)));
        let first_name = input.first_name.as_ref().and_then(|x| errs.take(name("first_name", x.as_deref())));
        let last_name = input.last_name.as_ref().and_then(|x| errs.take(name("last_name", x.as_deref())));
        let display_name = input.display_name.as_ref().and_then(|x| errs.take(name("display_name", x.as_deref())));
        let status = input.status.as_deref().and_then(|s| errs.take(status(s)));
        let roles = input.roles.as_deref().and_then(|r| errs.take(roles(r)));
        let custom_attributes = input.custom_attributes.map(attributes).and_then(|r| errs.take(r));
        errs.into_result()?;
        Ok(UserChanges { email, first_name, last_name, display_name, status, roles, custom_attributes })
    }
}

/// Checks a role set against where the user lives: `partner_admin` needs a tenant that has a
/// partner; `super_admin` users stand outside tenants.
pub fn check_roles_fit(roles: Roles, tenant: Option<TenantId>, partner: Option<PartnerId>) -> Result<(), FieldError> {
    if roles.contains(Role::PartnerAdmin) && partner.is_none() {
        return Err(FieldError::new(
            "roles",
            "value_error",
            "partner_admin needs a user in a tenant that stands under a partner",
        ));
    }
    if roles.contains(Role::SuperAdmin) && tenant.is_some() {
        return Err(FieldError::new("roles", "value_error", "super_admin is for platform users (no tenant_id)"));
    }
    if tenant.is_none() && !roles.contains(Role::SuperAdmin) {
        return Err(FieldError::new("roles", "value_error", "a platform user must keep super_admin"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> UserInput {
        UserInput {
            email: Some("a@b.example".into()),
            password: Some("pw".into()),
            tenant_id: Some("tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV".into()),
            ..Default::default()
        }
    }

    #[test]
    fn create_rules() {
        assert!(NewUser::validate(base()).is_ok());
        let e = NewUser::validate(UserInput::default()).unwrap_err();
        let locs: Vec<_> = e.errors().iter().map(|x| x.loc[0].as_str()).collect();
        assert_eq!(locs, ["email", "tenant_id"]);
        // No password: an invited user.
        let invited = NewUser::validate(UserInput { password: None, ..base() }).unwrap();
        assert_eq!(invited.password, None);
        let e = NewUser::validate(UserInput {
            roles: Some(vec!["root".into()]),
            custom_attributes: Some(Some(json!([1]))),
            status: Some("gone".into()),
            ..base()
        })
        .unwrap_err();
        let locs: Vec<_> = e.errors().iter().map(|x| x.loc[0].as_str()).collect();
        assert_eq!(locs, ["status", "roles", "custom_attributes"]);
        // A platform user must be a super admin.
        let ok = NewUser::validate(UserInput { tenant_id: None, roles: Some(vec!["super_admin".into()]), ..base() });
        assert!(ok.unwrap().tenant_id.is_none());
    }

    #[test]
    fn patch_never_carries_a_password() {
        let e = UserChanges::validate(UserInput { password: Some("x".into()), ..Default::default() }).unwrap_err();
        assert_eq!(e.errors()[0].loc, ["password"]);
        let c = UserChanges::validate(UserInput { first_name: Some(None), ..Default::default() }).unwrap();
        assert_eq!(c.first_name, Some(None));
    }

    #[test]
    fn roles_must_fit_the_place() {
        let t = Some(TenantId::generate_from(ulid::Ulid::from_parts(1, 1)));
        let p = Some(PartnerId::generate_from(ulid::Ulid::from_parts(1, 2)));
        let r = |x: &[Role]| x.iter().copied().collect::<Roles>();
        assert!(check_roles_fit(r(&[Role::PartnerAdmin]), t, p).is_ok());
        assert!(check_roles_fit(r(&[Role::PartnerAdmin]), t, None).is_err());
        assert!(check_roles_fit(r(&[Role::SuperAdmin]), t, p).is_err());
        assert!(check_roles_fit(r(&[Role::SuperAdmin]), None, None).is_ok());
        assert!(check_roles_fit(r(&[]), None, None).is_err());
        assert!(check_roles_fit(r(&[]), t, None).is_ok());
    }
}

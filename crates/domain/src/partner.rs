//! Partners: resellers that run tenants.

use chrono::{DateTime, Utc};

use crate::id::PartnerId;
use crate::limits::PartnerLimits;
use crate::status::Status;
use crate::validation::{self as v, FieldError, ValidationErrors};

/// A stored partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its ID.
    pub id: PartnerId,
    /// Display name.
    pub name: String,
    /// Unique among live partners.
    pub slug: String,
    /// Lifecycle status.
    pub status: Status,
    /// Who to contact.
    pub contact_email: Option<String>,
    /// Resource limits.
    pub limits: PartnerLimits,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Raw partner fields as a client sent them (create or PATCH). `Some(None)` is an explicit null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerInput {
    /// `name`.
    pub name: Option<String>,
    /// `slug`; derived from the name on create when absent.
    pub slug: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `contact_email`.
    pub contact_email: Option<Option<String>>,
    /// `max_tenants`.
    pub max_tenants: Option<Option<i64>>,
    /// `max_users_per_tenant`.
    pub max_users_per_tenant: Option<Option<i64>>,
    /// `max_applications_per_tenant`.
    pub max_applications_per_tenant: Option<Option<i64>>,
}

/// A validated partner to create.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewPartner {
    /// Display name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Status (default `active`).
    pub status: Status,
    /// Contact.
    pub contact_email: Option<String>,
    /// Limits.
    pub limits: PartnerLimits,
}

/// Validated changes to a partner; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PartnerChanges {
    /// New name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New status.
    pub status: Option<Status>,
    /// New contact (`Some(None)` clears it).
    pub contact_email: Option<Option<String>>,
    /// New `max_tenants`.
    pub max_tenants: Option<Option<i32>>,
    /// New `max_users_per_tenant`.
    pub max_users_per_tenant: Option<Option<i32>>,
    /// New `max_applications_per_tenant`.
    pub max_applications_per_tenant: Option<Option<i32>>,
}

pub(crate) fn status(value: &str) -> Result<Status, FieldError> {
    v::one_of("status", value, &Status::ALL, Status::as_str)
}

pub(crate) fn contact(value: Option<&str>) -> Result<Option<String>, FieldError> {
    value.map(|e| v::email("contact_email", e)).transpose()
}

pub(crate) fn non_null(field: &str) -> FieldError {
    FieldError::new(field, "value_error", "Field may not be null")
}

fn limits_changes(errs: &mut ValidationErrors, input: &PartnerInput) -> [Option<Option<i32>>; 3] {
    let mut one = |name: &str, value: Option<Option<i64>>| value.and_then(|val| errs.take(v::limit(name, val)));
    [
        one("max_tenants", input.max_tenants),
        one("max_users_per_tenant", input.max_users_per_tenant),
        one("max_applications_per_tenant", input.max_applications_per_tenant),
    ]
}

impl NewPartner {
    /// Validates a create request, reporting every problem.
    ///
    /// ```
    /// use scaikey_domain::partner::{NewPartner, PartnerInput};
    /// let p = NewPartner::validate(PartnerInput { name: Some("Acme EU".into()), ..Default::default() }).unwrap();
    /// assert_eq!(p.slug, "acme-eu");
    /// assert!(NewPartner::validate(PartnerInput::default()).is_err());
    /// ```
    pub fn validate(input: PartnerInput) -> Result<NewPartner, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
            None => {
                errs.push(FieldError::missing("name"));
                None
            }
        };
        let slug = match (&input.slug, &name) {
            (Some(s), _) => errs.take(v::slug("slug", s)),
            (None, Some(n)) => errs.take(v::slug("slug", &v::slugify(n))),
            (None, None) => None,
        };
        let status = match input.status.as_deref() {
            Some(s) => errs.take(status(s)),
            None => Some(Status::Active),
        };
        let contact_email = errs.take(contact(input.contact_email.clone().flatten().as_deref()));
        let [max_tenants, max_users, max_apps] = limits_changes(&mut errs, &input);
        errs.into_result()?;
        match (name, slug, status, contact_email) {
            (Some(name), Some(slug), Some(status), Some(contact_email)) => Ok(NewPartner {
                name,
                slug,
                status,
                contact_email,
                limits: PartnerLimits {
                    max_tenants: max_tenants.flatten(),
                    max_users_per_tenant: max_users.flatten(),
                    max_applications_per_tenant: max_apps.flatten(),
                },
            }),
            _ => Err(ValidationErrors::single(FieldError::missing("name"))),
        }
    }
}

impl PartnerChanges {
    /// Validates a PATCH request, reporting every problem.
    pub fn validate(input: PartnerInput) -> Result<PartnerChanges, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = input.name.as_deref().and_then(|n| errs.take(v::text("name", n, v::MAX_NAME_LEN)));
        let slug = input.slug.as_deref().and_then(|s| errs.take(v::slug("slug", s)));
        let status = input.status.as_deref().and_then(|s| errs.take(status(s)));
        let contact_email = input.contact_email.as_ref().and_then(|c| errs.take(contact(c.as_deref())));
        let [max_tenants, max_users_per_tenant, max_applications_per_tenant] = limits_changes(&mut errs, &input);
        errs.into_result()?;
        Ok(PartnerChanges {
            name,
            slug,
            status,
            contact_email,
            max_tenants,
            max_users_per_tenant,
            max_applications_per_tenant,
        })
    }

    /// `true` when nothing would change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == PartnerChanges::default()
    }
}

/// Why a partner cannot be deleted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeletionRefusal {
    /// Tenants still stand under it: they move to another partner or go first.
    #[error("Partner still has {0} live tenant(s); move or delete them first")]
    LiveTenants(i64),
}

impl crate::group::Refusal for DeletionRefusal {
    fn field(&self) -> Option<&'static str> {
        None
    }
}

/// A partner may be deleted once no live tenant stands under it (`live_tenants`, counted under
/// the partner's row lock).
///
/// # Errors
/// [`DeletionRefusal::LiveTenants`] otherwise.
pub const fn may_delete(live_tenants: i64) -> Result<(), DeletionRefusal> {
    if live_tenants > 0 { Err(DeletionRefusal::LiveTenants(live_tenants)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_goes_only_once_its_tenants_have() {
        assert_eq!(may_delete(0), Ok(()));
        let e = may_delete(2).unwrap_err();
        assert_eq!(e.to_string(), "Partner still has 2 live tenant(s); move or delete them first");
        assert_eq!(crate::group::Refusal::field(&e), None, "a 409: the request is fine, the state is not");
    }

    #[test]
    fn create_reports_every_problem() {
        let input = PartnerInput {
            name: Some(String::new()),
            slug: Some("Bad Slug".into()),
            status: Some("frozen".into()),
            contact_email: Some(Some("nope".into())),
            max_tenants: Some(Some(-3)),
            ..Default::default()
        };
        let errs = NewPartner::validate(input).unwrap_err();
        let fields: Vec<_> = errs.errors().iter().map(|e| e.loc[0].as_str()).collect();
        assert_eq!(fields, ["name", "slug", "status", "contact_email", "max_tenants"]);
    }

    #[test]
    fn create_defaults() {
        let p = NewPartner::validate(PartnerInput {
            name: Some("  Acme  ".into()),
            max_tenants: Some(Some(5)),
            max_users_per_tenant: Some(None),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((p.name.as_str(), p.slug.as_str(), p.status), ("Acme", "acme", Status::Active));
        assert_eq!(p.limits.max_tenants, Some(5));
        assert_eq!(p.limits.max_users_per_tenant, None);
        // A name without slug-able characters needs an explicit slug.
        let e = NewPartner::validate(PartnerInput { name: Some("!!!".into()), ..Default::default() });
        assert_eq!(e.unwrap_err().errors()[0].loc, vec!["slug"]);
    }

    #[test]
    fn patch_distinguishes_absent_and_null() {
        let c = PartnerChanges::validate(PartnerInput {
            contact_email: Some(None),
            max_tenants: Some(None),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.contact_email, Some(None));
        assert_eq!(c.max_tenants, Some(None));
        assert_eq!(c.max_users_per_tenant, None);
        assert!(PartnerChanges::validate(PartnerInput::default()).unwrap().is_empty());
    }
}

//! Creates, PATCHes and approvals of applications, and registration requests: what is kept,
//! what is defaulted, and that every problem is reported at the caller's field.

use super::*;
use crate::id::TenantId;
use crate::registration::{NewRegistration, RegistrationInput};
use crate::test_fixtures::{application, partner_id};

fn tenant(n: u64) -> TenantId {
    TenantId::generate_from(ulid::Ulid::from_parts(n, 3))
}

fn locs(e: &ValidationErrors) -> Vec<String> {
    e.errors().iter().map(|x| x.loc.join(".")).collect()
}

fn web(scope: &str) -> ApplicationInput {
    ApplicationInput {
        name: Some("Billing".into()),
        application_type: Some("WEB".into()),
        scope: Some(scope.into()),
        redirect_uris: Some(vec!["https://billing.example.com/cb".into()]),
        ..ApplicationInput::default()
    }
}

#[test]
fn a_create_reports_every_missing_and_invalid_field_at_once() {
    let input = ApplicationInput {
        token_lifetime: Some(5),
        status: Some("ASLEEP".into()),
        id_token_signed_response_alg: Some("HS256".into()),
        ..ApplicationInput::default()
    };
    let e = NewApplication::validate(&input, Reach::Platform).unwrap_err();
    assert_eq!(
        locs(&e),
        ["name", "application_type", "scope", "token_lifetime", "id_token_signed_response_alg", "status"]
    );
}

#[test]
fn a_create_keeps_what_was_sent_and_defaults_the_rest() {
    let a = NewApplication::validate(&web("GLOBAL"), Reach::Platform).unwrap();
    assert_eq!((a.name.as_str(), a.scope, a.partner_id, a.tenant_id), ("Billing", ScopeLevel::Global, None, None));
    assert_eq!(a.settings.grant_types, ApplicationType::Web.default_grant_types());
    assert_eq!(a.token_lifetime, DEFAULT_TOKEN_LIFETIME);
    assert_eq!(a.id_token_signed_response_alg, IdTokenAlg::default());
    assert_eq!(a.status, Status::Active);
    assert!(a.first_party && !a.assignment_required && !a.token_exchange_allowed);
    let input = ApplicationInput {
        first_party: Some(false),
        assignment_required: Some(true),
        token_lifetime: Some(600),
        status: Some("suspended".into()),
        ..web("GLOBAL")
    };
    let a = NewApplication::validate(&input, Reach::Platform).unwrap();
    assert_eq!(
        (a.first_party, a.assignment_required, a.token_lifetime, a.status),
        (false, true, 600, Status::Suspended)
    );
}

#[test]
fn a_tenant_admin_who_names_no_scope_asks_for_an_application_of_their_tenant() {
    let caller = Reach::Tenant { tenant: tenant(1), partner: Some(partner_id(1)) };
    let input = ApplicationInput { scope: None, ..web("") };
    let a = NewApplication::validate(&input, caller).unwrap();
    assert_eq!((a.scope, a.tenant_id), (ScopeLevel::Tenant, Some(tenant(1))));
    // Another tenant named stays named: whether the caller may write there is the access rule's.
    let other = ApplicationInput { tenant_id: Some(tenant(2).to_string()), ..input.clone() };
    assert_eq!(NewApplication::validate(&other, caller).unwrap().tenant_id, Some(tenant(2)));
    // Anyone else must say the scope.
    let e = NewApplication::validate(&input, Reach::Partner(partner_id(1))).unwrap_err();
    assert_eq!(locs(&e), ["scope"]);
}

#[test]
fn settings_are_checked_only_once_type_and_scope_are_known() {
    let input =
        ApplicationInput { application_type: None, redirect_uris: Some(vec!["ftp://x".into()]), ..web("GLOBAL") };
    assert_eq!(locs(&NewApplication::validate(&input, Reach::Platform).unwrap_err()), ["application_type"]);
    let input = ApplicationInput { redirect_uris: Some(vec!["ftp://x".into()]), ..web("GLOBAL") };
    assert_eq!(locs(&NewApplication::validate(&input, Reach::Platform).unwrap_err()), ["redirect_uris.0"]);
}

#[test]
fn admin_scopes_are_for_global_service_applications_only() {
    let service = |scope: &str| ApplicationInput {
        name: Some("Ops".into()),
        application_type: Some("SERVICE".into()),
        scope: Some(scope.into()),
        partner_id: (scope == "PARTNER").then(|| partner_id(1).to_string()),
        allowed_scopes: Some(vec!["admin:read".into()]),
        ..ApplicationInput::default()
    };
    assert!(NewApplication::validate(&service("GLOBAL"), Reach::Platform).is_ok());
    let e = NewApplication::validate(&service("PARTNER"), Reach::Platform).unwrap_err();
    assert_eq!(locs(&e), ["allowed_scopes"]);
}

#[test]
fn a_patch_merges_settings_with_the_stored_ones_and_checks_them_whole() {
    let app = application(ApplicationType::Web);
    let input =
        ApplicationInput { allowed_origins: Some(vec!["https://app.example.com".into()]), ..Default::default() };
    let p = ApplicationPatch::validate(&input, &app).unwrap();
    let s = p.settings.unwrap();
    assert_eq!(s.allowed_origins, ["https://app.example.com"]);
    assert_eq!(s.redirect_uris, app.redirect_uris, "unsent settings keep their stored value");
    // Removing every redirect URI of a code-flow client breaks the whole: refused.
    let input = ApplicationInput { redirect_uris: Some(vec![]), ..Default::default() };
    assert_eq!(locs(&ApplicationPatch::validate(&input, &app).unwrap_err()), ["redirect_uris"]);
}

#[test]
fn a_patch_of_nothing_is_empty_and_fixed_fields_are_refused() {
    let app = application(ApplicationType::Spa);
    assert!(ApplicationPatch::validate(&ApplicationInput::default(), &app).unwrap().is_empty());
    let p =
        ApplicationPatch::validate(&ApplicationInput { first_party: Some(false), ..Default::default() }, &app).unwrap();
    assert!(!p.is_empty());
    assert_eq!(p.settings, None, "flags alone leave the settings alone");
    let input = ApplicationInput { immutable_present: vec!["scope", "application_type"], ..Default::default() };
    assert_eq!(locs(&input.fixed_fields_untouched().unwrap_err()), ["scope", "application_type"]);
    assert!(ApplicationInput::default().fixed_fields_untouched().is_ok());
    let bad = ApplicationInput { name: Some(" ".into()), token_lifetime: Some(86_401), ..Default::default() };
    assert_eq!(locs(&ApplicationPatch::validate(&bad, &app).unwrap_err()), ["name", "token_lifetime"]);
}

fn request() -> RegistrationInput {
    RegistrationInput {
        scope: Some("TENANT".into()),
        tenant_id: Some(tenant(1).to_string()),
        name: Some("Reports".into()),
        application_type: Some("SPA".into()),
        redirect_uris: Some(vec!["https://reports.example.com/cb".into()]),
        contact_email: Some("dev@reports.example.com".into()),
        ..RegistrationInput::default()
    }
}

#[test]
fn a_request_asks_the_default_scopes_and_names_its_errors_as_it_does() {
    let r = NewRegistration::validate(&request()).unwrap();
    assert_eq!(r.settings.allowed_scopes, ["openid", "profile", "email"]);
    assert_eq!((r.scope, r.tenant_id), (ScopeLevel::Tenant, Some(tenant(1))));
    let input = RegistrationInput {
        requested_scopes: Some(vec!["bad scope".into()]),
        requested_resources: Some(vec!["not a uri".into()]),
        website_url: Some("http://reports.example.com".into()),
        contact_email: None,
        ..request()
    };
    let e = NewRegistration::validate(&input).unwrap_err();
    assert_eq!(locs(&e), ["contact_email", "website_url", "requested_scopes.0", "requested_resources.0"]);
}

#[test]
fn an_approved_request_becomes_the_application_it_asked_for() {
    use crate::registration::RegistrationStatus;
    let asked = NewRegistration::validate(&request()).unwrap();
    let r = RegistrationRequest {
        id: crate::id::RegistrationRequestId::generate_from(ulid::Ulid::from_parts(5, 5)),
        scope: asked.scope,
        partner_id: Some(partner_id(1)),
        tenant_id: asked.tenant_id,
        name: asked.name.clone(),
        description: Some("For reports".into()),
        settings: asked.settings.clone(),
        contact_email: asked.contact_email.clone(),
        contact_name: None,
        organization_name: None,
        website_url: None,
        status: RegistrationStatus::Pending,
        created_by: None,
        reviewed_by: None,
        reviewed_at: None,
        review_notes: None,
        rejection_reason: None,
        application_id: None,
        expires_at: crate::test_fixtures::t0(),
        created_at: crate::test_fixtures::t0(),
        updated_at: crate::test_fixtures::t0(),
    };
    let a = NewApplication::approved(&r, false);
    assert_eq!((a.name.as_str(), a.description.as_deref()), ("Reports", Some("For reports")));
    assert_eq!((a.scope, a.partner_id, a.tenant_id), (ScopeLevel::Tenant, Some(partner_id(1)), Some(tenant(1))));
    assert_eq!(a.settings, asked.settings);
    assert_eq!((a.token_lifetime, a.status, a.first_party), (DEFAULT_TOKEN_LIFETIME, Status::Active, true));
    assert!(!NewApplication::approved(&r, true).first_party, "a self-registered client is a third party");
}

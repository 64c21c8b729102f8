//! Identity-provider and agent writes: each protocol's mandatory and foreign fields, defaults
//! of a create, and what a PATCH may not name.

use super::*;

const PEM: &str = include_str!("../../../tests/fixtures/saml-idp.pem");

fn locs(e: &ValidationErrors) -> Vec<String> {
    e.errors().iter().map(|x| x.loc.join(".")).collect()
}

fn oidc() -> IdpInput {
    IdpInput {
        name: Some("Corporate SSO".into()),
        protocol: Some("OIDC".into()),
        issuer: Some(Some("https://login.corp.example".into())),
        client_id: Some(Some("scaikey".into())),
        client_secret: Some(Some("s3cret".into())),
        ..IdpInput::default()
    }
}

#[test]
fn a_new_oidc_provider_gets_the_default_scopes_and_hands_its_secret_back_to_seal() {
    let (f, secret) = IdpFields::validate(&oidc(), Protocol::Oidc, Write::Create, false).unwrap();
    assert_eq!(f.scopes.as_deref(), Some(&DEFAULT_OIDC_SCOPES.map(String::from)[..]));
    assert_eq!((f.protocol, f.enabled, f.jit_provisioning), (Some(Protocol::Oidc), Some(true), Some(true)));
    assert_eq!(f.attribute_mapping, Some(BTreeMap::new()));
    assert_eq!(f.client_secret_enc, None, "sealing is the service's");
    assert_eq!(secret, Some(Some("s3cret".into())));
}

#[test]
fn each_protocol_requires_its_fields_and_refuses_the_others() {
    let e = IdpFields::validate(
        &IdpInput { name: Some("x".into()), ..IdpInput::default() },
        Protocol::Oidc,
        Write::Create,
        false,
    )
    .unwrap_err();
    assert_eq!(locs(&e), ["issuer", "client_id"]);
    let saml = IdpInput {
        name: Some("Okta".into()),
        entity_id: Some(Some("urn:okta".into())),
        sso_url: Some(Some("https://okta.example/sso".into())),
        certificate: Some(Some(PEM.into())),
        scopes: Some(vec!["openid".into()]),
        ..IdpInput::default()
    };
    let e = IdpFields::validate(&saml, Protocol::Saml, Write::Create, false).unwrap_err();
    assert_eq!(locs(&e), ["scopes"]);
    assert_eq!(e.errors()[0].kind, "extra_forbidden");
    let saml = IdpInput { scopes: None, ..saml };
    let (f, secret) = IdpFields::validate(&saml, Protocol::Saml, Write::Create, false).unwrap();
    assert_eq!((f.scopes, secret), (None, None), "SAML has neither scopes nor a secret");
}

#[test]
fn a_patch_may_leave_mandatory_fields_out_but_never_clear_them() {
    let patch = IdpInput { enabled: Some(false), ..IdpInput::default() };
    let (f, _) = IdpFields::validate(&patch, Protocol::Oidc, Write::Update, false).unwrap();
    assert_eq!(f, IdpFields { enabled: Some(false), ..IdpFields::default() }, "a PATCH defaults nothing");
    let cleared = IdpInput { issuer: Some(None), ..IdpInput::default() };
    assert_eq!(locs(&IdpFields::validate(&cleared, Protocol::Oidc, Write::Update, false).unwrap_err()), ["issuer"]);
    let no_openid = IdpInput { scopes: Some(vec!["email".into()]), ..IdpInput::default() };
    assert_eq!(locs(&IdpFields::validate(&no_openid, Protocol::Oidc, Write::Update, false).unwrap_err()), ["scopes"]);
    assert_eq!(
        IdpInput { protocol: Some("SAML".into()), ..IdpInput::default() }.fixed_fields_untouched().unwrap_err().loc,
        ["protocol"]
    );
    assert_eq!(
        IdpInput { tenant_id: Some("x".into()), ..IdpInput::default() }.fixed_fields_untouched().unwrap_err().loc,
        ["tenant_id"]
    );
}

#[test]
fn loopback_issuers_are_accepted_only_where_allowed_and_secrets_have_a_length() {
    let local = IdpInput { issuer: Some(Some("http://127.0.0.1:4000".into())), ..oidc() };
    assert_eq!(locs(&IdpFields::validate(&local, Protocol::Oidc, Write::Create, false).unwrap_err()), ["issuer"]);
    assert!(IdpFields::validate(&local, Protocol::Oidc, Write::Create, true).is_ok());
    let long = IdpInput { client_secret: Some(Some("x".repeat(MAX_SECRET_LEN + 1))), ..oidc() };
    assert_eq!(locs(&IdpFields::validate(&long, Protocol::Oidc, Write::Create, false).unwrap_err()), ["client_secret"]);
    assert_eq!(IdpInput::default().protocol().unwrap_err().kind, "missing");
    assert_eq!(
        IdpInput { protocol: Some("LDAP".into()), ..IdpInput::default() }.protocol().unwrap_err().loc,
        ["protocol"]
    );
}

#[test]
fn a_new_agent_starts_active_with_nothing_allowed_and_a_patch_defaults_nothing() {
    let a =
        AgentFields::validate(&AgentInput { name: Some("Triage bot".into()), ..AgentInput::default() }, Write::Create)
            .unwrap();
    assert_eq!((a.status, a.allowed_tools, a.allowed_scopes), (Some(Status::Active), Some(vec![]), Some(vec![])));
    assert_eq!(locs(&AgentFields::validate(&AgentInput::default(), Write::Create).unwrap_err()), ["name"]);
    assert_eq!(AgentFields::validate(&AgentInput::default(), Write::Update).unwrap(), AgentFields::default());
    let bad = AgentInput {
        allowed_tools: Some(vec!["rm -rf".into()]),
        allowed_scopes: Some(vec!["two words".into()]),
        rate_limit_rpm: Some(Some(0)),
        status: Some("gone".into()),
        ..AgentInput::default()
    };
    assert_eq!(
        locs(&AgentFields::validate(&bad, Write::Update).unwrap_err()),
        ["allowed_tools.0", "allowed_scopes.0", "rate_limit_rpm", "status"]
    );
    assert!(AgentInput { tenant_id: Some("t".into()), ..AgentInput::default() }.fixed_fields_untouched().is_err());
}

#[test]
fn a_new_resource_goes_to_the_named_tenant_or_the_tenant_admins_own() {
    let own = TenantId::generate_from(ulid::Ulid::from_parts(1, 3));
    let other = TenantId::generate_from(ulid::Ulid::from_parts(2, 3));
    let admin = Reach::Tenant { tenant: own, partner: None };
    assert_eq!(target_tenant(admin, None).unwrap(), own);
    assert_eq!(target_tenant(admin, Some(" ")).unwrap(), own, "a blank tenant_id names none");
    assert_eq!(target_tenant(admin, Some(&other.to_string())).unwrap(), other);
    assert_eq!(target_tenant(Reach::Platform, None).unwrap_err().kind, "missing");
    assert_eq!(target_tenant(Reach::Platform, Some("tnt_nope")).unwrap_err().loc, ["tenant_id"]);
}

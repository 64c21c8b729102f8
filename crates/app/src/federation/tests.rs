//! Identity providers and agents against mocks: who may write where, what reaches storage
//! (sealed secrets, audit records), and what never does.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use scaikey_domain::access::Denial;
use scaikey_domain::federation::{Agent, AgentFields, IdentityProvider, Protocol};
use scaikey_domain::id::{AgentId, IdentityProviderId, PartnerId, TenantId};
use scaikey_domain::status::Status;
use scaikey_domain::tenant::Tenant;
use serde_json::json;
use ulid::Ulid;

use super::{AgentInput, AgentService, IdpInput, IdpService};
use crate::error::AppError;
use crate::ports::{
    MockAgentRepository, MockClientSecrets, MockIdGenerator, MockIdpRepository, MockSecretSealer, MockTenantRepository,
};
use crate::test_support::{ctx_super, ctx_tenant_admin_parts, fixed_clock, ids};
use scaikey_domain::audit::action;

fn tenant(id: TenantId, partner: Option<PartnerId>) -> Tenant {
    Tenant {
        id,
        partner_id: partner,
        name: "Acme".into(),
        slug: "acme".into(),
        status: Status::Active,
        contact_email: None,
        settings: json!({}),
        branding: json!({}),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn other_tenant() -> TenantId {
    TenantId::generate_from(Ulid::from_parts(99, 1))
}

/// Tenants as the repository knows them: those listed, each under the partner given.
fn tenants(known: Vec<(TenantId, Option<PartnerId>)>) -> MockTenantRepository {
    let mut t = MockTenantRepository::new();
    t.expect_get().returning(move |id| Ok(known.iter().find(|(k, _)| *k == id).map(|(k, p)| tenant(*k, *p))));
    t
}

fn idp(id: IdentityProviderId, tenant: TenantId, partner: Option<PartnerId>, protocol: Protocol) -> IdentityProvider {
    IdentityProvider {
        id,
        tenant_id: tenant,
        partner_id: partner,
        name: "Corporate SSO".into(),
        protocol,
        enabled: true,
        issuer: Some("https://login.corp.example".into()),
        client_id: Some("scaikey".into()),
        client_secret_set: true,
        scopes: vec!["openid".into()],
        entity_id: None,
        sso_url: None,
        certificate: None,
        jit_provisioning: true,
        attribute_mapping: BTreeMap::new(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn oidc_input(tenant: Option<TenantId>) -> IdpInput {
    IdpInput {
        name: Some("Corporate SSO".into()),
        protocol: Some("OIDC".into()),
        tenant_id: tenant.map(|t| t.to_string()),
        issuer: Some(Some("https://login.corp.example".into())),
        client_id: Some(Some("scaikey".into())),
        client_secret: Some(Some("upstream-secret".into())),
        ..IdpInput::default()
    }
}

/// A sealer that marks what it sealed and checks the row ID is the associated data.
fn sealer() -> MockSecretSealer {
    let mut s = MockSecretSealer::new();
    s.expect_seal().returning(|p, aad| Ok([b"sealed:".as_slice(), aad, b":", p].concat()));
    s
}

fn idps(repo: MockIdpRepository, tenants: MockTenantRepository) -> IdpService {
    IdpService::new(Arc::new(repo), Arc::new(tenants), Arc::new(sealer()), Arc::new(fixed_clock()), Arc::new(ids(3)))
}

#[tokio::test]
async fn a_tenant_admin_creates_a_provider_in_their_tenant_with_its_secret_sealed_to_the_row() {
    let (ctx, t, p) = ctx_tenant_admin_parts();
    let mut repo = MockIdpRepository::new();
    repo.expect_insert()
        .withf(move |id, tenant, f, _, audit| {
            let aad = id.to_string();
            *tenant == t
                && f.protocol == Some(Protocol::Oidc)
                && f.client_secret_enc
                    == Some(Some([b"sealed:".as_slice(), aad.as_bytes(), b":upstream-secret"].concat()))
                && audit.action == action::IDENTITY_PROVIDER_CREATE
                && audit.resource_id.as_deref() == Some(aad.as_str())
                && audit.tenant_id == Some(t)
                && audit.partner_id == Some(p)
                && audit.details == json!({"protocol": "OIDC"})
        })
        .times(1)
        .returning(move |id, tenant, _, _, _| Ok(idp(id, tenant, Some(p), Protocol::Oidc)));
    let svc = idps(repo, tenants(vec![(t, Some(p))]));
    let made = svc.create(&ctx, oidc_input(None)).await.unwrap();
    assert_eq!(made.tenant_id, t);
}

#[tokio::test]
async fn a_tenant_admin_naming_another_tenant_is_refused_before_anything_is_stored() {
    let (ctx, t, p) = ctx_tenant_admin_parts();
    let svc = idps(MockIdpRepository::new(), tenants(vec![(t, Some(p)), (other_tenant(), Some(p))]));
    let e = svc.create(&ctx, oidc_input(Some(other_tenant()))).await.unwrap_err();
    assert!(matches!(e, AppError::Denied(Denial::Forbidden, _)), "{e:?}");
}

#[tokio::test]
async fn invalid_provider_input_never_reaches_storage_or_the_sealer() {
    let svc = IdpService::new(
        Arc::new(MockIdpRepository::new()),
        Arc::new(MockTenantRepository::new()),
        Arc::new(MockSecretSealer::new()),
        Arc::new(fixed_clock()),
        Arc::new(MockIdGenerator::new()),
    );
    let no_protocol = IdpInput { protocol: None, ..oidc_input(None) };
    let AppError::Invalid(e) = svc.create(&ctx_super(), no_protocol).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["protocol"]);
    // A platform admin must say which tenant.
    let AppError::Invalid(e) = svc.create(&ctx_super(), oidc_input(None)).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["tenant_id"]);
    let http = IdpInput { issuer: Some(Some("http://login.corp.example".into())), ..oidc_input(None) };
    let AppError::Invalid(e) = svc.create(&ctx_super(), http).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["issuer"]);
}

#[tokio::test]
async fn a_patch_naming_the_protocol_is_refused_before_any_read() {
    let svc = idps(MockIdpRepository::new(), MockTenantRepository::new());
    let id = IdentityProviderId::generate_from(Ulid::from_parts(5, 1));
    let patch = IdpInput { protocol: Some("SAML".into()), ..IdpInput::default() };
    let AppError::Invalid(e) = svc.update(&ctx_super(), id, patch).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["protocol"]);
}

#[tokio::test]
async fn an_empty_patch_reads_and_a_secret_patch_is_sealed_and_audited_as_changed() {
    let (t, p) = (other_tenant(), PartnerId::generate_from(Ulid::from_parts(99, 2)));
    let id = IdentityProviderId::generate_from(Ulid::from_parts(5, 1));
    let mut repo = MockIdpRepository::new();
    repo.expect_get().returning(move |id| Ok(Some(idp(id, t, Some(p), Protocol::Oidc))));
    repo.expect_update()
        .withf(|_, f, _, audit| {
            f.client_secret_enc.as_ref().is_some_and(|s| s.as_ref().is_some_and(|s| s.ends_with(b":rotated")))
                && f.name.is_none()
                && audit.action == action::IDENTITY_PROVIDER_UPDATE
                && audit.details == json!({"client_secret_changed": true})
        })
        .times(1)
        .returning(move |id, _, _, _| Ok(Some(idp(id, t, Some(p), Protocol::Oidc))));
    let svc = idps(repo, MockTenantRepository::new());
    let same = svc.update(&ctx_super(), id, IdpInput::default()).await.unwrap();
    assert_eq!(same.id, id, "nothing to change: the stored provider, no write");
    let patch = IdpInput { client_secret: Some(Some("rotated".into())), ..IdpInput::default() };
    svc.update(&ctx_super(), id, patch).await.unwrap();
}

#[tokio::test]
async fn another_tenants_provider_and_a_vanished_one_are_both_404() {
    let (ctx, _, p) = ctx_tenant_admin_parts();
    let theirs = IdentityProviderId::generate_from(Ulid::from_parts(5, 1));
    let gone = IdentityProviderId::generate_from(Ulid::from_parts(5, 2));
    let mut repo = MockIdpRepository::new();
    repo.expect_get().returning(move |id| Ok((id == theirs).then(|| idp(id, other_tenant(), Some(p), Protocol::Oidc))));
    repo.expect_delete().returning(|_, _, _| Ok(false));
    let svc = idps(repo, MockTenantRepository::new());
    // Another tenant's provider does not exist for this admin: a 404, as for any read.
    assert!(matches!(svc.get(&ctx, theirs).await, Err(AppError::NotFound("Identity provider"))));
    assert!(matches!(svc.delete(&ctx, theirs).await, Err(AppError::NotFound("Identity provider"))));
    assert!(matches!(svc.get(&ctx_super(), gone).await, Err(AppError::NotFound("Identity provider"))));
    // Read, then gone before the delete landed: still a 404, never a success.
    let svc2 = {
        let mut repo = MockIdpRepository::new();
        repo.expect_get().returning(move |id| Ok(Some(idp(id, other_tenant(), None, Protocol::Oidc))));
        repo.expect_delete().times(1).returning(|_, _, _| Ok(false));
        idps(repo, MockTenantRepository::new())
    };
    assert!(matches!(svc2.delete(&ctx_super(), theirs).await, Err(AppError::NotFound(_))));
}

fn agent(id: AgentId, tenant: TenantId, partner: Option<PartnerId>, client_id: Option<&str>) -> Agent {
    Agent {
        id,
        tenant_id: tenant,
        partner_id: partner,
        name: "Triage bot".into(),
        description: None,
        allowed_tools: vec![],
        allowed_scopes: vec![],
        rate_limit_rpm: None,
        status: Status::Active,
        client_id: client_id.map(String::from),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn agents(repo: MockAgentRepository, tenants: MockTenantRepository) -> AgentService {
    let mut secrets = MockClientSecrets::new();
    secrets.expect_generate().returning(|| Ok(("fresh-secret".into(), b"digest".to_vec())));
    AgentService::new(Arc::new(repo), Arc::new(tenants), Arc::new(fixed_clock()), Arc::new(ids(4)))
        .with_secrets(Arc::new(secrets))
}

#[tokio::test]
async fn a_new_agent_is_stored_active_in_the_callers_tenant_with_an_audit_record() {
    let (ctx, t, p) = ctx_tenant_admin_parts();
    let mut repo = MockAgentRepository::new();
    repo.expect_insert()
        .withf(move |_, tenant, f, _, audit| {
            *tenant == t
                && *f
                    == AgentFields {
                        name: Some("Triage bot".into()),
                        description: None,
                        allowed_tools: Some(vec!["search".into()]),
                        allowed_scopes: Some(vec![]),
                        rate_limit_rpm: Some(Some(30)),
                        status: Some(Status::Active),
                    }
                && audit.action == action::AGENT_CREATE
                && audit.tenant_id == Some(t)
                && audit.partner_id == Some(p)
        })
        .times(1)
        .returning(move |id, tenant, _, _, _| Ok(agent(id, tenant, Some(p), None)));
    let svc = agents(repo, tenants(vec![(t, Some(p))]));
    let input = AgentInput {
        name: Some("Triage bot".into()),
        allowed_tools: Some(vec!["search".into()]),
        rate_limit_rpm: Some(Some(30)),
        ..AgentInput::default()
    };
    assert_eq!(svc.create(&ctx, input).await.unwrap().tenant_id, t);
}

#[tokio::test]
async fn an_agent_never_moves_tenant_and_bad_fields_never_reach_storage() {
    let svc = agents(MockAgentRepository::new(), MockTenantRepository::new());
    let id = AgentId::generate_from(Ulid::from_parts(6, 1));
    let mv = AgentInput { tenant_id: Some(other_tenant().to_string()), ..AgentInput::default() };
    let AppError::Invalid(e) = svc.update(&ctx_super(), id, mv).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["tenant_id"]);
    let bad = AgentInput { rate_limit_rpm: Some(Some(0)), ..AgentInput::default() };
    let AppError::Invalid(e) = svc.update(&ctx_super(), id, bad).await.unwrap_err() else { panic!() };
    assert_eq!(e.errors()[0].loc, ["rate_limit_rpm"]);
}

#[tokio::test]
async fn a_rotation_keeps_the_agents_client_id_and_mints_one_only_the_first_time() {
    let t = other_tenant();
    let (first, again) =
        (AgentId::generate_from(Ulid::from_parts(6, 1)), AgentId::generate_from(Ulid::from_parts(6, 2)));
    let mut repo = MockAgentRepository::new();
    repo.expect_get().returning(move |id| Ok(Some(agent(id, t, None, (id == again).then_some("ag_kept")))));
    repo.expect_set_secret()
        .withf(|_, _, digest, _, audit| digest == b"digest" && audit.action == action::AGENT_ROTATE_SECRET)
        .times(2)
        .returning(|_, client_id, _, _, _| Ok(Some(client_id.to_string())));
    let svc = agents(repo, MockTenantRepository::new());
    let minted = svc.rotate_secret(&ctx_super(), first).await.unwrap();
    assert!(minted.client_id.starts_with(crate::oauth::AGENT_CLIENT_PREFIX), "{}", minted.client_id);
    assert_eq!(minted.client_secret, "fresh-secret");
    assert_eq!(svc.rotate_secret(&ctx_super(), again).await.unwrap().client_id, "ag_kept");
}

#[tokio::test]
async fn a_tenant_admin_cannot_rotate_another_tenants_agent() {
    let (ctx, _, _) = ctx_tenant_admin_parts();
    let mut repo = MockAgentRepository::new();
    repo.expect_get().returning(|id| Ok(Some(agent(id, other_tenant(), None, None))));
    let svc = agents(repo, MockTenantRepository::new());
    let e = svc.rotate_secret(&ctx, AgentId::generate_from(Ulid::from_parts(6, 1))).await.unwrap_err();
    assert!(matches!(e, AppError::NotFound("Agent")), "out of reach reads as absent: {e:?}");
}

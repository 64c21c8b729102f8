//! Identity providers (with the callback URL to register upstream) and MCP agents in the
//! console.

use scaikey_app::AppError;
use scaikey_app::context::RequestContext;
use scaikey_app::federation::{AgentInput, IdpInput};
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::{AgentFilter, IdpFilter};
use scaikey_domain::federation::{Agent, IdentityProvider, Protocol};
use scaikey_domain::id::{AgentId, IdentityProviderId};
use scaikey_domain::validation::ValidationErrors;

use super::directory::{checked, or_dash, statuses, time, yes_no};
use super::forms::{Field, Posted};
use super::resource::{Acted, ActionForm, Cell, Created, Extras, Resource, Row, Section, Shown, confirmed};
use crate::WebState;

pub(crate) struct IdentityProviders;

fn mapping_json(i: &IdentityProvider) -> serde_json::Value {
    serde_json::to_value(&i.attribute_mapping).unwrap_or_default()
}

impl Resource for IdentityProviders {
    const PATH: &'static str = "/console/identity-providers";
    const TITLE: &'static str = "Identity providers";
    const ONE: &'static str = "identity provider";
    const COLUMNS: &'static [&'static str] = &["Name", "Protocol", "Tenant", "Enabled"];
    type Id = IdentityProviderId;
    type Item = IdentityProvider;
    type Input = IdpInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<IdentityProvider>, AppError> {
        s.identity_providers.list(ctx, &IdpFilter { search, ..IdpFilter::default() }, page).await
    }

    fn row(i: IdentityProvider) -> (String, Vec<String>) {
        (i.id.to_string(), vec![i.name, i.protocol.as_str().into(), i.tenant_id.to_string(), yes_no(i.enabled)])
    }

    fn fields(i: Option<&IdentityProvider>) -> Vec<Field> {
        let text = |f: fn(&IdentityProvider) -> Option<String>| i.and_then(f).unwrap_or_default();
        let mut fields = vec![Field::text("name", "Name", i.map(|i| i.name.clone()).unwrap_or_default()).required()];
        if i.is_none() {
            fields.extend([
                Field::select("protocol", "Protocol", Protocol::ALL.iter().map(|p| (p.as_str(), p.as_str())), "OIDC"),
                Field::text("tenant_id", "Tenant ID", "").hint("A tenant admin's own tenant when left empty."),
            ]);
        }
        let mapping = i.map(mapping_json);
        // A new provider's form holds both protocols' fields; a stored one's only its own.
        let oidc = i.is_none_or(|i| i.protocol == Protocol::Oidc);
        let saml = i.is_none_or(|i| i.protocol == Protocol::Saml);
        fields.push(Field::check(
            "enabled",
            "Enabled (a button on the tenant's login page)",
            i.is_none_or(|i| i.enabled),
        ));
        if oidc {
            fields.extend([
                Field::text("issuer", "Issuer (OIDC)", text(|i| i.issuer.clone()))
                    .hint("The upstream's issuer URL; its discovery document is read from it."),
                Field::text("client_id", "Client ID (OIDC)", text(|i| i.client_id.clone())),
                Field::password("client_secret", "Client secret (OIDC)").hint(
                    if i.is_some_and(|i| i.client_secret_set) {
                        "Set; leave empty to keep it."
                    } else {
                        "Stored sealed; never shown again."
                    },
                ),
                Field::lines("scopes", "Scopes (OIDC)", &i.map(|i| i.scopes.clone()).unwrap_or_default()).hint(
                    "One per line; openid, profile and email for a new provider when left empty, unchanged otherwise.",
                ),
            ]);
        }
        if saml {
            fields.extend([
                Field::text("entity_id", "Entity ID (SAML)", text(|i| i.entity_id.clone())),
                Field::text("sso_url", "Single sign-on URL (SAML)", text(|i| i.sso_url.clone())),
                Field::area("certificate", "Signing certificate (SAML, PEM)", text(|i| i.certificate.clone())),
            ]);
        }
        fields.extend([
            Field::check(
                "jit_provisioning",
                "Create unknown users on their first sign-in",
                i.is_none_or(|i| i.jit_provisioning),
            ),
            Field::json("attribute_mapping", "Attribute mapping", mapping.as_ref())
                .hint("A JSON object: custom attribute → upstream claim, copied on each sign-in."),
        ]);
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<IdpInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let protocol = f.text("protocol");
        let is_saml = protocol.as_deref() == Some("SAML");
        let input = IdpInput {
            name: f.text("name"),
            protocol: if creating { protocol } else { None },
            tenant_id: if creating { f.given("tenant_id") } else { None },
            enabled: Some(f.flag("enabled")),
            issuer: f.nullable("issuer"),
            client_id: f.nullable("client_id"),
            // Empty keeps the stored secret: it is never written back into the page.
            client_secret: f.given("client_secret").map(Some),
            // Empty: the defaults on create, unchanged on edit.
            scopes: f.lines("scopes").filter(|s| !s.is_empty()),
            entity_id: f.nullable("entity_id"),
            sso_url: f.nullable("sso_url"),
            certificate: f.nullable("certificate"),
            jit_provisioning: Some(f.flag("jit_provisioning")),
            attribute_mapping: f.json("attribute_mapping", &mut errs),
        };
        // A create names only its protocol's fields, as an API client would.
        let input = match (creating, is_saml) {
            (true, true) => IdpInput { issuer: None, client_id: None, client_secret: None, scopes: None, ..input },
            (true, false) => IdpInput { entity_id: None, sso_url: None, certificate: None, ..input },
            _ => input,
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: IdpInput) -> Result<Created, AppError> {
        let i = s.identity_providers.create(ctx, input).await?;
        Ok(Created { id: i.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: IdentityProviderId) -> Result<IdentityProvider, AppError> {
        s.identity_providers.get(ctx, id).await
    }

    async fn update(
        s: &WebState,
        ctx: &RequestContext,
        id: IdentityProviderId,
        input: IdpInput,
    ) -> Result<(), AppError> {
        s.identity_providers.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: IdentityProviderId) -> Result<(), AppError> {
        s.identity_providers.delete(ctx, id).await
    }

    fn name(i: &IdentityProvider) -> String {
        i.name.clone()
    }

    fn version(i: &IdentityProvider) -> chrono::DateTime<chrono::Utc> {
        i.updated_at
    }

    fn facts(i: &IdentityProvider) -> Vec<(&'static str, String)> {
        let mut facts = vec![
            ("ID", i.id.to_string()),
            ("Protocol", i.protocol.as_str().into()),
            ("Tenant", i.tenant_id.to_string()),
            ("Enabled", yes_no(i.enabled)),
        ];
        match i.protocol {
            Protocol::Oidc => facts.extend([
                ("Issuer", or_dash(i.issuer.as_ref())),
                ("Client ID", or_dash(i.client_id.as_ref())),
                ("Client secret", if i.client_secret_set { "set" } else { "none" }.into()),
                ("Scopes", i.scopes.join(" ")),
            ]),
            Protocol::Saml => facts.extend([
                ("Entity ID", or_dash(i.entity_id.as_ref())),
                ("Single sign-on URL", or_dash(i.sso_url.as_ref())),
                ("Certificate", if i.certificate.is_some() { "set" } else { "none" }.into()),
            ]),
        }
        facts.extend([
            ("Create unknown users", yes_no(i.jit_provisioning)),
            ("Attribute mapping", serde_json::to_string_pretty(&mapping_json(i)).unwrap_or_default()),
            ("Created", time(i.created_at)),
        ]);
        facts
    }

    async fn extras(
        s: &WebState,
        _ctx: &RequestContext,
        id: IdentityProviderId,
        i: &IdentityProvider,
    ) -> Result<Extras, AppError> {
        let url = scaikey_domain::federated::callback_url(s.oidc.issuer(), id, i.protocol);
        let what = match i.protocol {
            Protocol::Oidc => "Redirect URI of the upstream client",
            Protocol::Saml => "Assertion consumer service URL",
        };
        Ok(Extras {
            sections: vec![Section {
                id: "callback",
                title: "Register this URL upstream",
                columns: vec!["Where", "URL"],
                rows: vec![Row { cells: vec![Cell::text(what), Cell::text(url)], remove: None }],
                empty: "",
                tree: false,
            }],
            actions: Vec::new(),
        })
    }
}

pub(crate) struct Agents;

impl Resource for Agents {
    const PATH: &'static str = "/console/agents";
    const TITLE: &'static str = "Agents";
    const ONE: &'static str = "agent";
    const COLUMNS: &'static [&'static str] = &["Name", "Tenant", "Tools", "Status"];
    type Id = AgentId;
    type Item = Agent;
    type Input = AgentInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Agent>, AppError> {
        s.agents.list(ctx, &AgentFilter { search, ..AgentFilter::default() }, page).await
    }

    fn row(a: Agent) -> (String, Vec<String>) {
        (a.id.to_string(), vec![a.name, a.tenant_id.to_string(), a.allowed_tools.join(", "), a.status.as_str().into()])
    }

    fn fields(a: Option<&Agent>) -> Vec<Field> {
        let mut fields = vec![Field::text("name", "Name", a.map(|a| a.name.clone()).unwrap_or_default()).required()];
        if a.is_none() {
            fields.push(Field::text("tenant_id", "Tenant ID", "").hint("A tenant admin's own tenant when left empty."));
        }
        fields.extend([
            Field::text("description", "Description", a.and_then(|a| a.description.clone()).unwrap_or_default()),
            Field::lines("allowed_tools", "Allowed tools", &a.map(|a| a.allowed_tools.clone()).unwrap_or_default())
                .hint("MCP tool names, one per line."),
            Field::lines("allowed_scopes", "Allowed scopes", &a.map(|a| a.allowed_scopes.clone()).unwrap_or_default())
                .hint("One per line."),
            Field::number("rate_limit_rpm", "Calls a minute", a.and_then(|a| a.rate_limit_rpm))
                .hint("Empty: unlimited."),
            Field::select("status", "Status", statuses(), a.map_or("active", |a| a.status.as_str())),
        ]);
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<AgentInput, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let input = AgentInput {
            name: f.text("name"),
            tenant_id: if creating { f.given("tenant_id") } else { None },
            description: f.nullable("description"),
            allowed_tools: f.lines("allowed_tools"),
            allowed_scopes: f.lines("allowed_scopes"),
            rate_limit_rpm: f.integer("rate_limit_rpm", &mut errs),
            status: f.text("status"),
        };
        checked(errs, input)
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: AgentInput) -> Result<Created, AppError> {
        let a = s.agents.create(ctx, input).await?;
        Ok(Created { id: a.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: AgentId) -> Result<Agent, AppError> {
        s.agents.get(ctx, id).await
    }

    async fn update(s: &WebState, ctx: &RequestContext, id: AgentId, input: AgentInput) -> Result<(), AppError> {
        s.agents.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: AgentId) -> Result<(), AppError> {
        s.agents.delete(ctx, id).await
    }

    fn name(a: &Agent) -> String {
        a.name.clone()
    }

    fn version(a: &Agent) -> chrono::DateTime<chrono::Utc> {
        a.updated_at
    }

    fn facts(a: &Agent) -> Vec<(&'static str, String)> {
        vec![
            ("ID", a.id.to_string()),
            ("Tenant", a.tenant_id.to_string()),
            ("Description", or_dash(a.description.as_ref())),
            ("Allowed tools", a.allowed_tools.join("\n")),
            ("Allowed scopes", a.allowed_scopes.join("\n")),
            ("Calls a minute", a.rate_limit_rpm.map_or_else(|| "unlimited".to_string(), |n| n.to_string())),
            ("Client ID", or_dash(a.client_id.as_ref())),
            ("Status", a.status.as_str().into()),
            ("Created", time(a.created_at)),
        ]
    }

    async fn extras(_: &WebState, _: &RequestContext, id: AgentId, _: &Agent) -> Result<Extras, AppError> {
        let base = format!("{}/{id}", Self::PATH);
        Ok(Extras {
            sections: Vec::new(),
            actions: vec![
                ActionForm::new(&base, "rotate_secret", "Credentials", "Issue a new client secret")
                    .hint("For the agent's client_credentials sign-in; shown once, and the old secret stops working.")
                    .destructive(),
            ],
        })
    }

    async fn act(
        s: &WebState,
        ctx: &RequestContext,
        id: AgentId,
        verb: &str,
        f: &Posted<'_>,
    ) -> Result<Acted, AppError> {
        match verb {
            "rotate_secret" => {
                confirmed(f)?;
                let agent = s.agents.get(ctx, id).await?;
                let creds = s.agents.rotate_secret(ctx, id).await?;
                Ok(Acted::Shown(Shown {
                    title: format!("New secret: {}", agent.name),
                    lead: "Copy the client secret now: it is not shown again.",
                    values: vec![
                        ("client_id", "Client ID", creds.client_id),
                        ("client_secret", "Client secret", creds.client_secret),
                    ],
                    back: format!("{}/{id}", Self::PATH),
                }))
            }
            _ => Err(AppError::NotFound("Action")),
        }
    }
}

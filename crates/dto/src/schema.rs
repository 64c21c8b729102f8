//! Schema-only types for the OpenAPI document: the wire enums, ID shapes, tenant settings, list
//! parameters and the reusable error answers. Nothing here is serialised; the enums and ID
//! patterns are built from the domain's own lists and prefixes, so the document cannot drift from
//! what the server accepts.
//!
//! Handlers name the answers that depend on them (success, 409, …); the ones every request of a
//! kind can get (401, 403, 404, 413, 422, 503) are added by rule in `scaikey_http::openapi`.

use scaikey_app::page::MAX_PER_PAGE;
use scaikey_domain::password::{MAX_PASSWORD_LEN, MIN_POLICY_LENGTH};
use scaikey_domain::tenant::{MAX_SESSION_TIMEOUT_MINUTES, MFA_METHODS};
use scaikey_domain::{application, audit, federation, id, oauth_scope, registration, role, scope, status};
use serde_json::json;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToResponse, ToSchema};

use super::common::{ErrorDetail, HTTPValidationError};

/// Largest `page` accepted (`page × per_page` must fit the server's 32-bit offset).
pub const MAX_PAGE: u32 = u32::MAX / MAX_PER_PAGE;

/// The characters after an ID's prefix: a canonical ULID (26 upper-case Crockford base32
/// characters, the first at most `7` so the value fits 128 bits).
const ULID_PATTERN: &str = "[0-7][0-9A-HJKMNP-TV-Z]{25}";

/// The JSON Schema `pattern` of IDs with `prefix`.
#[must_use]
pub fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}_{ULID_PATTERN}$")
}

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).description(Some(description)).into()
}

macro_rules! enum_schema {
    ($($(#[doc = $doc:literal])+ $name:ident => $values:expr;)+) => {$(
        $(#[doc = $doc])+
        #[derive(Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum(concat!($($doc),+).trim(), $values)
            }
        }

        impl ToSchema for $name {}
    )+};
}

/// Every actor type; the match makes a new variant a compile error here.
const ACTOR_TYPES: [audit::ActorType; 3] = {
    use audit::ActorType as A;
    const fn covered(a: A) {
        match a {
            A::User | A::Application | A::Anonymous => {}
        }
    }
    covered(A::User);
    [A::User, A::Application, A::Anonymous]
};

enum_schema! {
    /// `active` or `suspended`.
    Status => status::Status::ALL.map(status::Status::as_str);
    /// An admin role.
    Role => role::Role::ALL.map(role::Role::as_str);
    /// The kind of application.
    ApplicationType => application::ApplicationType::ALL.map(application::ApplicationType::as_str);
    /// Where an application or registration request lives: the platform, one partner or one
    /// tenant.
    ScopeLevel => scope::ScopeLevel::ALL.map(scope::ScopeLevel::as_str);
    /// A registration request's state (a pending request past `expires_at` reads `EXPIRED`).
    RegistrationStatus => registration::RegistrationStatus::ALL.map(registration::RegistrationStatus::as_str);
    /// An identity provider's protocol.
    Protocol => federation::Protocol::ALL.map(federation::Protocol::as_str);
    /// The outcome of an audited action.
    AuditResult => audit::AuditResult::ALL.map(audit::AuditResult::as_str);
    /// Who acted.
    ActorType => ACTOR_TYPES.map(audit::ActorType::as_str);
    /// An OAuth grant type ScaiKey knows.
    GrantType => application::GRANT_TYPES;
    /// A second-factor method.
    MfaMethod => MFA_METHODS;
    /// Always `Bearer`.
    TokenType => ["Bearer"];
    /// A JSON Web Key's type.
    JwkType => ["EC", "RSA"];
    /// A signing algorithm.
    SigningAlg => ["ES256", "RS256"];
    /// What a signing key does now.
    KeyState => ["signing", "pending", "verify_only", "retired"];
}

/// `GET /healthz`.
#[derive(Debug, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(pattern = "^ok$")]
    pub status: String,
}

/// `GET /readyz`.
#[derive(Debug, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` (503).
    #[schema(pattern = "^(ready|unavailable)$")]
    pub status: String,
    /// Why not ready (503 only).
    #[schema(required = false, value_type = String)]
    pub detail: Option<String>,
}

/// A public signing key (RFC 7517).
#[derive(Debug, ToSchema)]
pub struct Jwk {
    /// Key type.
    #[schema(value_type = JwkType)]
    pub kty: String,
    /// Always `sig`.
    #[schema(rename = "use", pattern = "^sig$")]
    pub use_: String,
    /// The algorithm the key signs with.
    #[schema(value_type = SigningAlg)]
    pub alg: String,
    /// Key ID, the `kid` of the tokens it signs.
    pub kid: String,
    /// EC: the curve (`P-256`).
    #[schema(required = false, value_type = String)]
    pub crv: Option<String>,
    /// EC: x coordinate (base64url).
    #[schema(required = false, value_type = String)]
    pub x: Option<String>,
    /// EC: y coordinate (base64url).
    #[schema(required = false, value_type = String)]
    pub y: Option<String>,
    /// RSA: modulus (base64url).
    #[schema(required = false, value_type = String)]
    pub n: Option<String>,
    /// RSA: exponent (base64url).
    #[schema(required = false, value_type = String)]
    pub e: Option<String>,
}

/// `GET /.well-known/jwks.json`.
#[derive(Debug, ToSchema)]
pub struct Jwks {
    /// The keys whose tokens are valid, the active one first.
    pub keys: Vec<Jwk>,
}

/// `GET /.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`: the
/// OpenID Connect Discovery / RFC 8414 members that apply; further members may appear.
#[derive(Debug, ToSchema)]
pub struct Discovery {
    /// The `iss` of every token.
    pub issuer: String,
    /// Where the signing keys are.
    #[schema(format = "uri")]
    pub jwks_uri: String,
    /// The token endpoint.
    #[schema(required = false, value_type = String, format = "uri")]
    pub token_endpoint: Option<String>,
    /// Grant types the token endpoint serves.
    #[schema(required = false, value_type = Vec<GrantType>)]
    pub grant_types_supported: Option<Vec<String>>,
    /// Reserved scopes ScaiKey gives a meaning to; applications add their own.
    #[schema(required = false, value_type = Vec<String>)]
    pub scopes_supported: Option<Vec<String>>,
    /// Response types of the authorization endpoint (none yet).
    pub response_types_supported: Vec<String>,
    /// `public`.
    #[schema(required = false, value_type = Vec<String>)]
    pub subject_types_supported: Option<Vec<String>>,
    /// The signing algorithm.
    #[schema(required = false, value_type = Vec<SigningAlg>)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// The form of `POST /oauth/token` (`application/x-www-form-urlencoded`).
#[derive(Debug, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials` (anything else: `unsupported_grant_type`).
    #[schema(pattern = "^client_credentials$")]
    pub grant_type: String,
    /// Space-separated scopes, a subset of the application's `allowed_scopes`; all of them when
    /// absent.
    #[schema(required = false, value_type = String)]
    pub scope: Option<String>,
    /// RFC 8707 resource indicator from the application's `allowed_resources`; the token's `aud`.
    #[schema(required = false, value_type = String, format = "uri")]
    pub resource: Option<String>,
    /// The client ID, when not given by HTTP Basic.
    #[schema(required = false, value_type = String)]
    pub client_id: Option<String>,
    /// The client secret, when not given by HTTP Basic.
    #[schema(required = false, value_type = String, format = Password)]
    pub client_secret: Option<String>,
}

macro_rules! id_schema {
    ($($name:ident => $what:literal;)+) => {$(
        #[doc = concat!("The ID of ", $what, ".")]
        #[derive(Debug)]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let prefix = id::$name::PREFIX;
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(id_pattern(prefix)))
                    .description(Some(format!(
                        "The ID of {}: `{prefix}_` and a ULID (26 upper-case Crockford base32 characters).",
                        $what
                    )))
                    .examples([json!(format!("{prefix}_01JD7Z8K3V5Q9X2M4N6P8R0T2W"))])
                    .into()
            }
        }

        impl ToSchema for $name {}
    )+};
}

id_schema! {
    PartnerId => "a partner";
    TenantId => "a tenant";
    UserId => "a user";
    GroupId => "a group";
    ApplicationId => "an application";
    IdentityProviderId => "an identity provider";
    AgentId => "an MCP agent";
    SessionId => "an SSO session";
    RegistrationRequestId => "a registration request";
    AuditEventId => "an audit event";
    AssignmentId => "an application assignment";
}

/// An absolute URL: `https`, or `http` only for `localhost`, without a fragment.
#[derive(Debug)]
pub struct RedirectUri;

impl PartialSchema for RedirectUri {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .max_length(Some(application::MAX_URI_LEN))
            .description(Some("An absolute URL: `https`, or `http` only for `localhost`, without a fragment."))
            .examples([json!("https://app.example.com/callback")])
            .into()
    }
}

impl ToSchema for RedirectUri {}

/// A web origin: `https://host[:port]` (`http` only for `localhost`), no path.
#[derive(Debug)]
pub struct Origin;

impl PartialSchema for Origin {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .description(Some("A web origin: `https://host[:port]` (`http` only for `localhost`), no path."))
            .examples([json!("https://app.example.com")])
            .into()
    }
}

impl ToSchema for Origin {}

/// A resource indicator (RFC 8707): an absolute URI without a fragment.
#[derive(Debug)]
pub struct ResourceIndicator;

impl PartialSchema for ResourceIndicator {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .max_length(Some(oauth_scope::MAX_RESOURCE_LEN))
            .description(Some("A resource indicator (RFC 8707): an absolute URI without a fragment."))
            .examples([json!("https://api.example.com")])
            .into()
    }
}

impl ToSchema for ResourceIndicator {}

/// An OAuth scope (RFC 6749 §3.3 scope-token).
#[derive(Debug)]
pub struct ScopeToken;

impl PartialSchema for ScopeToken {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!(r"^[!#-\[\]-~]{{1,{}}}$", oauth_scope::MAX_SCOPE_LEN)))
            .description(Some(
                "An OAuth scope (RFC 6749 §3.3 scope-token): printable ASCII without space, `\"` or `\\`. \
                 `admin:read` and `admin:write` only for GLOBAL SERVICE applications.",
            ))
            .examples([json!("reports:read")])
            .into()
    }
}

impl ToSchema for ScopeToken {}

/// An identity provider's scope or an MCP tool name: 1–128 letters, digits or `_ . : / -`.
#[derive(Debug)]
pub struct NameToken;

impl PartialSchema for NameToken {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Za-z0-9_.:/-]{1,128}$"))
            .description(Some("1–128 letters, digits or `_ . : / -`."))
            .into()
    }
}

impl ToSchema for NameToken {}

/// A tenant's settings. The known keys are checked; other keys are kept as sent.
#[derive(Debug)]
pub struct TenantSettings;

impl PartialSchema for TenantSettings {
    fn schema() -> RefOr<Schema> {
        let boolean = |d: &str| ObjectBuilder::new().schema_type(Type::Boolean).description(Some(d)).build();
        let policy = ObjectBuilder::new()
            .description(Some("Password rules for the tenant's users; unknown rules are refused."))
            .property(
                "min_length",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(MIN_POLICY_LENGTH as f64))
                    .maximum(Some(MAX_PASSWORD_LEN as f64))
                    .description(Some("Fewest characters (default 8).")),
            )
            .property("require_uppercase", boolean("Needs an upper-case letter."))
            .property("require_lowercase", boolean("Needs a lower-case letter."))
            .property("require_digit", boolean("Needs a digit."))
            .property("require_symbol", boolean("Needs a character that is neither letter nor digit."))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        ObjectBuilder::new()
            .description(Some("A tenant's settings. The known keys are checked; other keys are kept as sent."))
            .property("mfa_required", boolean("Whether every user needs a second factor."))
            .property(
                "mfa_methods",
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(MfaMethod::name()))
                    .unique_items(true)
                    .description(Some("Second-factor methods allowed, each once.")),
            )
            .property("password_policy", policy)
            .property(
                "session_timeout",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1.0))
                    .maximum(Some(MAX_SESSION_TIMEOUT_MINUTES as f64))
                    .description(Some("SSO session lifetime in minutes.")),
            )
            .into()
    }
}

impl ToSchema for TenantSettings {}

/// `page` and `per_page` of every list.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 42949672)]
    pub page: Option<i64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// Not authenticated: the bearer token is missing, malformed, expired, revoked or not ours.
#[derive(Debug, ToResponse)]
#[response(
    description = "Not authenticated: the bearer token is missing, malformed, expired, revoked or not issued by this server",
    headers(("WWW-Authenticate" = String, description = "`Bearer`")),
    example = json!({"detail": "Not authenticated"})
)]
pub struct Unauthorized(pub ErrorDetail);

/// The caller may not do this.
#[derive(Debug, ToResponse)]
#[response(
    description = "Access denied: the caller lacks the admin role or scope this needs (`Access denied`, or for client tokens `Platform token requires admin:read or admin:write scope`)",
    example = json!({"detail": "Access denied"})
)]
pub struct Forbidden(pub ErrorDetail);

/// Nothing here for the caller.
#[derive(Debug, ToResponse)]
#[response(
    description = "Not found: no such resource, an ID of the wrong shape, or one outside the caller's reach",
    example = json!({"detail": "Partner not found"})
)]
pub struct NotFound(pub ErrorDetail);

/// A conflict.
#[derive(Debug, ToResponse)]
#[response(
    description = "Conflict: a duplicate, an illegal state change or a limit reached",
    example = json!({"detail": "Slug already in use"})
)]
pub struct Conflict(pub ErrorDetail);

/// Too large a body.
#[derive(Debug, ToResponse)]
#[response(
    description = "The request body is larger than 256 KiB",
    example = json!({"detail": "Request body too large"})
)]
pub struct PayloadTooLarge(pub ErrorDetail);

/// A body not declared as JSON.
#[derive(Debug, ToResponse)]
#[response(
    description = "The body is not declared as JSON (`Content-Type: application/json` or a `+json` type)",
    example = json!({"detail": "Content-Type must be application/json"})
)]
pub struct UnsupportedMediaType(pub ErrorDetail);

/// Invalid input.
#[derive(Debug, ToResponse)]
#[response(
    description = "Validation failed: one entry per problem, `loc` starting with `body`, `query` or `path`",
    example = json!({"detail": [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]})
)]
pub struct ValidationFailed(pub HTTPValidationError);

/// A dependency is down.
#[derive(Debug, ToResponse)]
#[response(
    description = "The database is unreachable or its connections are exhausted; try again",
    example = json!({"detail": "Service temporarily unavailable"})
)]
pub struct Unavailable(pub ErrorDetail);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_match_the_server() {
        assert_eq!(MAX_PAGE, 42_949_672, "PageParams::page maximum");
        assert_eq!(MAX_PER_PAGE, 100, "PageParams::per_page maximum");
    }

    #[test]
    fn scope_pattern_is_the_scope_token_grammar() {
        let RefOr::T(Schema::Object(o)) = ScopeToken::schema() else { panic!("object schema") };
        assert_eq!(o.pattern.as_deref(), Some(r"^[!#-\[\]-~]{1,128}$"));
    }

    #[test]
    fn id_patterns_describe_canonical_ids() {
        assert_eq!(id_pattern("prt"), "^prt_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
    }
}

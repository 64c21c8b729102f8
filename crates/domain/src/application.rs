//! Applications (OAuth clients and SAML service providers) and the rules their settings follow.
//!
//! - Redirect and post-logout URIs are absolute `https` URLs without a fragment; `http` only for
//!   `localhost`, `127.0.0.1` or `[::1]`.
//! - Origins are `scheme://host[:port]` with the same scheme rule.
//! - `SPA`, `NATIVE` and `SAML_SP` are public (no secret); `WEB` and `SERVICE` are confidential.
//! - `SERVICE` uses only `client_credentials`; public clients never do.
//! - Scopes are any RFC 6749 scope-token ([`crate::oauth_scope`]); `admin:read`/`admin:write`
//!   only for `GLOBAL` `SERVICE` applications (they make platform tokens). Resources (RFC 8707)
//!   are absolute URIs. Grant types come from a fixed vocabulary.
//! - ScaiKey's own clients ([`BUILT_IN_CLIENTS`]) are made and kept by ScaiKey: no admin
//!   changes or deletes them (their settings are what makes console and JSON-login tokens safe).

use chrono::{DateTime, Utc};
use url::Url;

use crate::id::{ApplicationId, PartnerId, TenantId};
use crate::oauth_scope;
use crate::scope::ScopeLevel;
use crate::status::Status;
use crate::validation::{self as v, FieldError, ValidationErrors};

pub mod input;
pub use input::{ApplicationInput, ApplicationPatch, NewApplication};

/// Shortest token lifetime, seconds.
pub const MIN_TOKEN_LIFETIME: i64 = 60;
/// Longest token lifetime, seconds (one day).
pub const MAX_TOKEN_LIFETIME: i64 = 86_400;
/// Default token lifetime, seconds.
pub const DEFAULT_TOKEN_LIFETIME: i64 = 3600;
/// Most URIs or origins in one list.
pub const MAX_LIST_LEN: usize = 50;
/// Longest URI.
pub const MAX_URI_LEN: usize = 2048;

/// The web console's first-party client (contract §13).
pub const CONSOLE_CLIENT_ID: &str = "scaikey-console";
/// The first-party client that owns the refresh tokens of the JSON login (`POST
/// /api/v1/auth/login`, contract §2): refreshing one yields an admin token again, never a token
/// issued to an application.
pub const ADMIN_LOGIN_CLIENT_ID: &str = "scaikey-admin";
/// Clients ScaiKey creates on start-up and manages itself.
pub const BUILT_IN_CLIENTS: [&str; 2] = [CONSOLE_CLIENT_ID, ADMIN_LOGIN_CLIENT_ID];

/// Whether `client_id` is one of ScaiKey's own clients, which admins may read but never change.
///
/// ```
/// use scaikey_domain::application::is_built_in;
/// assert!(is_built_in("scaikey-admin"));
/// assert!(!is_built_in("scaikey-admin2"));
/// ```
#[must_use]
pub fn is_built_in(client_id: &str) -> bool {
    BUILT_IN_CLIENTS.contains(&client_id)
}

/// The `client_credentials` grant.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
/// Grant types ScaiKey knows.
pub const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "refresh_token",
    CLIENT_CREDENTIALS,
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// Kind of application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationType {
    /// Server-side web app (confidential).
    Web,
    /// Single-page app (public, PKCE).
    Spa,
    /// Mobile or desktop app (public, PKCE).
    Native,
    /// Machine-to-machine service (confidential, `client_credentials` only).
    Service,
    /// SAML service provider.
    SamlSp,
}

impl ApplicationType {
    /// Every type.
    pub const ALL: [ApplicationType; 5] = [
        ApplicationType::Web,
        ApplicationType::Spa,
        ApplicationType::Native,
        ApplicationType::Service,
        ApplicationType::SamlSp,
    ];

    /// Wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ApplicationType::Web => "WEB",
            ApplicationType::Spa => "SPA",
            ApplicationType::Native => "NATIVE",
            ApplicationType::Service => "SERVICE",
            ApplicationType::SamlSp => "SAML_SP",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<ApplicationType> {
        ApplicationType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// `true` if the application holds a client secret.
    #[must_use]
    pub const fn is_confidential(self) -> bool {
        matches!(self, ApplicationType::Web | ApplicationType::Service)
    }

    /// Grant types used when none are given.
    #[must_use]
    pub fn default_grant_types(self) -> Vec<String> {
        let g: &[&str] = match self {
            ApplicationType::Service => &[CLIENT_CREDENTIALS],
            ApplicationType::SamlSp => &[],
            _ => &["authorization_code", "refresh_token"],
        };
        g.iter().map(|s| (*s).to_string()).collect()
    }
}

/// A stored application (its secret never leaves storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its ID.
    pub id: ApplicationId,
    /// Public client ID.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Type.
    pub application_type: ApplicationType,
    /// Scope level.
    pub scope: ScopeLevel,
    /// Partner (PARTNER apps; TENANT apps under a partner).
    pub partner_id: Option<PartnerId>,
    /// Tenant (TENANT apps).
    pub tenant_id: Option<TenantId>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Scopes it may be granted.
    pub allowed_scopes: Vec<String>,
    /// Resources (RFC 8707) it may ask tokens for; each becomes the token's `aud`.
    pub allowed_resources: Vec<String>,
    /// Grant types it may use.
    pub grant_types: Vec<String>,
    /// Access token lifetime, seconds.
    pub token_lifetime: i64,
    /// May exchange tokens (RFC 8693).
    pub token_exchange_allowed: bool,
    /// Only its effective users (assigned directly or through groups) may sign in.
    pub assignment_required: bool,
    /// A first-party application signs users in without a consent page.
    pub first_party: bool,
    /// How its ID tokens are signed.
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Status.
    pub status: Status,
    /// Whether a secret is set.
    pub has_secret: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Application {
    /// Where the application lives, for the access rules.
    #[must_use]
    pub fn owner(&self) -> crate::access::Owner {
        crate::access::Owner::from_scope(self.scope, self.partner_id, self.tenant_id)
            .unwrap_or(crate::access::Owner::Platform)
    }

    /// Whether the people of `home` (a user's or group's tenant, or the platform) lie within the
    /// application's scope: GLOBAL serves every tenant and platform users, PARTNER its partner's
    /// tenants, TENANT its tenant. Sign-in and assignment both ask this.
    #[must_use]
    pub fn serves(&self, home: &crate::access::Owner) -> bool {
        use crate::access::Owner;
        match (self.scope, home) {
            (ScopeLevel::Global, _) => true,
            (ScopeLevel::Partner, Owner::Tenant { partner: Some(p), .. }) => self.partner_id == Some(*p),
            (ScopeLevel::Tenant, Owner::Tenant { tenant, .. }) => self.tenant_id == Some(*tenant),
            _ => false,
        }
    }

    /// Whether a user or group of `home` may be assigned to the application: it must live in a
    /// tenant the application serves.
    ///
    /// # Errors
    /// [`Misfit`] says why not.
    pub fn fits_assignee(&self, home: &crate::access::Owner) -> Result<(), Misfit> {
        match home {
            crate::access::Owner::Tenant { .. } if self.serves(home) => Ok(()),
            crate::access::Owner::Tenant { .. } => Err(Misfit::OutsideScope(self.scope)),
            _ => Err(Misfit::NoTenant),
        }
    }
}

/// Why a user or group cannot be assigned to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    /// Its tenant is not one the application serves.
    #[error("Outside the application's {} scope", .0.as_str())]
    OutsideScope(ScopeLevel),
    /// It belongs to no tenant (a platform user); assignments are per tenant.
    #[error("Only users and groups of a tenant can be assigned")]
    NoTenant,
}

/// The algorithm of an application's ID tokens (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IdTokenAlg {
    /// ECDSA P-256 with SHA-256 (the default).
    #[default]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, for relying parties that cannot verify ECDSA.
    Rs256,
}

impl IdTokenAlg {
    /// Every algorithm.
    pub const ALL: [IdTokenAlg; 2] = [IdTokenAlg::Es256, IdTokenAlg::Rs256];

    /// The JOSE name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Es256 => "ES256",
            IdTokenAlg::Rs256 => "RS256",
        }
    }

    /// Parses a JOSE name.
    #[must_use]
    pub fn parse(s: &str) -> Option<IdTokenAlg> {
        IdTokenAlg::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The OAuth settings shared by applications and registration requests, validated together.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Type.
    pub application_type: ApplicationType,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Scopes.
    pub allowed_scopes: Vec<String>,
    /// Resources (RFC 8707) tokens may be asked for.
    pub allowed_resources: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
}

/// OAuth settings as a client sent them, before [`ClientSettingsInput::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettingsInput {
    /// Type.
    pub application_type: ApplicationType,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Scopes.
    pub allowed_scopes: Vec<String>,
    /// Resources.
    pub allowed_resources: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
}

impl From<ClientSettings> for ClientSettingsInput {
    fn from(s: ClientSettings) -> Self {
        ClientSettingsInput {
            application_type: s.application_type,
            redirect_uris: s.redirect_uris,
            post_logout_redirect_uris: s.post_logout_redirect_uris,
            allowed_origins: s.allowed_origins,
            allowed_scopes: s.allowed_scopes,
            allowed_resources: s.allowed_resources,
            grant_types: s.grant_types,
        }
    }
}

fn is_loopback(u: &Url) -> bool {
    matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Checks one redirect URI.
///
/// ```
/// use scaikey_domain::application::redirect_uri;
/// assert!(redirect_uri("https://app.example.com/cb").is_ok());
/// assert!(redirect_uri("http://localhost:3000/cb").is_ok());
/// assert!(redirect_uri("http://app.example.com/cb").is_err());
/// assert!(redirect_uri("https://app.example.com/cb#frag").is_err());
/// assert!(redirect_uri("/relative").is_err());
/// ```
pub fn redirect_uri(s: &str) -> Result<(), String> {
    if s.len() > MAX_URI_LEN {
        return Err(format!("URI longer than {MAX_URI_LEN} characters"));
    }
    // The URL parser repairs `https:///host` and backslashes; a redirect URI must be exact.
    if s.contains(":///") || s.contains('\\') || s.chars().any(char::is_whitespace) {
        return Err("not a well-formed absolute URL".into());
    }
    let u = Url::parse(s).map_err(|_| "not an absolute URL".to_string())?;
    if u.fragment().is_some() || s.contains('#') {
        return Err("must not contain a fragment".into());
    }
    match u.scheme() {
        "https" if u.host_str().is_some() => Ok(()),
        "http" if is_loopback(&u) => Ok(()),
        "http" => Err("http is allowed only for localhost".into()),
        _ => Err("must be an https URL".into()),
    }
}

fn origin(s: &str) -> Result<(), String> {
    let u = Url::parse(s).map_err(|_| "not an origin (scheme://host[:port])".to_string())?;
    if !(u.path() == "/" || u.path().is_empty()) || s.ends_with('/') || u.query().is_some() || u.fragment().is_some() {
        return Err("an origin has no path, query or fragment".into());
    }
    match u.scheme() {
        "https" if u.host_str().is_some() => Ok(()),
        "http" if is_loopback(&u) => Ok(()),
        _ => Err("must be https (http only for localhost)".into()),
    }
}

fn list(errs: &mut ValidationErrors, field: &str, items: &[String], check: impl Fn(&str) -> Result<(), String>) {
    if items.len() > MAX_LIST_LEN {
        errs.push(FieldError::new(field, "too_long", format!("At most {MAX_LIST_LEN} entries")));
        return;
    }
    for (i, item) in items.iter().enumerate() {
        if let Err(msg) = check(item) {
            errs.push(FieldError::at(&[field, &i.to_string()], "value_error", msg));
        } else if items[..i].contains(item) {
            errs.push(FieldError::at(&[field, &i.to_string()], "value_error", "Duplicate entry"));
        }
    }
}

fn vocabulary(known: &'static [&'static str]) -> impl Fn(&str) -> Result<(), String> {
    move |s: &str| {
        if known.contains(&s) { Ok(()) } else { Err(format!("Unknown value '{s}'; known: {}", known.join(", "))) }
    }
}

impl ClientSettingsInput {
    /// Validates settings for an application of `level`, reporting every problem.
    pub fn validate(self, level: ScopeLevel) -> Result<ClientSettings, ValidationErrors> {
        let ClientSettingsInput {
            application_type,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_origins,
            allowed_scopes,
            allowed_resources,
            grant_types,
        } = self;
        let mut errs = ValidationErrors::new();
        list(&mut errs, "redirect_uris", &redirect_uris, redirect_uri);
        list(&mut errs, "post_logout_redirect_uris", &post_logout_redirect_uris, redirect_uri);
        list(&mut errs, "allowed_origins", &allowed_origins, origin);
        oauth_scope::scope_list(&mut errs, "allowed_scopes", &allowed_scopes);
        oauth_scope::resource_list(&mut errs, "allowed_resources", &allowed_resources);
        list(&mut errs, "grant_types", &grant_types, vocabulary(&GRANT_TYPES));
        let has = |g: &str| grant_types.iter().any(|x| x == g);
        match application_type {
            ApplicationType::Service => {
                // A backend acts for itself, or (token exchange) for the subject of a token it got.
                if grant_types.iter().any(|g| g != CLIENT_CREDENTIALS && g != crate::delegation::TOKEN_EXCHANGE) {
                    errs.push(FieldError::new(
                        "grant_types",
                        "value_error",
                        "SERVICE applications use only client_credentials and token exchange",
                    ));
                }
                if !redirect_uris.is_empty() {
                    errs.push(FieldError::new(
                        "redirect_uris",
                        "value_error",
                        "SERVICE applications have no redirect URIs",
                    ));
                }
            }
            ApplicationType::Spa | ApplicationType::Native if has(CLIENT_CREDENTIALS) => {
                errs.push(FieldError::new(
                    "grant_types",
                    "value_error",
                    "Public clients (SPA, NATIVE) cannot use client_credentials",
                ));
            }
            ApplicationType::SamlSp if !grant_types.is_empty() => {
                errs.push(FieldError::new("grant_types", "value_error", "SAML service providers use no OAuth grants"));
            }
            _ => {}
        }
        if has("authorization_code") && redirect_uris.is_empty() {
            errs.push(FieldError::new(
                "redirect_uris",
                "value_error",
                "authorization_code needs at least one redirect URI",
            ));
        }
        let admin = allowed_scopes.iter().any(|s| oauth_scope::is_admin_scope(s));
        if admin && !(application_type == ApplicationType::Service && level == ScopeLevel::Global) {
            errs.push(FieldError::new(
                "allowed_scopes",
                "value_error",
                "admin:read and admin:write are only for GLOBAL SERVICE applications",
            ));
        }
        errs.into_result()?;
        Ok(ClientSettings {
            application_type,
            redirect_uris,
            post_logout_redirect_uris,
            allowed_origins,
            allowed_scopes,
            allowed_resources,
            grant_types,
        })
    }
}

/// Parses the scope triple (`scope`, `partner_id`, `tenant_id`): TENANT needs `tenant_id`,
/// PARTNER needs `partner_id`; GLOBAL takes neither.
pub fn scope_fields(
    errs: &mut ValidationErrors,
    scope: Option<&str>,
    partner_id: Option<&str>,
    tenant_id: Option<&str>,
) -> Option<(ScopeLevel, Option<PartnerId>, Option<TenantId>)> {
    let level = match scope {
        Some(s) => errs.take(v::one_of("scope", s, &ScopeLevel::ALL, ScopeLevel::as_str))?,
        None => {
            errs.push(FieldError::missing("scope"));
            return None;
        }
    };
    let partner = match partner_id {
        Some(p) => Some(errs.take(v::id::<PartnerId>("partner_id", p))?),
        None => None,
    };
    let tenant = match tenant_id {
        Some(t) => Some(errs.take(v::id::<TenantId>("tenant_id", t))?),
        None => None,
    };
    match level {
        ScopeLevel::Tenant if tenant.is_none() => {
            errs.push(FieldError::new("tenant_id", "missing", "TENANT scope requires tenant_id"));
            None
        }
        ScopeLevel::Partner if partner.is_none() => {
            errs.push(FieldError::new("partner_id", "missing", "PARTNER scope requires partner_id"));
            None
        }
        ScopeLevel::Global if partner.is_some() || tenant.is_some() => {
            errs.push(FieldError::new("scope", "value_error", "GLOBAL scope takes neither partner_id nor tenant_id"));
            None
        }
        ScopeLevel::Partner if tenant.is_some() => {
            errs.push(FieldError::new("tenant_id", "value_error", "PARTNER scope takes no tenant_id"));
            None
        }
        ScopeLevel::Tenant => Some((level, None, tenant)),
        _ => Some((level, partner, tenant)),
    }
}

/// A token lifetime in range.
pub fn token_lifetime(value: Option<i64>) -> Result<i64, FieldError> {
    match value {
        None => Ok(DEFAULT_TOKEN_LIFETIME),
        Some(n) if (MIN_TOKEN_LIFETIME..=MAX_TOKEN_LIFETIME).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new(
            "token_lifetime",
            "int_range",
            format!("token_lifetime must be {MIN_TOKEN_LIFETIME} to {MAX_TOKEN_LIFETIME} seconds"),
        )),
    }
}

/// Parses an application type field.
pub fn application_type(value: Option<&str>) -> Result<ApplicationType, FieldError> {
    match value {
        Some(t) => v::one_of("application_type", t, &ApplicationType::ALL, ApplicationType::as_str),
        None => Err(FieldError::missing("application_type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_an_application_serves_and_who_may_be_assigned() {
        use crate::access::Owner;
        let (p1, p2) = (crate::test_fixtures::partner_id(1), crate::test_fixtures::partner_id(2));
        let t = |n: u64, partner: Option<PartnerId>| Owner::Tenant {
            tenant: TenantId::generate_from(ulid::Ulid::from_parts(n, 3)),
            partner,
        };
        let homes = [Owner::Platform, t(1, Some(p1)), t(2, Some(p1)), t(3, Some(p2)), t(4, None)];
        let base = crate::test_fixtures::application(ApplicationType::Web);
        let tenant_app = Application {
            scope: ScopeLevel::Tenant,
            tenant_id: Some(TenantId::generate_from(ulid::Ulid::from_parts(1, 3))),
            ..base.clone()
        };
        let partner_app =
            Application { scope: ScopeLevel::Partner, tenant_id: None, partner_id: Some(p1), ..base.clone() };
        let global_app = Application { scope: ScopeLevel::Global, tenant_id: None, partner_id: None, ..base };
        let table = [
            (&global_app, [true, true, true, true, true]),
            (&partner_app, [false, true, true, false, false]),
            (&tenant_app, [false, true, false, false, false]),
        ];
        for (app, serves) in table {
            for (home, want) in homes.iter().zip(serves) {
                assert_eq!(app.serves(home), want, "{:?} {home:?}", app.scope);
                let fit = app.fits_assignee(home);
                match home {
                    Owner::Platform => assert_eq!(fit, Err(Misfit::NoTenant)),
                    _ if want => assert_eq!(fit, Ok(())),
                    _ => assert_eq!(fit, Err(Misfit::OutsideScope(app.scope))),
                }
            }
        }
        assert_eq!(Misfit::OutsideScope(ScopeLevel::Partner).to_string(), "Outside the application's PARTNER scope");
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_string()).collect()
    }

    fn check(
        t: ApplicationType,
        level: ScopeLevel,
        redirects: &[&str],
        scopes: &[&str],
        grants: &[&str],
    ) -> Result<ClientSettings, ValidationErrors> {
        ClientSettingsInput {
            application_type: t,
            redirect_uris: s(redirects),
            post_logout_redirect_uris: vec![],
            allowed_origins: vec![],
            allowed_scopes: s(scopes),
            allowed_resources: vec![],
            grant_types: s(grants),
        }
        .validate(level)
    }

    #[test]
    fn type_rules() {
        use ApplicationType::*;
        use ScopeLevel::*;
        assert!(check(Service, Global, &[], &["admin:read"], &["client_credentials"]).is_ok());
        assert!(
            check(Service, Tenant, &[], &["admin:read"], &["client_credentials"]).is_err(),
            "admin scopes need GLOBAL"
        );
        assert!(check(Web, Global, &["https://a.example/cb"], &["admin:write"], &["authorization_code"]).is_err());
        assert!(check(Service, Global, &[], &[], &["authorization_code"]).is_err());
        assert!(check(Spa, Tenant, &["https://a.example/cb"], &["openid"], &["client_credentials"]).is_err());
        assert!(check(Spa, Tenant, &["https://a.example/cb"], &["openid"], &["authorization_code"]).is_ok());
        assert!(check(Web, Tenant, &[], &["openid"], &["authorization_code"]).is_err(), "needs a redirect");
        assert!(check(SamlSp, Tenant, &[], &[], &["refresh_token"]).is_err());
        // Applications name their own scopes; only malformed ones are refused.
        assert!(
            check(Web, Tenant, &["https://a.example/cb"], &["reports:read", "openid"], &["authorization_code"]).is_ok()
        );
        assert!(check(Service, Partner, &[], &["sync:read"], &["client_credentials"]).is_ok());
        assert!(check(Web, Tenant, &["https://a.example/cb"], &["made up"], &["authorization_code"]).is_err());
        assert!(check(Web, Tenant, &["https://a.example/cb"], &["openid"], &["password"]).is_err());
    }

    #[test]
    fn every_problem_at_once() {
        let e = ClientSettingsInput {
            application_type: ApplicationType::Web,
            redirect_uris: s(&["http://a.example/cb"]),
            post_logout_redirect_uris: vec![],
            allowed_origins: s(&["https://a.example/"]),
            allowed_scopes: s(&["ok", "not ok", "admin:read"]),
            allowed_resources: s(&["https://api.example", "relative"]),
            grant_types: s(&["authorization_code", "password"]),
        }
        .validate(ScopeLevel::Tenant)
        .unwrap_err();
        let locs: Vec<String> = e.errors().iter().map(|x| x.loc.join(".")).collect();
        assert_eq!(
            locs,
            [
                "redirect_uris.0",
                "allowed_origins.0",
                "allowed_scopes.1",
                "allowed_resources.1",
                "grant_types.1",
                "allowed_scopes"
            ]
        );
    }

    #[test]
    fn uris_and_origins() {
        for ok in ["https://a.example/cb?x=1", "http://127.0.0.1:8080/cb", "http://[::1]/cb"] {
            assert!(redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in ["ftp://a.example", "https:///nohost", "javascript:alert(1)", "https://a.example/#", ""] {
            assert!(redirect_uri(bad).is_err(), "{bad}");
        }
        assert!(origin("https://app.example.com").is_ok());
        assert!(origin("http://localhost:3000").is_ok());
        assert!(origin("https://app.example.com/path").is_err());
        assert!(origin("https://app.example.com/").is_err());
        assert!(origin("http://app.example.com").is_err());
    }

    #[test]
    fn scope_triples() {
        let t = "tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV";
        let p = "prt_01ARZ3NDEKTSV4RRFFQ69G5FAV";
        let run = |sc: Option<&str>, pid: Option<&str>, tid: Option<&str>| {
            let mut e = ValidationErrors::new();
            let r = scope_fields(&mut e, sc, pid, tid);
            (r.is_some(), e.errors().first().map(|x| x.loc[0].clone()))
        };
        assert_eq!(run(Some("TENANT"), None, Some(t)), (true, None));
        assert_eq!(run(Some("TENANT"), None, None), (false, Some("tenant_id".into())));
        assert_eq!(run(Some("PARTNER"), None, None), (false, Some("partner_id".into())));
        assert_eq!(run(Some("PARTNER"), Some(p), None), (true, None));
        assert_eq!(run(Some("GLOBAL"), Some(p), None), (false, Some("scope".into())));
        assert_eq!(run(Some("GLOBAL"), None, None), (true, None));
        assert_eq!(run(Some("WORLD"), None, None), (false, Some("scope".into())));
        assert_eq!(run(None, None, None), (false, Some("scope".into())));
    }
}

//! Federated sign-in (contract §11): where an upstream provider sends the browser back, which
//! upstream addresses are allowed, how an upstream identity finds its ScaiKey user, and which of
//! its claims are copied onto that user on each sign-in.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::federation::Protocol;
use crate::id::{IdentityProviderId, UserId};
use crate::validation::{self as v, FieldError};

/// Most federated sign-ins one client IP may start a minute: each stores a row until its
/// callback or its expiry, and asks the upstream's discovery (cached), so starting them costs
/// more than sending the request.
pub const MAX_STARTS_PER_MINUTE: i64 = 30;

/// Most entries of an IdP's `attribute_mapping`.
pub const MAX_MAPPED_ATTRIBUTES: usize = 50;
/// Longest upstream value copied into `custom_attributes` (longer ones are left out).
pub const MAX_MAPPED_VALUE_BYTES: usize = 4 * 1024;
/// Most bytes one sign-in copies into `custom_attributes` in all (entries past it are left
/// out), so the mapped keys never grow the document past what an admin could write.
pub const MAX_MAPPED_TOTAL_BYTES: usize = 16 * 1024;

/// The URL an admin registers upstream: the OIDC callback, or the SAML assertion consumer.
///
/// ```
/// use scaikey_domain::federated::callback_url;
/// use scaikey_domain::federation::Protocol;
/// let idp = "idp_01HZY3K7Q8W9E2R4T6Y8V0A2B4".parse().unwrap();
/// assert_eq!(
///     callback_url("https://id.example.com/", idp, Protocol::Oidc),
///     "https://id.example.com/oauth/callback/idp_01HZY3K7Q8W9E2R4T6Y8V0A2B4"
/// );
/// ```
#[must_use]
pub fn callback_url(issuer: &str, idp: IdentityProviderId, protocol: Protocol) -> String {
    let base = issuer.trim_end_matches('/');
    match protocol {
        Protocol::Oidc => format!("{base}/oauth/callback/{idp}"),
        Protocol::Saml => format!("{base}/saml/{idp}/acs"),
    }
}

/// Whether `host` is a loopback name or address.
fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Whether ScaiKey may connect to `ip` for an upstream (discovery, keys, tokens, userinfo, client
/// metadata documents) in production: a public unicast address, never loopback, private,
/// shared (CGNAT), link-local (cloud metadata), unique-local, documentation, benchmarking,
/// multicast or reserved space. Outside production every address is allowed (loopback tests).
///
/// ```
/// use scaikey_domain::federated::is_public;
/// assert!(is_public("93.184.216.34".parse().unwrap()));
/// assert!(!is_public("169.254.169.254".parse().unwrap()));
/// assert!(!is_public("::ffff:10.0.0.1".parse().unwrap()));
/// ```
#[must_use]
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    let v4 = |a: std::net::Ipv4Addr| {
        let [x, y, ..] = a.octets();
        !(a.is_private()
            || a.is_loopback()
            || a.is_link_local()
            || a.is_unspecified()
            || a.is_broadcast()
            || a.is_documentation()
            || a.is_multicast()
            || x == 0
            || (x == 100 && (64..128).contains(&y))
            || (x == 198 && (18..20).contains(&y))
            || x >= 240)
    };
    match ip {
        IpAddr::V4(a) => v4(a),
        IpAddr::V6(a) => {
            if let Some(m) = a.to_ipv4_mapped() {
                return v4(m);
            }
            let first = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && a.segments()[1] == 0x0db8))
        }
    }
}

/// Whether `url` may be fetched server-side: outside production anything; in production a
/// host that is a name (checked again once resolved) or a public address.
#[must_use]
pub fn fetchable(url: &url::Url, public_only: bool) -> bool {
    if !public_only {
        return true;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => !d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => is_public(a.into()),
        Some(url::Host::Ipv6(a)) => is_public(a.into()),
        None => false,
    }
}

/// An upstream address (OIDC `issuer`, SAML `sso_url`): an absolute https URL, or, when
/// `loopback_allowed` (outside production), an http URL on a loopback host, so tests and local
/// setups federate to a provider on the same machine.
///
/// ```
/// use scaikey_domain::federated::upstream_url;
/// assert!(upstream_url("issuer", "https://login.example.com", false).is_ok());
/// assert!(upstream_url("issuer", "http://127.0.0.1:8080", true).is_ok());
/// assert!(upstream_url("issuer", "http://127.0.0.1:8080", false).is_err());
/// assert!(upstream_url("issuer", "http://example.com", true).is_err());
/// ```
pub fn upstream_url(field: &str, value: &str, loopback_allowed: bool) -> Result<String, FieldError> {
    let v = value.trim();
    let message = if loopback_allowed {
        "Input should be an absolute https URL (or http on a loopback host)"
    } else {
        "Input should be an absolute https URL"
    };
    let bad = || FieldError::new(field, "url_scheme", message);
    if v.len() > crate::application::MAX_URI_LEN || v.contains(":///") || v.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let u = url::Url::parse(v).map_err(|_| bad())?;
    let Some(host) = u.host() else { return Err(bad()) };
    let scheme_ok = u.scheme() == "https" || (u.scheme() == "http" && loopback_allowed && loopback(&host));
    if !scheme_ok
        || u.fragment().is_some()
        || !u.username().is_empty()
        || u.password().is_some()
        || !fetchable(&u, !loopback_allowed)
    {
        return Err(bad());
    }
    Ok(v.to_string())
}

/// An IdP's `attribute_mapping`: an object from a `custom_attributes` key to the name of the
/// upstream claim (OIDC) or attribute (SAML) whose value it receives on each sign-in.
pub fn attribute_mapping(value: &Value) -> Result<BTreeMap<String, String>, FieldError> {
    let field = "attribute_mapping";
    let Some(obj) = value.as_object() else {
        return Err(FieldError::new(field, "dict_type", "Input should be an object of attribute: claim names"));
    };
    if obj.len() > MAX_MAPPED_ATTRIBUTES {
        return Err(FieldError::new(field, "too_long", format!("At most {MAX_MAPPED_ATTRIBUTES} entries")));
    }
    let mut out = BTreeMap::new();
    for (k, c) in obj {
        let key = v::text(field, k, v::MAX_NAME_LEN)
            .map_err(|_| FieldError::at(&[field, k], "value_error", "Attribute names are 1-255 characters"))?;
        let claim = c
            .as_str()
            .and_then(|c| v::text(field, c, v::MAX_NAME_LEN).ok())
            .ok_or_else(|| FieldError::at(&[field, k], "string_type", "The claim name must be a non-empty string"))?;
        out.insert(key, claim);
    }
    Ok(out)
}

/// What an upstream provider proved about the person, after every check of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamIdentity {
    /// The upstream `sub` (OIDC) or persistent NameID (SAML).
    pub subject: String,
    /// The e-mail it asserts.
    pub email: Option<String>,
    /// Whether it says the e-mail is verified (SAML asserts only verified addresses).
    pub email_verified: bool,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Every claim or attribute, for `attribute_mapping`.
    pub claims: Map<String, Value>,
}

/// The SAML NameID format of e-mail addresses.
pub const EMAIL_NAME_ID: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// The NameID format ScaiKey asks for: a stable, opaque identifier per SP.
pub const PERSISTENT_NAME_ID: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// Clock skew allowed on SAML time conditions (contract §11).
pub const SAML_CLOCK_SKEW_SECONDS: i64 = 120;

/// Attribute names (`Name` or `FriendlyName`, compared case-blind) meaning the e-mail, the
/// given name and the family name: the common short names, the X.500/LDAP OIDs and the
/// claim URIs of ADFS and Entra ID.
const EMAIL_ATTRIBUTES: [&str; 6] = [
    "email",
    "mail",
    "emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "urn:oid:1.2.840.113549.1.9.1",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];
const GIVEN_NAME_ATTRIBUTES: [&str; 5] = [
    "givenname",
    "given_name",
    "firstname",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
];
const FAMILY_NAME_ATTRIBUTES: [&str; 6] = [
    "sn",
    "surname",
    "family_name",
    "lastname",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
];

/// One attribute of a verified SAML assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAttribute {
    /// `Name`.
    pub name: Option<String>,
    /// `FriendlyName`.
    pub friendly_name: Option<String>,
    /// Its values, as text.
    pub values: Vec<String>,
}

impl SamlAttribute {
    fn is_one_of(&self, names: &[&str]) -> bool {
        [&self.name, &self.friendly_name].into_iter().flatten().any(|n| names.iter().any(|w| n.eq_ignore_ascii_case(w)))
    }
}

/// The identity a verified SAML assertion proves (contract §11): the subject is the NameID;
/// the e-mail is the NameID when its format is `emailAddress`, else the first `email`/`mail`
/// attribute; the IdP vouches for its directory's addresses, so the e-mail counts as verified.
/// Every attribute is a claim under its `Name` and its `FriendlyName` (one value: a string;
/// several: a list), for `attribute_mapping`.
///
/// ```
/// use scaikey_domain::federated::{saml_identity, SamlAttribute, PERSISTENT_NAME_ID};
/// let mail = SamlAttribute { name: Some("urn:oid:0.9.2342.19200300.100.1.3".into()),
///     friendly_name: Some("mail".into()), values: vec!["kim@corp.example".into()] };
/// let who = saml_identity("a1b2c3", Some(PERSISTENT_NAME_ID), &[mail]);
/// assert_eq!((who.subject.as_str(), who.email.as_deref()), ("a1b2c3", Some("kim@corp.example")));
/// assert_eq!(who.claims["mail"], "kim@corp.example");
/// ```
#[must_use]
pub fn saml_identity(name_id: &str, name_id_format: Option<&str>, attributes: &[SamlAttribute]) -> UpstreamIdentity {
    let first = |names: &[&str]| {
        attributes.iter().filter(|a| a.is_one_of(names)).flat_map(|a| a.values.first()).next().cloned()
    };
    let email =
        if name_id_format == Some(EMAIL_NAME_ID) { Some(name_id.to_string()) } else { first(&EMAIL_ATTRIBUTES) };
    let mut claims = Map::new();
    for a in attributes {
        let value = match a.values.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::Array(many.iter().cloned().map(Value::String).collect()),
        };
        for key in [&a.name, &a.friendly_name].into_iter().flatten() {
            claims.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    UpstreamIdentity {
        subject: name_id.to_string(),
        email_verified: email.is_some(),
        email,
        given_name: first(&GIVEN_NAME_ATTRIBUTES),
        family_name: first(&FAMILY_NAME_ATTRIBUTES),
        claims,
    }
}

/// ScaiKey's SAML service provider for IdP `idp`: its entity ID (the metadata URL) and its
/// assertion consumer service.
#[must_use]
pub fn saml_service_provider(issuer: &str, idp: IdentityProviderId) -> (String, String) {
    let base = issuer.trim_end_matches('/');
    (format!("{base}/saml/{idp}/metadata"), callback_url(issuer, idp, Protocol::Saml))
}

/// Why a federated sign-in was refused after the upstream answered (audited as the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Neither a link nor an e-mail to link or create by.
    NoEmail,
    /// The upstream does not vouch for the e-mail: neither linked nor provisioned by it.
    EmailNotVerified,
    /// No user has the e-mail and the IdP does not create users.
    NotProvisioned,
    /// The user with the e-mail holds admin roles: linking it automatically would let whoever
    /// configures an IdP (a tenant admin) sign in as an admin above them.
    AdminAccount,
}

/// The tenant's user with the upstream's e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailMatch {
    /// The user.
    pub user: UserId,
    /// It holds admin roles.
    pub admin: bool,
}

impl LinkRefusal {
    /// The audit reason.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            LinkRefusal::NoEmail => "upstream gave no e-mail",
            LinkRefusal::EmailNotVerified => "upstream e-mail not verified",
            LinkRefusal::NotProvisioned => "no account and provisioning is off",
            LinkRefusal::AdminAccount => "the account with this e-mail holds admin roles",
        }
    }

    /// What the person is told.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            LinkRefusal::NoEmail => {
                "Your identity provider did not share an e-mail address, so no account can be found."
            }
            LinkRefusal::EmailNotVerified => {
                "Your identity provider did not confirm your e-mail address, so ScaiKey cannot sign you in with it. Confirm it there, then try again."
            }
            LinkRefusal::NotProvisioned => {
                "There is no account for you in this organisation. Ask an administrator to create one."
            }
            LinkRefusal::AdminAccount => {
                "Your administrator account cannot be linked to an identity provider automatically. Sign in with your password."
            }
        }
    }
}

/// Which user an upstream identity signs in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The identity is linked already.
    Linked(UserId),
    /// First sign-in: link to the tenant's user with the same (verified) e-mail.
    ByEmail(UserId),
    /// First sign-in: create the user (`jit_provisioning`).
    Create,
}

/// Decides the user of a sign-in (contract §11): the existing link, else the tenant's user with
/// the same e-mail when the upstream verified it and the user holds no admin role, else a new
/// user when the IdP provisions and the upstream verified the e-mail.
///
/// ```
/// use scaikey_domain::federated::{link, Link, LinkRefusal, UpstreamIdentity};
/// let who = UpstreamIdentity {
///     subject: "248289761001".into(), email: Some("jane@example.com".into()), email_verified: true,
///     given_name: None, family_name: None, claims: Default::default(),
/// };
/// assert_eq!(link(None, None, &who, true), Ok(Link::Create));
/// assert_eq!(link(None, None, &who, false), Err(LinkRefusal::NotProvisioned));
/// let unverified = UpstreamIdentity { email_verified: false, ..who };
/// assert_eq!(link(None, None, &unverified, true), Err(LinkRefusal::EmailNotVerified));
/// ```
pub fn link(
    linked: Option<UserId>,
    same_email: Option<EmailMatch>,
    who: &UpstreamIdentity,
    jit_provisioning: bool,
) -> Result<Link, LinkRefusal> {
    if let Some(u) = linked {
        return Ok(Link::Linked(u));
    }
    if who.email.as_deref().is_none_or(str::is_empty) {
        return Err(LinkRefusal::NoEmail);
    }
    match same_email {
        Some(m) if m.admin => Err(LinkRefusal::AdminAccount),
        Some(m) if who.email_verified => Ok(Link::ByEmail(m.user)),
        Some(_) => Err(LinkRefusal::EmailNotVerified),
        // An account is made only for an address the upstream vouches for: one made from an
        // unverified address would be linked to its real owner's later verified sign-in.
        None if jit_provisioning && who.email_verified => Ok(Link::Create),
        None if jit_provisioning => Err(LinkRefusal::EmailNotVerified),
        None => Err(LinkRefusal::NotProvisioned),
    }
}

/// The `custom_attributes` entries `mapping` takes from the upstream claims: strings, numbers,
/// booleans and lists of them, each at most [`MAX_MAPPED_VALUE_BYTES`]; claims the upstream did
/// not send are left as they are.
#[must_use]
pub fn mapped_attributes(mapping: &BTreeMap<String, String>, claims: &Map<String, Value>) -> Map<String, Value> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let mut total = 0;
    let mut out = Map::new();
    for (attr, claim) in mapping {
        let Some(v) = claims.get(claim) else { continue };
        let text = v.to_string();
        let fits = (scalar(v) || v.as_array().is_some_and(|a| a.iter().all(scalar)))
            && crate::validation::storable_document("custom_attributes", v).is_ok();
        if !fits || text.len() > MAX_MAPPED_VALUE_BYTES || text.contains("\\u0000") {
            continue;
        }
        total += attr.len() + text.len();
        if total > MAX_MAPPED_TOTAL_BYTES {
            break;
        }
        out.insert(attr.clone(), v.clone());
    }
    out
}

/// An upstream text value fit to store as a name or e-mail: trimmed, not empty, without NUL
/// or other control characters, at most `max` bytes.
#[must_use]
pub fn clean_text(value: Option<&str>, max: usize) -> Option<String> {
    let t = value?.trim();
    (!t.is_empty() && t.len() <= max && !t.chars().any(char::is_control)).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn who(email: Option<&str>, verified: bool) -> UpstreamIdentity {
        UpstreamIdentity {
            subject: "s".into(),
            email: email.map(String::from),
            email_verified: verified,
            given_name: None,
            family_name: None,
            claims: Map::new(),
        }
    }

    fn user(n: u64) -> UserId {
        UserId::generate_from(ulid::Ulid::from_parts(n, 1))
    }

    fn member(n: u64) -> Option<EmailMatch> {
        Some(EmailMatch { user: user(n), admin: false })
    }

    #[test]
    fn an_existing_link_wins_over_everything() {
        assert_eq!(link(Some(user(1)), member(2), &who(None, false), false), Ok(Link::Linked(user(1))));
    }

    #[test]
    fn first_sign_in_links_only_a_verified_email_of_a_user_without_admin_roles() {
        let w = who(Some("a@example.com"), true);
        assert_eq!(link(None, member(2), &w, false), Ok(Link::ByEmail(user(2))));
        let unverified = who(Some("a@example.com"), false);
        assert_eq!(link(None, member(2), &unverified, true), Err(LinkRefusal::EmailNotVerified));
        let admin = Some(EmailMatch { user: user(3), admin: true });
        assert_eq!(link(None, admin, &w, true), Err(LinkRefusal::AdminAccount));
        assert_eq!(link(None, None, &who(None, true), true), Err(LinkRefusal::NoEmail));
        assert_eq!(link(None, None, &who(Some(""), true), true), Err(LinkRefusal::NoEmail));
        assert_eq!(link(None, None, &w, true), Ok(Link::Create));
        assert_eq!(link(None, None, &w, false), Err(LinkRefusal::NotProvisioned));
        assert_eq!(link(None, None, &unverified, true), Err(LinkRefusal::EmailNotVerified), "never provisioned");
        assert_eq!(link(None, None, &unverified, false), Err(LinkRefusal::NotProvisioned));
    }

    #[test]
    fn only_public_addresses_in_production() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(!fetchable(&u("https://10.0.0.5:8443/x"), true) && fetchable(&u("https://10.0.0.5:8443/x"), false));
        assert!(!fetchable(&u("https://localhost/x"), true) && fetchable(&u("https://login.example.com/x"), true));
        assert!(upstream_url("issuer", "https://10.0.0.5", false).is_err());
        assert!(upstream_url("issuer", "https://[::1]:8443", false).is_err());
    }

    #[test]
    fn upstream_urls() {
        for ok in ["https://login.example.com", "https://login.example.com/tenant/v2.0"] {
            assert!(upstream_url("issuer", ok, false).is_ok(), "{ok}");
        }
        for local in ["http://127.0.0.1:9000", "http://localhost:9000/realms/x", "http://[::1]:8080"] {
            assert!(upstream_url("issuer", local, true).is_ok(), "{local}");
            assert!(upstream_url("issuer", local, false).is_err(), "{local}");
        }
        for bad in [
            "http://example.com",
            "http://127.0.0.2.example.com",
            "ftp://127.0.0.1",
            "https://u:p@example.com",
            "https://example.com/#x",
            "example.com",
            "https:///x",
            "https://exa mple.com",
        ] {
            assert!(upstream_url("issuer", bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn mapping_is_checked_and_applied() {
        let m = attribute_mapping(&json!({"department": "dept", "groups": "groups"})).unwrap();
        assert!(attribute_mapping(&json!(["dept"])).is_err());
        assert!(attribute_mapping(&json!({"department": 5})).is_err());
        assert!(attribute_mapping(&json!({"": "dept"})).is_err());
        let claims = json!({"dept": "R&D ✓", "groups": ["a", "b"], "other": 1}).as_object().cloned().unwrap();
        assert_eq!(Value::Object(mapped_attributes(&m, &claims)), json!({"department": "R&D ✓", "groups": ["a", "b"]}));
        let nested = json!({"dept": {"x": 1}, "groups": "x\u{0}y"}).as_object().cloned().unwrap();
        assert!(mapped_attributes(&m, &nested).is_empty());
        // Many large values: copied up to the total bound only.
        let many: BTreeMap<String, String> = (0..10).map(|i| (format!("a{i}"), format!("c{i}"))).collect();
        let big: Map<String, Value> = (0..10).map(|i| (format!("c{i}"), json!("v".repeat(3000)))).collect();
        let copied = mapped_attributes(&many, &big);
        assert!(
            copied.len() == MAX_MAPPED_TOTAL_BYTES / 3010
                && Value::Object(copied).to_string().len() <= MAX_MAPPED_TOTAL_BYTES + 100
        );
    }

    #[test]
    fn saml_identities() {
        let attr = |name: &str, friendly: Option<&str>, values: &[&str]| SamlAttribute {
            name: Some(name.into()),
            friendly_name: friendly.map(String::from),
            values: values.iter().map(|v| (*v).to_string()).collect(),
        };
        let by_name_id = saml_identity("kim@corp.example", Some(EMAIL_NAME_ID), &[attr("mail", None, &["other@x"])]);
        assert_eq!((by_name_id.email.as_deref(), by_name_id.email_verified), (Some("kim@corp.example"), true));
        let adfs = [
            attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", None, &["Kim@Corp.example"]),
            attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", None, &["Kim"]),
            attr("urn:oid:2.5.4.4", Some("sn"), &["Lee"]),
            attr("groups", None, &["a", "b"]),
        ];
        let who = saml_identity("opaque-1", Some(PERSISTENT_NAME_ID), &adfs);
        assert_eq!(
            (who.email.as_deref(), who.given_name.as_deref(), who.family_name.as_deref()),
            (Some("Kim@Corp.example"), Some("Kim"), Some("Lee"))
        );
        assert_eq!((who.claims["sn"].clone(), who.claims["groups"].clone()), (json!("Lee"), json!(["a", "b"])));
        let none = saml_identity("opaque-2", Some(PERSISTENT_NAME_ID), &[attr("dept", None, &["R&D"])]);
        assert_eq!((none.email, none.email_verified), (None, false));
        let idp = IdentityProviderId::generate_from(ulid::Ulid::from_parts(1, 2));
        let (entity, acs) = saml_service_provider("https://id.example.com/", idp);
        assert_eq!(entity, format!("https://id.example.com/saml/{idp}/metadata"));
        assert_eq!(acs, format!("https://id.example.com/saml/{idp}/acs"));
    }

    #[test]
    fn upstream_text_is_cleaned() {
        assert_eq!(clean_text(Some("  Jane "), 10).as_deref(), Some("Jane"));
        assert_eq!(clean_text(Some("a\u{0}b"), 10), None);
        assert_eq!(clean_text(Some(""), 10), None);
        assert_eq!(clean_text(Some("toolongvalue"), 5), None);
    }
}

//! Tenants: the organisations that hold users, groups and applications, and their settings.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::id::{PartnerId, TenantId};
use crate::partner::{contact, non_null, status};
use crate::password::{MAX_PASSWORD_LEN, MIN_POLICY_LENGTH};
use crate::status::Status;
use crate::validation::{self as v, FieldError, ValidationErrors};

/// MFA methods a tenant may allow.
pub const MFA_METHODS: [&str; 4] = ["totp", "sms", "email", "webauthn"];
/// Longest session timeout a tenant may set, in minutes (30 days).
pub const MAX_SESSION_TIMEOUT_MINUTES: u64 = 43_200;
/// Largest `settings` or `branding` document, in bytes of compact JSON.
pub const MAX_JSON_DOCUMENT_BYTES: usize = 64 * 1024;

/// A stored tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// Its ID.
    pub id: TenantId,
    /// The partner it stands under; `None` directly under the platform.
    pub partner_id: Option<PartnerId>,
    /// Display name.
    pub name: String,
    /// Unique among live tenants.
    pub slug: String,
    /// Lifecycle status.
    pub status: Status,
    /// Who to contact.
    pub contact_email: Option<String>,
    /// Validated settings document.
    pub settings: Value,
    /// Free-form branding document.
    pub branding: Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Raw tenant fields as a client sent them (create or PATCH). `Some(None)` is an explicit null.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantInput {
    /// `name`.
    pub name: Option<String>,
    /// `slug`; derived from the name on create when absent.
    pub slug: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `contact_email`.
    pub contact_email: Option<Option<String>>,
    /// `partner_id`, as text.
    pub partner_id: Option<Option<String>>,
    /// `settings`.
    pub settings: Option<Option<Value>>,
    /// `branding`.
    pub branding: Option<Option<Value>>,
}

/// A validated tenant to create.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewTenant {
    /// Display name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Status (default `active`).
    pub status: Status,
    /// Contact.
    pub contact_email: Option<String>,
    /// Partner, if any.
    pub partner_id: Option<PartnerId>,
    /// Settings (default `{}`).
    pub settings: Value,
    /// Branding (default `{}`).
    pub branding: Value,
}

/// Validated changes to a tenant; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct TenantChanges {
    /// New name.
    pub name: Option<String>,
    /// New slug.
    pub slug: Option<String>,
    /// New status.
    pub status: Option<Status>,
    /// New contact (`Some(None)` clears it).
    pub contact_email: Option<Option<String>>,
    /// Move to another partner (`Some(None)`: directly under the platform).
    pub partner_id: Option<Option<PartnerId>>,
    /// Replace settings (null resets to `{}`).
    pub settings: Option<Value>,
    /// Replace branding (null resets to `{}`).
    pub branding: Option<Value>,
}

fn partner_ref(value: Option<&str>) -> Result<Option<PartnerId>, FieldError> {
    value.map(|p| v::id::<PartnerId>("partner_id", p)).transpose()
}

fn document(field: &str, value: Option<Value>) -> Result<Value, ValidationErrors> {
    let value = value.unwrap_or_else(|| Value::Object(Map::new()));
    if !value.is_object() {
        return Err(ValidationErrors::single(FieldError::new(field, "dict_type", "Input should be an object")));
    }
    if value.to_string().len() > MAX_JSON_DOCUMENT_BYTES {
        return Err(ValidationErrors::single(FieldError::new(
            field,
            "too_long",
            format!("Document must be at most {MAX_JSON_DOCUMENT_BYTES} bytes"),
        )));
    }
    v::storable_document(field, &value).map_err(ValidationErrors::single)?;
    if field == "settings" {
        validate_settings(&value)?;
    }
    Ok(value)
}

/// Validates a tenant `settings` document (contract §4). Known keys are type- and range-checked;
/// other keys are kept as they are, so newer settings can be stored before this crate knows them.
///
/// ```
/// use serde_json::json;
/// use scaikey_domain::tenant::validate_settings;
/// assert!(validate_settings(&json!({"mfa_required": true, "mfa_methods": ["totp"]})).is_ok());
/// let e = validate_settings(&json!({"mfa_methods": ["pigeon"]})).unwrap_err();
/// assert_eq!(e.errors()[0].loc, ["settings", "mfa_methods", "0"]);
/// ```
pub fn validate_settings(settings: &Value) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let Some(obj) = settings.as_object() else {
        return Err(ValidationErrors::single(FieldError::new("settings", "dict_type", "Input should be an object")));
    };
    if let Some(x) = obj.get("mfa_required")
        && !x.is_boolean()
    {
        errs.push(FieldError::at(&["settings", "mfa_required"], "bool_type", "Input should be a valid boolean"));
    }
    if let Some(x) = obj.get("mfa_methods") {
        match x.as_array() {
            None => {
                errs.push(FieldError::at(&["settings", "mfa_methods"], "list_type", "Input should be a valid list"))
            }
            Some(items) => {
                for (i, m) in items.iter().enumerate() {
                    let idx = i.to_string();
                    match m.as_str() {
                        Some(s) if MFA_METHODS.contains(&s) => {
                            if items[..i].contains(m) {
                                errs.push(FieldError::at(
                                    &["settings", "mfa_methods", &idx],
                                    "value_error",
                                    "Duplicate MFA method",
                                ));
                            }
                        }
                        _ => errs.push(FieldError::at(
                            &["settings", "mfa_methods", &idx],
                            "enum",
                            "Input should be 'totp', 'sms', 'email' or 'webauthn'",
                        )),
                    }
                }
            }
        }
    }
    if let Some(x) = obj.get("session_timeout") {
        match x.as_u64() {
            Some(n) if (1..=MAX_SESSION_TIMEOUT_MINUTES).contains(&n) => {}
            _ => errs.push(FieldError::at(
                &["settings", "session_timeout"],
                "int_range",
                format!("Session timeout must be a whole number of minutes from 1 to {MAX_SESSION_TIMEOUT_MINUTES}"),
            )),
        }
    }
    if let Some(x) = obj.get("password_policy") {
        match x.as_object() {
            None => {
                errs.push(FieldError::at(&["settings", "password_policy"], "dict_type", "Input should be an object"))
            }
            Some(p) => {
                for (k, val) in p {
                    let loc = ["settings", "password_policy", k.as_str()];
                    match k.as_str() {
                        "min_length" => match val.as_u64() {
                            Some(n) if (MIN_POLICY_LENGTH..=MAX_PASSWORD_LEN as u64).contains(&n) => {}
                            _ => errs.push(FieldError::at(
                                &loc,
                                "int_range",
                                format!(
                                    "min_length must be a whole number from {MIN_POLICY_LENGTH} to {MAX_PASSWORD_LEN}"
                                ),
                            )),
                        },
                        "require_uppercase" | "require_lowercase" | "require_digit" | "require_symbol" => {
                            if !val.is_boolean() {
                                errs.push(FieldError::at(&loc, "bool_type", "Input should be a valid boolean"));
                            }
                        }
                        _ => errs.push(FieldError::at(&loc, "extra_forbidden", "Unknown password policy rule")),
                    }
                }
            }
        }
    }
    errs.into_result()
}

/// Session lifetime from settings, in minutes, if the tenant set one.
#[must_use]
pub fn session_timeout_minutes(settings: &Value) -> Option<u64> {
    settings.get("session_timeout").and_then(Value::as_u64)
}

fn merge(errs: &mut ValidationErrors, r: Result<Value, ValidationErrors>) -> Option<Value> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            for x in e.errors() {
                errs.push(x.clone());
            }
            None
        }
    }
}

impl NewTenant {
    /// Validates a create request, reporting every problem.
    pub fn validate(input: TenantInput) -> Result<NewTenant, ValidationErrors> {
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
        let partner_id = errs.take(partner_ref(input.partner_id.clone().flatten().as_deref()));
        let settings = merge(&mut errs, document("settings", input.settings.flatten()));
        let branding = merge(&mut errs, document("branding", input.branding.flatten()));
        errs.into_result()?;
        match (name, slug, status, contact_email, partner_id, settings, branding) {
            (
                Some(name),
                Some(slug),
                Some(status),
                Some(contact_email),
                Some(partner_id),
                Some(settings),
                Some(branding),
            ) => Ok(NewTenant { name, slug, status, contact_email, partner_id, settings, branding }),
            _ => Err(ValidationErrors::single(FieldError::missing("name"))),
        }
    }
}

impl TenantChanges {
    /// Validates a PATCH request, reporting every problem.
    pub fn validate(input: TenantInput) -> Result<TenantChanges, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let name = match &input.name {
            Some(n) => errs.take(v::text("name", n, v::MAX_NAME_LEN)),
            None => None,
        };
        let slug = input.slug.as_deref().and_then(|s| errs.take(v::slug("slug", s)));
        let status = input.status.as_deref().and_then(|s| errs.take(status(s)));
        let contact_email = input.contact_email.as_ref().and_then(|c| errs.take(contact(c.as_deref())));
        let partner_id = input.partner_id.as_ref().and_then(|p| errs.take(partner_ref(p.as_deref())));
        let settings = input.settings.map(|s| document("settings", s)).and_then(|r| merge(&mut errs, r));
        let branding = input.branding.map(|b| document("branding", b)).and_then(|r| merge(&mut errs, r));
        errs.into_result()?;
        Ok(TenantChanges { name, slug, status, contact_email, partner_id, settings, branding })
    }
}

/// Rejects an explicit `null` for a field that may not be null.
pub fn reject_null<T>(field: &str, value: &Option<Option<T>>) -> Result<(), FieldError> {
    match value {
        Some(None) => Err(non_null(field)),
        _ => Ok(()),
    }
}

/// What the hosted pages show of a tenant's `branding` (contract §9): only values that are safe
/// to put in a page, whatever the document holds — a display name (one line, at most 100
/// characters), an `https` logo URL and a `#rgb`/`#rrggbb` primary colour. Anything else is
/// ignored rather than rendered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageBranding {
    /// `display_name`.
    pub display_name: Option<String>,
    /// `logo_url`.
    pub logo_url: Option<String>,
    /// `primary_color`.
    pub primary_color: Option<String>,
}

impl PageBranding {
    /// Picks the safe values of a branding document.
    ///
    /// ```
    /// use scaikey_domain::tenant::PageBranding;
    /// let b = PageBranding::from_document(&serde_json::json!({
    ///     "display_name": "Acme", "logo_url": "javascript:alert(1)", "primary_color": "#0a7cff"}));
    /// assert_eq!(b.display_name.as_deref(), Some("Acme"));
    /// assert_eq!(b.logo_url, None);
    /// assert_eq!(b.primary_color.as_deref(), Some("#0a7cff"));
    /// ```
    #[must_use]
    pub fn from_document(branding: &Value) -> PageBranding {
        let text = |k: &str| branding.get(k).and_then(Value::as_str);
        let display_name = text("display_name")
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= 100 && !n.chars().any(char::is_control))
            .map(str::to_string);
        let logo_url = text("logo_url")
            .filter(|u| {
                u.len() <= 2048
                    && !u.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
                    && url::Url::parse(u).is_ok_and(|p| p.scheme() == "https" && p.host_str().is_some())
            })
            .map(str::to_string);
        let primary_color = text("primary_color")
            .filter(|c| {
                let hex = c.strip_prefix('#').unwrap_or_default();
                matches!(hex.len(), 3 | 6) && hex.chars().all(|h| h.is_ascii_hexdigit())
            })
            .map(str::to_lowercase);
        PageBranding { display_name, logo_url, primary_color }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_rules() {
        let ok = json!({
            "mfa_required": false,
            "mfa_methods": ["totp", "webauthn"],
            "password_policy": {"min_length": 12, "require_digit": true},
            "session_timeout": 60,
            "future_key": {"anything": 1}
        });
        assert!(validate_settings(&ok).is_ok());
        let bad = json!({
            "mfa_required": "yes",
            "mfa_methods": ["totp", "totp", 3],
            "password_policy": {"min_length": 0, "require_digit": "y", "colour": "blue"},
            "session_timeout": -5
        });
        let errs = validate_settings(&bad).unwrap_err();
        let locs: Vec<String> = errs.errors().iter().map(|e| e.loc.join(".")).collect();
        assert_eq!(
            locs,
            [
                "settings.mfa_required",
                "settings.mfa_methods.1",
                "settings.mfa_methods.2",
                "settings.session_timeout",
                "settings.password_policy.colour",
                "settings.password_policy.min_length",
                "settings.password_policy.require_digit",
            ]
        );
        assert!(validate_settings(&json!([1])).is_err());
        assert!(validate_settings(&json!({"session_timeout": 1.5})).is_err());
        assert!(validate_settings(&json!({"session_timeout": 43_201})).is_err());
    }

    #[test]
    fn create_and_patch() {
        let t = NewTenant::validate(TenantInput {
            name: Some("Globex".into()),
            partner_id: Some(Some("prt_01ARZ3NDEKTSV4RRFFQ69G5FAV".into())),
            settings: Some(None),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(t.slug, "globex");
        assert_eq!(t.settings, json!({}));
        assert!(t.partner_id.is_some());

        let e = NewTenant::validate(TenantInput {
            partner_id: Some(Some("tnt_01ARZ3NDEKTSV4RRFFQ69G5FAV".into())),
            branding: Some(Some(json!("blue"))),
            ..Default::default()
        })
        .unwrap_err();
        let locs: Vec<_> = e.errors().iter().map(|x| x.loc[0].as_str()).collect();
        assert_eq!(locs, ["name", "partner_id", "branding"]);
    }

    #[test]
    fn page_branding_keeps_only_safe_values() {
        let pick = |v: Value| PageBranding::from_document(&v);
        let ok = pick(
            json!({"display_name": " Acme GmbH ", "logo_url": "https://cdn.acme.example/logo.png", "primary_color": "#ABC"}),
        );
        assert_eq!(
            ok,
            PageBranding {
                display_name: Some("Acme GmbH".into()),
                logo_url: Some("https://cdn.acme.example/logo.png".into()),
                primary_color: Some("#abc".into()),
            }
        );
        for bad in [
            json!({"display_name": "x".repeat(101)}),
            json!({"display_name": "a\nb"}),
            json!({"display_name": 5}),
            json!({"logo_url": "http://cdn.example/logo.png"}),
            json!({"logo_url": "data:image/png;base64,AAAA"}),
            json!({"logo_url": "https://x.example/a\"onerror=\"alert(1)"}),
            json!({"primary_color": "red"}),
            json!({"primary_color": "#12345g"}),
            json!({"primary_color": "#1234;}body{display:none"}),
            json!("not an object"),
        ] {
            assert_eq!(pick(bad.clone()), PageBranding::default(), "{bad}");
        }

        let c =
            TenantChanges::validate(TenantInput { partner_id: Some(None), settings: Some(None), ..Default::default() })
                .unwrap();
        assert_eq!(c.partner_id, Some(None));
        assert_eq!(c.settings, Some(json!({})));
        assert_eq!(c.name, None);
    }

    #[test]
    fn session_timeout_reads_minutes() {
        assert_eq!(session_timeout_minutes(&json!({"session_timeout": 30})), Some(30));
        assert_eq!(session_timeout_minutes(&json!({})), None);
    }
}

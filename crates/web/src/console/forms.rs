//! Form fields of the console: what a page shows for each API field, and how a posted form is
//! read back into the service's raw input. Reading only converts text (a number, a JSON
//! document, one value per line); every rule stays with the services and the domain, whose
//! messages are shown beside the field they name.

use scaikey_domain::validation::{FieldError, ValidationErrors};
use serde_json::Value;

/// One form field, named as the API field.
pub(crate) struct Field {
    /// The API field name (the input's `name`).
    pub(crate) name: &'static str,
    /// The element id: `name`, prefixed by the form for pages with several forms.
    pub(crate) id: String,
    pub(crate) label: &'static str,
    /// `text`, `email`, `password`, `number`, `url`, `select`, `checkbox`, `choices`, `lines`,
    /// `json`, `area` or `hidden`.
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) checked: bool,
    /// `(value, label, selected)` of a `select` or `choices` field.
    pub(crate) options: Vec<(String, String, bool)>,
    pub(crate) required: bool,
    pub(crate) hint: Option<&'static str>,
    pub(crate) error: Option<String>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: &'static str) -> Field {
        Field {
            name,
            id: name.to_string(),
            label,
            kind,
            value: String::new(),
            checked: false,
            options: Vec::new(),
            required: false,
            hint: None,
            error: None,
        }
    }

    pub(crate) fn text(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
        Field { value: value.into(), ..Field::new(name, label, "text") }
    }

    pub(crate) fn email(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
        Field { value: value.into(), ..Field::new(name, label, "email") }
    }

    pub(crate) fn password(name: &'static str, label: &'static str) -> Field {
        Field::new(name, label, "password")
    }

    pub(crate) fn number(name: &'static str, label: &'static str, value: Option<impl ToString>) -> Field {
        Field { value: value.map(|v| v.to_string()).unwrap_or_default(), ..Field::new(name, label, "number") }
    }

    pub(crate) fn hidden(name: &'static str, value: impl Into<String>) -> Field {
        Field { value: value.into(), ..Field::new(name, "", "hidden") }
    }

    pub(crate) fn check(name: &'static str, label: &'static str, checked: bool) -> Field {
        Field { checked, ..Field::new(name, label, "checkbox") }
    }

    /// A drop-down of `(value, label)` with `current` selected.
    pub(crate) fn select<'a>(
        name: &'static str,
        label: &'static str,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
        current: &str,
    ) -> Field {
        let options = options.into_iter().map(|(v, l)| (v.to_string(), l.to_string(), v == current)).collect();
        Field { options, ..Field::new(name, label, "select") }
    }

    /// Check boxes of `(value, label)`, those in `current` ticked.
    pub(crate) fn choices<'a>(
        name: &'static str,
        label: &'static str,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
        current: &[&str],
    ) -> Field {
        let options = options.into_iter().map(|(v, l)| (v.to_string(), l.to_string(), current.contains(&v))).collect();
        Field { options, ..Field::new(name, label, "choices") }
    }

    /// A list field, one value per line.
    pub(crate) fn lines(name: &'static str, label: &'static str, values: &[String]) -> Field {
        Field { value: values.join("\n"), ..Field::new(name, label, "lines") }
    }

    /// A JSON document (pretty-printed).
    pub(crate) fn json(name: &'static str, label: &'static str, value: Option<&Value>) -> Field {
        let value = value.and_then(|v| serde_json::to_string_pretty(v).ok()).unwrap_or_default();
        Field { value, ..Field::new(name, label, "json") }
    }

    /// Free text over several lines (a PEM certificate).
    pub(crate) fn area(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
        Field { value: value.into(), ..Field::new(name, label, "area") }
    }

    #[must_use]
    pub(crate) fn required(mut self) -> Field {
        self.required = true;
        self
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: &'static str) -> Field {
        self.hint = Some(hint);
        self
    }

    /// Prefixes the element id, for pages with several forms.
    #[must_use]
    pub(crate) fn within(mut self, form: &str) -> Field {
        self.id = format!("{form}-{}", self.name);
        self
    }

    /// The ids of the hint and the error that describe the control.
    pub(crate) fn described_by(&self) -> String {
        let hint = self.hint.map(|_| format!("{}-hint", self.id));
        let error = self.error.as_ref().map(|_| format!("{}-error", self.id));
        [hint, error].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }

    /// Shows what was posted again (never a password).
    fn refill(&mut self, posted: &Posted<'_>) {
        match self.kind {
            "password" => {}
            "checkbox" => self.checked = posted.flag(self.name),
            "select" | "choices" => {
                let picked = posted.all(self.name);
                for o in &mut self.options {
                    o.2 = picked.contains(&o.0.as_str());
                }
            }
            _ => self.value = posted.value(self.name).unwrap_or_default().to_string(),
        }
    }
}

/// Puts the posted values back into `fields` and each error beside the field it names;
/// returns the errors no field shows, as sentences.
pub(crate) fn refill(fields: &mut [Field], posted: &Posted<'_>, errors: &[FieldError]) -> Vec<String> {
    for f in fields.iter_mut() {
        f.refill(posted);
    }
    place(fields, errors)
}

/// Puts each error beside its field; returns those no field shows.
pub(crate) fn place(fields: &mut [Field], errors: &[FieldError]) -> Vec<String> {
    let mut rest = Vec::new();
    for e in errors {
        let field = e.loc.first().and_then(|l| fields.iter_mut().find(|f| f.name == l.as_str() && f.kind != "hidden"));
        match field {
            Some(f) if f.error.is_none() => {
                f.error = Some(match e.loc.len() {
                    1 => e.msg.clone(),
                    _ => format!("{}: {}", e.loc[1..].join("."), e.msg),
                });
            }
            Some(_) => {}
            None => rest.push(format!("{}: {}", e.loc.join("."), e.msg)),
        }
    }
    rest
}

/// A posted form, read the way the API reads JSON fields.
pub(crate) struct Posted<'a>(pub(crate) &'a [(String, String)]);

impl Posted<'_> {
    /// The field's value as typed.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value posted under `name` (check boxes).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// A text field: absent stays absent.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.value(name).map(str::to_string)
    }

    /// A text field where empty means "not given" (a slug derived, a secret kept).
    pub(crate) fn given(&self, name: &str) -> Option<String> {
        self.value(name).filter(|v| !v.trim().is_empty()).map(str::to_string)
    }

    /// A nullable text field: empty clears it (`null` in the API).
    pub(crate) fn nullable(&self, name: &str) -> Option<Option<String>> {
        self.value(name).map(|v| Some(v.to_string()).filter(|v| !v.trim().is_empty()))
    }

    /// A check box: ticked or not (a form sends nothing for an unticked box).
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.value(name).is_some_and(|v| v == "true" || v == "on" || v == "yes")
    }

    /// A list of one value per line (blank lines dropped); absent stays absent.
    pub(crate) fn lines(&self, name: &str) -> Option<Vec<String>> {
        self.value(name).map(|v| v.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
    }

    /// A nullable whole number: empty clears it; text that is no number is an error at the field.
    pub(crate) fn integer(&self, name: &str, errs: &mut ValidationErrors) -> Option<Option<i64>> {
        let v = self.value(name)?.trim();
        if v.is_empty() {
            return Some(None);
        }
        match v.parse::<i64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errs.push(FieldError::new(name, "int_parsing", "Input should be a valid integer"));
                None
            }
        }
    }

    /// A nullable JSON document: empty resets it; text that is no JSON is an error at the field.
    pub(crate) fn json(&self, name: &str, errs: &mut ValidationErrors) -> Option<Option<Value>> {
        let v = self.value(name)?.trim();
        if v.is_empty() {
            return Some(None);
        }
        match serde_json::from_str::<Value>(v) {
            Ok(doc) => Some(Some(doc)),
            Err(e) => {
                errs.push(FieldError::new(name, "json_invalid", format!("Invalid JSON: {e}")));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn reads_fields_as_the_api_does() {
        let p = pairs(&[
            ("name", " Acme "),
            ("contact_email", ""),
            ("max_tenants", "12"),
            ("bad", "twelve"),
            ("redirect_uris", "https://a.example/cb\r\n\r\n  https://b.example/cb  \n"),
            ("settings", "{\"a\": 1}"),
            ("broken", "{"),
            ("roles", "tenant_admin"),
            ("roles", "partner_admin"),
            ("on", "true"),
        ]);
        let f = Posted(&p);
        let mut errs = ValidationErrors::new();
        assert_eq!(f.text("name").as_deref(), Some(" Acme "), "values reach the rules as typed");
        assert_eq!(f.nullable("contact_email"), Some(None), "empty clears");
        assert_eq!(f.nullable("absent"), None, "absent stays absent");
        assert_eq!(f.given("contact_email"), None);
        assert_eq!(f.integer("max_tenants", &mut errs), Some(Some(12)));
        assert_eq!(f.integer("bad", &mut errs), None);
        assert_eq!(
            f.lines("redirect_uris"),
            Some(vec!["https://a.example/cb".to_string(), "https://b.example/cb".to_string()])
        );
        assert_eq!(f.json("settings", &mut errs), Some(Some(serde_json::json!({"a": 1}))));
        assert_eq!(f.json("broken", &mut errs), None);
        assert_eq!(f.all("roles"), ["tenant_admin", "partner_admin"]);
        assert!(f.flag("on") && !f.flag("off"));
        let kinds: Vec<_> = errs.errors().iter().map(|e| (e.loc[0].as_str(), e.kind)).collect();
        assert_eq!(kinds, [("bad", "int_parsing"), ("broken", "json_invalid")]);
    }

    #[test]
    fn errors_go_beside_their_field_and_passwords_are_not_shown_again() {
        let p = pairs(&[("name", "x"), ("password", "secret"), ("roles", "tenant_admin")]);
        let mut fields = vec![
            Field::text("name", "Name", ""),
            Field::password("password", "Password"),
            Field::choices("roles", "Roles", [("tenant_admin", "Tenant admin"), ("super_admin", "Super")], &[]),
            Field::json("settings", "Settings", None),
        ];
        let errors = [
            FieldError::new("name", "string_too_short", "Too short"),
            FieldError { loc: vec!["settings".into(), "password_policy".into()], msg: "Bad".into(), kind: "x" },
            FieldError::new("elsewhere", "x", "Not a field here"),
        ];
        let rest = refill(&mut fields, &Posted(&p), &errors);
        assert_eq!(fields[0].value, "x");
        assert_eq!(fields[0].error.as_deref(), Some("Too short"));
        assert_eq!(fields[1].value, "", "a password is never written back into the page");
        assert!(fields[2].options[0].2 && !fields[2].options[1].2);
        assert_eq!(fields[3].error.as_deref(), Some("password_policy: Bad"));
        assert_eq!(rest, ["elsewhere: Not a field here"]);
    }
}

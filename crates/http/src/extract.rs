//! Request extractors: the authenticated caller, JSON bodies and list queries, each failing
//! with the contract's error shapes (401, 413, 422) instead of actix's plain-text defaults.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use scaikey_app::RequestContext;
use scaikey_app::page::PageRequest;
use scaikey_domain::audit::RequestMeta;
use scaikey_domain::principal::Principal;
use scaikey_domain::validation::{FieldError, MAX_NAME_LEN, ValidationErrors};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// IP and user agent of a request.
#[must_use]
pub fn request_meta(req: &HttpRequest) -> RequestMeta {
    let header = |name| req.headers().get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    // Borrowed, not cloned: this runs for every request.
    let none = scaikey_domain::client_ip::TrustedProxies::default();
    let trusted = req.app_data::<web::Data<AppState>>().map_or(&none, |s| &s.trusted_proxies);
    RequestMeta::of_request(
        req.peer_addr().map(|a| a.ip()),
        header(header::HeaderName::from_static("x-forwarded-for")),
        header(header::USER_AGENT),
        trusted,
    )
}

/// The authenticated admin caller with request facts: the service's [`RequestContext`].
#[derive(Debug, Clone)]
pub struct Authenticated(pub RequestContext);

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Token("Not authenticated"))?
        .to_str()
        .map_err(|_| ApiError::Token("Invalid authorization header"))?;
    scaikey_verifier::bearer_token(Some(value)).map_err(|_| ApiError::Token("Invalid authorization header"))
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready((|| {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or(ApiError::App(scaikey_app::AppError::Internal(anyhow::anyhow!("state missing"))))?;
            let meta = request_meta(req);
            let principal: Principal =
                state.auth.authenticate(bearer(req)?).inspect_err(|r| state.auth.token_refused(&meta, *r))?;
            // The refused-write audit middleware sees who called.
            req.extensions_mut().insert(principal.clone());
            Ok(Authenticated(RequestContext { principal, meta }))
        })())
    }
}

/// A JSON body deserialised with the path of the first type error, so a wrong type answers
/// `422` with `loc: ["body", "field"]`. Size-capped at [`MAX_BODY_BYTES`] (413 beyond).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// `true` if the request says its body is JSON (`application/json` or a `+json` type).
fn says_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .is_some_and(|t| t == "application/json" || t.ends_with("+json"))
}

/// An optional JSON body: empty or `null` is `None`; anything else must say it is JSON (415
/// otherwise) and parse as `T` (422 otherwise).
pub fn optional_json<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
        return Ok(None);
    }
    if !says_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    parse_json(body).map(Some)
}

/// Parses JSON bytes into `T`, mapping errors to the 422 shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Invalid(
            "body",
            ValidationErrors::single(FieldError::at(&[], "missing", "Field required")),
        ));
    }
    // Every body is a JSON object; serde would otherwise accept an array as a struct's fields
    // in order. Malformed JSON still gets serde's located syntax error below.
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::Invalid(
            "body",
            ValidationErrors::single(FieldError::at(&[], "dict_type", "Input should be a JSON object")),
        ));
    }
    // `\u0000` is valid JSON but no text column can hold it, and numbers near `f64::MAX` come
    // back from PostgreSQL unreadable: refuse each such value or key, at its path, before
    // anything is parsed into a type (cheap: only bodies that may hold one are walked).
    if (bytes.windows(6).any(|w| w == br"\u0000") || may_hold_huge_number(bytes))
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        let mut errs = ValidationErrors::new();
        unstorable(&v, &mut Vec::new(), &mut errs);
        errs.into_result().map_err(|e| ApiError::Invalid("body", e))?;
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if value.is_ok()
        && let Err(e) = de.end()
    {
        return Err(ApiError::Invalid(
            "body",
            ValidationErrors::single(FieldError::at(&[], "json_invalid", e.to_string())),
        ));
    }
    value.map_err(|e| {
        let first = located(e);
        // A type error stops serde at the first bad field; look at every field on its own so the
        // caller sees all of them at once (only on this error path, so a good body pays nothing).
        let mut all = ValidationErrors::new();
        if first.kind == "type_error"
            && let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(bytes)
        {
            for (key, value) in fields {
                let alone = serde_json::Value::Object(serde_json::Map::from_iter([(key.clone(), value)]));
                if let Err(e) = serde_path_to_error::deserialize::<_, T>(alone) {
                    let e = located(e);
                    if e.loc.first() == Some(&key) {
                        all.push(e);
                    }
                }
            }
        }
        ApiError::Invalid("body", if all.is_empty() { ValidationErrors::single(first) } else { all })
    })
}

/// `true` when any string or object key in `v` holds NUL (no stored text can), or a number is
/// too large to read back.
#[must_use]
pub fn contains_nul(v: &serde_json::Value) -> bool {
    let mut errs = ValidationErrors::new();
    unstorable(v, &mut Vec::new(), &mut errs);
    !errs.is_empty()
}

/// Whether a body may hold a number beyond [`scaikey_domain::validation::MAX_STORED_NUMBER`]: an
/// exponent of three digits, or a run of 300 digits.
fn may_hold_huge_number(bytes: &[u8]) -> bool {
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 300 {
                return true;
            }
            continue;
        }
        run = 0;
        if matches!(b, b'e' | b'E') && i > 0 && bytes[i - 1].is_ascii_digit() {
            let rest = &bytes[i + 1..];
            let rest = rest.strip_prefix(b"+").unwrap_or(rest);
            if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                return true;
            }
        }
    }
    false
}

/// Records every string or object key holding NUL, and every number too large to read back,
/// at its path.
fn unstorable(v: &serde_json::Value, path: &mut Vec<String>, errs: &mut ValidationErrors) {
    fn loc(path: &[String]) -> Vec<&str> {
        path.iter().map(String::as_str).collect()
    }
    match v {
        serde_json::Value::String(s) => {
            errs.take(scaikey_domain::validation::storable(&loc(path), s));
        }
        serde_json::Value::Number(n) => {
            errs.take(scaikey_domain::validation::storable_number(&loc(path), n));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                unstorable(item, path, errs);
                path.pop();
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, item) in fields {
                path.push(k.clone());
                if errs.take(scaikey_domain::validation::storable(&loc(path), k)).is_some() {
                    unstorable(item, path, errs);
                }
                path.pop();
            }
        }
        _ => {}
    }
}

/// A serde error as a field error at the path where it happened.
fn located(e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let loc: Vec<String> = e
        .path()
        .iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect();
    let inner = e.into_inner();
    let kind = if inner.is_syntax() || inner.is_eof() { "json_invalid" } else { "type_error" };
    // serde's message ends with "at line L column C" for text input; keep it, it helps find the spot.
    let refs: Vec<&str> = loc.iter().map(String::as_str).collect();
    FieldError::at(&refs, kind, inner.to_string())
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        // A body must say it is JSON (`application/json` or a `+json` type): a form or text sent
        // to a JSON endpoint is a 415, not parsed by guess. An absent body is the 422 below.
        let json = says_json(req);
        Box::pin(async move {
            let mut buf = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::Invalid(
                        "body",
                        ValidationErrors::single(FieldError::at(
                            &[],
                            "json_invalid",
                            "Could not read the request body",
                        )),
                    )
                })?;
                if buf.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::TooLarge);
                }
                buf.extend_from_slice(&chunk);
            }
            if !json && !buf.iter().all(u8::is_ascii_whitespace) {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json(&buf).map(JsonBody)
        })
    }
}

/// Query parameters of a list endpoint, parsed leniently into strings and then validated
/// field by field (422 with `loc: ["query", name]`).
#[derive(Debug)]
pub struct ListQuery {
    params: HashMap<String, String>,
    errors: ValidationErrors,
}

impl ListQuery {
    /// Parses the query string of `req`.
    pub fn from_request(req: &HttpRequest) -> Result<ListQuery, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).map_err(|_| {
            ApiError::Invalid(
                "query",
                ValidationErrors::single(FieldError::at(&[], "value_error", "Malformed query string")),
            )
        })?;
        let mut errors = ValidationErrors::new();
        for (k, v) in &pairs {
            errors
                .take(scaikey_domain::validation::storable(&[k], v).and(scaikey_domain::validation::storable(&[k], k)));
        }
        errors.into_result().map_err(|e| ApiError::Invalid("query", e))?;
        // The last value of a repeated key wins, as in most frameworks.
        Ok(ListQuery { params: pairs.into_iter().collect(), errors: ValidationErrors::new() })
    }

    fn int(&mut self, name: &str) -> Option<i64> {
        let raw = self.params.get(name)?;
        match raw.trim().parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.errors.push(FieldError::new(name, "int_parsing", "Input should be a valid integer"));
                None
            }
        }
    }

    /// `page` and `per_page`.
    pub fn page(&mut self) -> Option<PageRequest> {
        let page = self.int("page");
        let per_page = self.int("per_page");
        match PageRequest::new(page, per_page) {
            Ok(p) => Some(p),
            Err(errs) => {
                for e in errs.errors() {
                    self.errors.push(e.clone());
                }
                None
            }
        }
    }

    /// A free-text filter (`search`), trimmed; empty means absent.
    pub fn text(&mut self, name: &str) -> Option<String> {
        let v = self.params.get(name)?.trim();
        if v.is_empty() {
            return None;
        }
        if v.chars().count() > MAX_NAME_LEN {
            self.errors.push(FieldError::new(
                name,
                "string_too_long",
                format!("String should have at most {MAX_NAME_LEN} characters"),
            ));
            return None;
        }
        Some(v.to_string())
    }

    /// A filter of one of a fixed set of values.
    pub fn choice<T: Copy>(&mut self, name: &str, all: &[T], wire: impl Fn(T) -> &'static str) -> Option<T> {
        let raw = self.params.get(name)?.trim().to_string();
        if raw.is_empty() {
            return None;
        }
        match scaikey_domain::validation::one_of(name, &raw, all, wire) {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// An ID filter.
    pub fn id<T: FromStr>(&mut self, name: &str) -> Option<T> {
        let raw = self.params.get(name)?.trim().to_string();
        if raw.is_empty() {
            return None;
        }
        match scaikey_domain::validation::id::<T>(name, &raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records a problem found by the caller's own parsing.
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    /// Ends parsing: every problem found, or nothing.
    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result().map_err(|e| ApiError::Invalid("query", e))
    }
}

/// Parses a path ID; a wrong shape is the resource's 404 (contract §3).
pub fn path_id<T: FromStr>(raw: &str, resource: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::App(scaikey_app::AppError::NotFound(resource)))
}

pub use scaikey_dto::double_option;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: Option<String>,
        n: Option<i64>,
        #[serde(default, deserialize_with = "double_option")]
        c: Option<Option<String>>,
    }

    fn loc(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Invalid("body", errs) => errs.errors()[0].loc.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_errors_are_located() {
        assert_eq!(loc(parse_json::<Body>(br#"{"name": 5}"#).unwrap_err()), vec!["name"]);
        assert!(loc(parse_json::<Body>(b"{nope").unwrap_err()).is_empty());
        assert!(parse_json::<Body>(b"").is_err());
        assert!(parse_json::<Body>(br#"{} trailing"#).is_err());
        let b: Body = parse_json(br#"{"c": null}"#).unwrap();
        assert_eq!(b.c, Some(None));
        let b: Body = parse_json(br#"{}"#).unwrap();
        assert_eq!(b.c, None);
    }

    #[test]
    fn every_field_of_the_wrong_type_is_reported() {
        let all = |body: &[u8]| match parse_json::<Body>(body).unwrap_err() {
            ApiError::Invalid("body", errs) => {
                errs.errors().iter().map(|e| (e.loc.join("."), e.kind)).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        // In field-name order.
        assert_eq!(
            all(br#"{"name": 5, "n": "x", "c": [1]}"#),
            [("c".to_string(), "type_error"), ("n".to_string(), "type_error"), ("name".to_string(), "type_error")]
        );
        assert_eq!(all(br#"{"name": "ok", "n": 1.5}"#), [("n".to_string(), "type_error")]);
        // A syntax error stays one error at the spot.
        assert_eq!(all(br#"{"name": 5, "n": }"#).len(), 1);
    }

    #[test]
    fn nul_anywhere_in_a_body_is_refused_at_its_path() {
        let all = |body: &[u8]| match parse_json::<serde_json::Value>(body).unwrap_err() {
            ApiError::Invalid("body", errs) => errs.errors().iter().map(|e| e.loc.join(".")).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            all(br#"{"name": "a\u0000b", "attrs": {"k\u0000": "v", "ok": ["x", "y\u0000"]}}"#),
            ["attrs.k\u{0}", "attrs.ok.1", "name"]
        );
        // An escaped backslash before u0000 is plain text.
        assert!(parse_json::<serde_json::Value>(br#"{"name": "a\\u0000b"}"#).is_ok());
        // Numbers PostgreSQL would write back unreadably are refused at their path too.
        assert_eq!(all(br#"{"branding": {"x": [1, 1.7976931348623155e308]}, "ok": 1e300}"#), ["branding.x.1"]);
    }
}

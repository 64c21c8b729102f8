//! Every step of the authorization request, as a table.

use super::*;
use crate::test_fixtures::application;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn params(extra: &[(&str, &str)]) -> Params {
    let mut pairs: Vec<(String, String)> = vec![
        ("client_id".into(), "ck_web".into()),
        ("redirect_uri".into(), "https://app.example.com/cb".into()),
        ("response_type".into(), "code".into()),
        ("scope".into(), "openid email".into()),
        ("state".into(), "st-1".into()),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k || k == &"resource");
        if !v.is_empty() || *k == "resource" {
            pairs.push(((*k).into(), (*v).into()));
        }
    }
    Params::new(pairs)
}

fn web() -> Application {
    application(ApplicationType::Web)
}

fn reply_error(r: Result<AuthorizationRequest, AuthorizeError>) -> (&'static str, Option<String>) {
    match r {
        Err(AuthorizeError::Reply { error, to, .. }) => (error, to.state),
        other => panic!("expected a reply error, got {other:?}"),
    }
}

#[test]
fn a_good_request_passes_with_its_values() {
    let r = check(
        &params(&[("nonce", "n-1"), ("max_age", "300"), ("login_hint", "a@b.example"), ("tenant", "acme")]),
        Some(&web()),
    )
    .unwrap();
    assert_eq!(r.reply.redirect_uri, "https://app.example.com/cb");
    assert_eq!(r.reply.state.as_deref(), Some("st-1"));
    assert_eq!(r.reply.response_mode, ResponseMode::Query);
    assert_eq!(r.scopes, ["openid", "email"]);
    assert!(r.is_openid());
    assert_eq!((r.nonce.as_deref(), r.max_age), (Some("n-1"), Some(300)));
    assert_eq!((r.login_hint.as_deref(), r.tenant_hint.as_deref()), (Some("a@b.example"), Some("acme")));
    assert!(r.code_challenge.is_none(), "a confidential client may skip PKCE");
}

#[test]
fn client_and_redirect_errors_are_pages_never_redirects() {
    let mut suspended = web();
    suspended.status = Status::Suspended;
    let service = application(ApplicationType::Service);
    let good = web();
    let cases: Vec<(Params, Option<&Application>)> = vec![
        (params(&[]), None),
        (params(&[]), Some(&suspended)),
        (params(&[]), Some(&service)),
        (params(&[("redirect_uri", "")]), Some(&good)),
        (params(&[("redirect_uri", "https://evil.example/cb")]), Some(&good)),
        (params(&[("redirect_uri", "https://app.example.com/cb?x=1")]), Some(&good)),
    ];
    for (p, app) in cases {
        assert!(matches!(check(&p, app), Err(AuthorizeError::Page(_))), "{p:?}");
    }
    let twice = Params::new(vec![("client_id".into(), "a".into()), ("client_id".into(), "b".into())]);
    assert!(matches!(client_id(&twice), Err(AuthorizeError::Page(_))));
    assert!(matches!(client_id(&Params::default()), Err(AuthorizeError::Page(_))));
}

#[test]
fn later_errors_go_back_to_the_client_with_state() {
    let mut no_code = web();
    no_code.grant_types = vec!["refresh_token".into()];
    let cases: [(&[(&str, &str)], &'static str); 16] = [
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "code id_token")], "unsupported_response_type"),
        (&[("response_type", "")], "invalid_request"),
        (&[("response_mode", "fragment")], "invalid_request"),
        (&[("scope", "openid admin:write")], "invalid_scope"),
        (&[("scope", "openid bad\"scope")], "invalid_scope"),
        (&[("resource", "https://elsewhere.example")], "invalid_target"),
        (&[("code_challenge", CHALLENGE), ("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge", CHALLENGE)], "invalid_request"),
        (&[("code_challenge", "short"), ("code_challenge_method", "S256")], "invalid_request"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("prompt", "sometimes")], "invalid_request"),
        (&[("max_age", "-1")], "invalid_request"),
        (&[("max_age", "soon")], "invalid_request"),
        (&[("request", "eyJ...")], "request_not_supported"),
        (&[("request_uri", "https://x.example/r")], "request_uri_not_supported"),
    ];
    for (extra, code) in cases {
        assert_eq!(reply_error(check(&params(extra), Some(&web()))), (code, Some("st-1".into())), "{extra:?}");
    }
    assert_eq!(reply_error(check(&params(&[]), Some(&no_code))).0, "unauthorized_client");
    let dup = Params::new([params(&[]).pairs().to_vec(), vec![("scope".into(), "openid".into())]].concat());
    assert_eq!(reply_error(check(&dup, Some(&web()))).0, "invalid_request");
    // A repeated state too, and neither of its values goes back.
    let two_states = Params::new([params(&[]).pairs().to_vec(), vec![("state".into(), "st-2".into())]].concat());
    assert_eq!(reply_error(check(&two_states, Some(&web()))), ("invalid_request", None));
    // form_post is honoured for the error too.
    match check(&params(&[("response_mode", "form_post"), ("response_type", "token")]), Some(&web())) {
        Err(AuthorizeError::Reply { to, .. }) => assert_eq!(to.response_mode, ResponseMode::FormPost),
        other => panic!("{other:?}"),
    }
}

#[test]
fn public_clients_need_s256_and_loopback_ports_are_free_for_native_apps() {
    let mut native = application(ApplicationType::Native);
    native.redirect_uris = vec!["http://127.0.0.1/cb".into()];
    let p = |extra: &[(&str, &str)]| {
        let mut all = vec![("redirect_uri", "http://127.0.0.1:61000/cb")];
        all.extend_from_slice(extra);
        params(&all)
    };
    assert_eq!(reply_error(check(&p(&[]), Some(&native))).0, "invalid_request", "PKCE required");
    let ok = check(&p(&[("code_challenge", CHALLENGE), ("code_challenge_method", "S256")]), Some(&native)).unwrap();
    assert_eq!(ok.code_challenge.map(|c| c.as_str().to_string()).as_deref(), Some(CHALLENGE));
    assert_eq!(ok.reply.redirect_uri, "http://127.0.0.1:61000/cb", "the requested port is where the code goes");
}

#[test]
fn prompt_and_resource_values() {
    let r =
        check(&params(&[("prompt", "login consent"), ("resource", "https://api.example.com")]), Some(&web())).unwrap();
    assert_eq!(r.prompt, Prompt { login: true, consent: true, ..Prompt::default() });
    assert_eq!(r.resource.as_deref(), Some("https://api.example.com"));
    let r = check(&params(&[("prompt", "none")]), Some(&web())).unwrap();
    assert!(r.prompt.none);
    let long = "s".repeat(MAX_STATE_LEN + 1);
    let e = check(&params(&[("state", &long)]), Some(&web())).unwrap_err();
    assert!(matches!(e, AuthorizeError::Reply { ref to, .. } if to.state.is_none()), "a too-long state is not echoed");
}

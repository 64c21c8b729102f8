//! Token issuance: refusals are audited one by one, issued tokens as one tally per client.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use scaikey_domain::audit::{AuditRecord, AuditResult, RequestMeta};

use super::{OAuthError, OAuthService};
use crate::ports::{AuditSink, MockClientDirectory, MockClientSecrets, MockTokenCodec};
use crate::test_support::{fixed_clock, ids, service_app};

#[derive(Default)]
struct Recorded(Mutex<Vec<AuditRecord>>);

impl AuditSink for Recorded {
    fn submit(&self, record: AuditRecord, _at: DateTime<Utc>) {
        if let Ok(mut v) = self.0.lock() {
            v.push(record);
        }
    }
}

impl Recorded {
    fn take(&self) -> Vec<AuditRecord> {
        self.0.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }
}

fn service(audit: Arc<Recorded>) -> OAuthService {
    let mut apps = MockClientDirectory::new();
    apps.expect_by_client_id().returning(|id| {
        Ok(match id {
            "ck_1" => Some(Arc::new((service_app(1), Some(b"digest-1".to_vec())))),
            "ck_2" => Some(Arc::new((service_app(2), Some(b"digest-2".to_vec())))),
            _ => None,
        })
    });
    let mut secrets = MockClientSecrets::new();
    secrets.expect_verify().returning(|secret, stored| secret.as_bytes() == stored);
    let mut codec = MockTokenCodec::new();
    codec.expect_sign().returning(|_| Ok("jwt".into()));
    OAuthService::new(
        Arc::new(apps),
        Arc::new(secrets),
        Arc::new(codec),
        Arc::new(fixed_clock()),
        Arc::new(ids(9)),
        audit,
        Arc::new(crate::revocation::RevocationList::new()),
    )
}

#[tokio::test]
async fn refusals_are_audited_at_once_and_issued_tokens_as_one_tally_per_client() {
    let audit = Arc::new(Recorded::default());
    let oauth = service(audit.clone());
    let meta = RequestMeta::default();
    for _ in 0..3 {
        assert!(oauth.client_credentials("ck_1", "digest-1", Some("admin:read"), &[], &meta).await.is_ok());
    }
    assert!(oauth.client_credentials("ck_2", "digest-2", None, &[], &meta).await.is_ok());
    let refused = oauth.client_credentials("ck_1", "wrong", None, &[], &meta).await;
    assert_eq!(refused.err(), Some(OAuthError::InvalidClient));
    let now = audit.take();
    assert_eq!(now.len(), 1, "only the refusal is written before a flush");
    assert_eq!((now[0].action, now[0].result), ("auth.token", AuditResult::Failure));
    assert_eq!(now[0].details["error"], "invalid_client");

    assert_eq!(oauth.flush_issued(), 2);
    let mut tallies = audit.take();
    tallies.sort_by_key(|r| r.resource_id.clone());
    let counts: Vec<(Option<String>, u64)> =
        tallies.iter().map(|r| (r.actor_id.clone(), r.details["tokens"].as_u64().unwrap_or(0))).collect();
    assert_eq!(counts, vec![(Some(service_app(1).id.to_string()), 3), (Some(service_app(2).id.to_string()), 1)]);
    assert!(tallies.iter().all(|r| r.result == AuditResult::Success && r.details.get("client_secret").is_none()));
    assert_eq!(tallies[0].details["scope"], "admin:read");
    // Drained: nothing more until new tokens are issued.
    assert_eq!(oauth.flush_issued(), 0);
}

#[tokio::test]
async fn the_audience_is_the_allowed_resource_else_scaikey() {
    let audit = Arc::new(Recorded::default());
    let oauth = service(audit.clone());
    let meta = RequestMeta::default();
    let t = oauth.client_credentials("ck_1", "digest-1", Some("reports:read"), &[], &meta).await.unwrap();
    assert_eq!((t.audience.as_str(), t.scope.as_str()), ("scaikey", "reports:read"));
    let t = oauth
        .client_credentials("ck_1", "digest-1", None, &["https://reports.example", "https://reports.example"], &meta)
        .await
        .unwrap();
    assert_eq!(t.audience, "https://reports.example");
    assert_eq!(t.scope, "admin:read reports:read");
    for (resources, code) in [
        (&["https://other.example"][..], "invalid_target"),
        (&["not a uri"][..], "invalid_target"),
        (&["https://reports.example", "urn:x"][..], "invalid_target"),
    ] {
        let e = oauth.client_credentials("ck_1", "digest-1", None, resources, &meta).await.unwrap_err();
        assert_eq!(e.code(), code, "{resources:?}");
    }
    let e = oauth.client_credentials("ck_1", "digest-1", Some("reports:write"), &[], &meta).await.unwrap_err();
    assert_eq!(e, OAuthError::InvalidScope("Scope 'reports:write' is not allowed for this client".into()));
    // Refusals are audited with their error; the tally names the audiences issued for.
    let refused = audit.take();
    assert_eq!(refused.iter().filter(|r| r.details["error"] == "invalid_target").count(), 3);
    oauth.flush_issued();
    let tally = audit.take();
    assert_eq!(tally[0].details["audiences"], serde_json::json!(["https://reports.example"]));
}

#[tokio::test]
async fn an_exchange_keeps_the_subject_names_the_actor_and_never_outlives_the_subject_token() {
    use crate::ports::AccessToken;
    use scaikey_domain::delegation::{ACCESS_TOKEN_TYPE, Actor, TOKEN_EXCHANGE};
    use scaikey_domain::id::{SessionId, UserId};
    use scaikey_domain::principal::{Principal, UserPrincipal};

    let user = UserId::generate_from(ulid::Ulid::from_parts(4, 4));
    let subject_expiry = Utc.with_ymd_and_hms(2026, 11, 22, 12, 5, 0).single().unwrap_or_default();
    let subject = AccessToken {
        principal: Principal::User(UserPrincipal {
            user_id: user,
            session_id: SessionId::generate_from(ulid::Ulid::from_parts(4, 5)),
            tenant_id: None,
            partner_id: None,
            roles: Default::default(),
        }),
        scope: vec!["reports:read".into(), "openid".into()],
        audience: "https://reports.example".into(),
        client_id: Some("ck_web".into()),
        jti: ulid::Ulid::from_parts(1_800_000_000_000, 1),
        issued_at: subject_expiry - chrono::Duration::hours(1),
        expires_at: subject_expiry,
        act: Some(Actor::new("ck_edge", Some("ck_edge"))),
    };
    let mut app = service_app(1);
    app.token_exchange_allowed = true;
    app.grant_types.push(TOKEN_EXCHANGE.into());
    let mut apps = MockClientDirectory::new();
    apps.expect_by_client_id().returning(move |_| Ok(Some(Arc::new((app.clone(), Some(b"s".to_vec()))))));
    let mut secrets = MockClientSecrets::new();
    secrets.expect_verify().returning(|secret, stored| secret.as_bytes() == stored);
    let signed = Arc::new(Mutex::new(None));
    let mut codec = MockTokenCodec::new();
    let s2 = subject.clone();
    codec.expect_verify_any_audience().returning(move |_| Ok(s2.clone()));
    let keep = signed.clone();
    codec.expect_sign().returning(move |t| {
        if let Ok(mut k) = keep.lock() {
            *k = Some(t.clone());
        }
        Ok("jwt".into())
    });
    let audit = Arc::new(Recorded::default());
    let oauth = OAuthService::new(
        Arc::new(apps),
        Arc::new(secrets),
        Arc::new(codec),
        Arc::new(fixed_clock()),
        Arc::new(ids(9)),
        audit.clone(),
        Arc::new(crate::revocation::RevocationList::new()),
    );
    let req = super::ExchangeRequest {
        client_id: "ck_1",
        secret: "s",
        subject_token: "t",
        subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: None,
        scope: None,
        targets: &[],
    };
    let t = oauth.token_exchange(&req, &RequestMeta::default()).await.unwrap();
    // The subject token's scopes the client may hold; its audience when none is asked for.
    assert_eq!((t.scope.as_str(), t.audience.as_str()), ("reports:read", "https://reports.example"));
    // Five minutes were left on the subject token: the new one ends with it, not in 600 s.
    assert_eq!(t.expires_in, 300);
    let issued = signed.lock().unwrap().clone().unwrap();
    assert_eq!(issued.principal, subject.principal);
    assert_eq!(issued.client_id.as_deref(), Some("ck_1"));
    assert_eq!(issued.act.as_ref().unwrap().chain(), ["ck_1", "ck_edge"]);
    let rec = audit.take();
    assert_eq!((rec[0].action, rec[0].result), ("auth.token_exchange", AuditResult::Success));
    assert_eq!(rec[0].details["act"], serde_json::json!(["ck_1", "ck_edge"]));
}

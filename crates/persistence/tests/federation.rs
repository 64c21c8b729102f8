//! Federated sign-ins against PostgreSQL: a started sign-in is taken by exactly one of many
//! racing callbacks and never once expired; the first sign-in creates the user under the
//! partner's user limit (nothing linked when the limit refuses) or links an existing one; an
//! upstream subject links to one user only; later sign-ins update the profile without taking
//! another user's e-mail; links are listed and removed; a tenant's standing reads its partner.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use diesel_async::RunQueryDsl;
use scaikey_app::RepoError;
use scaikey_app::ports::UserRepository;
use scaikey_app::ports::federation::{FederatedSignIn, FederationRepository, LinkTarget, NewFederationState};
use scaikey_domain::id::{IdentityProviderId, TenantId, UserId};
use scaikey_testkit::TestDb;
use serde_json::json;

#[path = "support/db.rs"]
mod db;
use db::{at, audit};

struct World {
    tenant: TenantId,
    idp: IdentityProviderId,
    ann: UserId,
}

async fn sql(t: &TestDb, q: &str) {
    let mut c = t.connect().await.unwrap();
    diesel::sql_query(q).execute(&mut c).await.unwrap();
}

/// A partner allowing `max_users` per tenant, its tenant with one user (Ann), and an IdP.
async fn world(t: &TestDb, max_users: i32) -> World {
    let ulid = ulid::Ulid::new;
    let (p, tn, i, a) = (ulid(), ulid(), ulid(), ulid());
    let u = |x: ulid::Ulid| uuid::Uuid::from(x);
    sql(t, &format!("INSERT INTO partners (id, name, slug, status, max_users_per_tenant, created_at, updated_at) VALUES ('{}', 'P', 'p-{p}', 'active', {max_users}, now(), now())", u(p))).await;
    sql(t, &format!("INSERT INTO tenants (id, partner_id, name, slug, status, created_at, updated_at) VALUES ('{}', '{}', 'T', 't-{tn}', 'active', now(), now())", u(tn), u(p))).await;
    sql(t, &format!("INSERT INTO identity_providers (id, tenant_id, name, protocol, issuer, client_id, created_at, updated_at) VALUES ('{}', '{}', 'Corp', 'OIDC', 'https://login.corp.example', 'c', now(), now())", u(i), u(tn))).await;
    sql(t, &format!("INSERT INTO users (id, tenant_id, email, status, created_at, updated_at) VALUES ('{}', '{}', 'Ann@Corp.example', 'active', now(), now())", u(a), u(tn))).await;
    World {
        tenant: TenantId::generate_from(tn),
        idp: IdentityProviderId::generate_from(i),
        ann: UserId::generate_from(a),
    }
}

fn started(idp: IdentityProviderId, state: &[u8], expires: i64) -> NewFederationState {
    NewFederationState {
        state_hmac: state.to_vec(),
        idp_id: idp,
        binding_hmac: b"binding".to_vec(),
        nonce: "n".into(),
        code_verifier: "v".into(),
        interaction: "sealed".into(),
        expires_at: at(expires),
        identity: None,
    }
}

fn sign_in(w: &World, subject: &str, target: LinkTarget, email: &str) -> FederatedSignIn {
    FederatedSignIn {
        idp_id: w.idp,
        tenant_id: w.tenant,
        subject: subject.into(),
        target,
        email: Some(email.into()),
        email_verified: true,
        first_name: Some("Zoë".into()),
        last_name: None,
        attributes: json!({"dept": "R&D"}).as_object().cloned().unwrap(),
    }
}

#[tokio::test]
async fn a_started_sign_in_is_taken_once() {
    let (t, db) = db::fresh().await;
    let w = world(&t, 10).await;
    let repo = db.federation();
    assert!(repo.insert_state(&started(w.idp, b"state-1", 600), ip(), 30, at(0)).await.unwrap());
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move { repo.take_state(b"state-1", at(1)).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for r in racers {
        if let Some(s) = r.await.unwrap() {
            assert_eq!((s.idp_id, s.nonce.as_str(), s.interaction.as_str()), (w.idp, "n", "sealed"));
            taken += 1;
        }
    }
    assert_eq!(taken, 1, "exactly one callback gets the sign-in");
    // Expired: never answered (and gone).
    assert!(repo.insert_state(&started(w.idp, b"state-2", 10), ip(), 30, at(0)).await.unwrap());
    assert!(repo.take_state(b"state-2", at(11)).await.unwrap().is_none());
    assert!(repo.take_state(b"unknown", at(0)).await.unwrap().is_none());
    // Abandoned sign-ins go when new ones start.
    assert!(repo.insert_state(&started(w.idp, b"state-3", 10), ip(), 30, at(0)).await.unwrap());
    assert!(repo.insert_state(&started(w.idp, b"state-4", 100), ip(), 30, at(50)).await.unwrap());
    let mut c = t.connect().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM federation_states").get_result(&mut c).await.unwrap();
    assert_eq!(n.n, 2, "state-1 (used, not expired) and state-4");

    // One address starts at most `per_minute` a minute; others are not held back.
    for i in 0..3 {
        assert!(repo.insert_state(&started(w.idp, format!("b-{i}").as_bytes(), 600), ip(), 4, at(60)).await.unwrap());
    }
    assert!(!repo.insert_state(&started(w.idp, b"b-3", 600), ip(), 4, at(61)).await.unwrap(), "the fifth in a minute");
    assert!(repo.insert_state(&started(w.idp, b"other", 600), Some("198.51.100.9".into()), 4, at(61)).await.unwrap());
    assert!(repo.insert_state(&started(w.idp, b"b-4", 600), ip(), 4, at(125)).await.unwrap(), "a minute later");
    assert!(repo.take_state(b"b-3", at(62)).await.unwrap().is_none(), "the refused one was not stored");
}

#[tokio::test]
async fn a_saml_answer_is_attached_once_and_an_assertion_accepted_once() {
    let (t, db) = db::fresh().await;
    let w = world(&t, 10).await;
    let repo = db.federation();
    assert!(repo.insert_state(&started(w.idp, b"relay", 600), ip(), 30, at(0)).await.unwrap());
    assert_eq!(repo.peek_state(b"relay", at(1)).await.unwrap().map(|s| s.nonce), Some("n".into()));
    let who = scaikey_domain::federated::saml_identity("kim-1", None, &[]);
    assert!(repo.attach_identity(b"relay", &who, at(2)).await.unwrap());
    assert!(!repo.attach_identity(b"relay", &who, at(2)).await.unwrap(), "answered once");
    assert!(repo.peek_state(b"relay", at(3)).await.unwrap().is_none(), "an answered sign-in is not answered again");
    let taken = repo.take_state(b"relay", at(4)).await.unwrap().unwrap();
    assert_eq!(taken.identity.map(|i| i.subject), Some("kim-1".into()));
    assert!(!repo.attach_identity(b"relay", &who, at(5)).await.unwrap(), "gone");

    assert!(repo.first_use_of_assertion(w.idp, "_a1", at(100), at(0)).await.unwrap());
    assert!(!repo.first_use_of_assertion(w.idp, "_a1", at(100), at(1)).await.unwrap(), "a replay");
    let other = IdentityProviderId::generate_from(ulid::Ulid::new());
    assert!(repo.first_use_of_assertion(other, "_a1", at(100), at(1)).await.unwrap(), "IDs are per IdP");
    // Forgotten once expired (its assertion can no longer be accepted anyway).
    assert!(repo.first_use_of_assertion(w.idp, "_a1", at(300), at(200)).await.unwrap());
}

fn ip() -> Option<String> {
    Some("203.0.113.7".into())
}

#[tokio::test]
async fn first_sign_ins_create_or_link_and_later_ones_update() {
    let (t, db) = db::fresh().await;
    let w = world(&t, 2).await;
    let repo = db.federation();
    let found = repo.user_by_email(w.tenant, "ANN@corp.EXAMPLE").await.unwrap().unwrap();
    assert_eq!((found.user, found.admin), (w.ann, false));
    let standing = repo.tenant_standing(w.tenant).await.unwrap().unwrap();
    assert!(standing.tenant_active && standing.partner_active && standing.partner_id.is_some());

    // JIT: a new user with the upstream's profile, linked.
    let zoe = UserId::generate_from(ulid::Ulid::new());
    let got = repo
        .sign_in(
            &sign_in(&w, "sub-zoe", LinkTarget::Create(zoe), "zoe@corp.example"),
            at(1),
            Some(audit("user.create")),
        )
        .await
        .unwrap();
    assert_eq!(got, zoe);
    assert_eq!(repo.linked_user(w.idp, "sub-zoe").await.unwrap(), Some(zoe));
    let u = db.users().get(zoe).await.unwrap().unwrap();
    assert_eq!(
        (u.email.as_str(), u.first_name.as_deref(), u.email_verified, u.password_set),
        ("zoe@corp.example", Some("Zoë"), true, false)
    );
    assert_eq!(u.custom_attributes, json!({"dept": "R&D"}));

    // The partner allows two users per tenant: a third is refused and nothing is linked.
    let third = UserId::generate_from(ulid::Ulid::new());
    let r = repo.sign_in(&sign_in(&w, "sub-3", LinkTarget::Create(third), "third@corp.example"), at(2), None).await;
    assert!(matches!(r, Err(RepoError::LimitReached(_))), "{r:?}");
    assert_eq!(repo.linked_user(w.idp, "sub-3").await.unwrap(), None);
    assert!(db.users().get(third).await.unwrap().is_none());

    // An upstream subject links to one user only; a user has one subject per IdP.
    let r = repo.sign_in(&sign_in(&w, "sub-zoe", LinkTarget::Existing(w.ann), "ann@corp.example"), at(3), None).await;
    assert!(matches!(r, Err(RepoError::Conflict(_))), "{r:?}");
    repo.sign_in(&sign_in(&w, "sub-ann", LinkTarget::Existing(w.ann), "ann@corp.example"), at(3), None).await.unwrap();
    let r = repo.sign_in(&sign_in(&w, "sub-ann-2", LinkTarget::Existing(w.ann), "ann@corp.example"), at(4), None).await;
    assert!(matches!(r, Err(RepoError::Conflict(_))), "{r:?}");

    // A later sign-in whose upstream e-mail is another user's keeps the stored one; attributes
    // merge over those stored.
    let mut later = sign_in(&w, "sub-zoe", LinkTarget::Linked(zoe), "ann@corp.example");
    later.attributes = json!({"site": "Oslo"}).as_object().cloned().unwrap();
    repo.sign_in(&later, at(5), None).await.unwrap();
    let u = db.users().get(zoe).await.unwrap().unwrap();
    assert_eq!(u.email, "zoe@corp.example");
    assert_eq!(u.custom_attributes, json!({"dept": "R&D", "site": "Oslo"}));
    assert_eq!(u.last_login_at, Some(at(5)));

    let links = repo.links_of(zoe).await.unwrap();
    assert_eq!((links.len(), links[0].subject.as_str(), links[0].last_login_at), (1, "sub-zoe", at(5)));
    assert!(repo.unlink(zoe, w.idp, at(6), &audit("user.unlink_identity")).await.unwrap());
    assert!(!repo.unlink(zoe, w.idp, at(6), &audit("user.unlink_identity")).await.unwrap());
    assert_eq!(repo.linked_user(w.idp, "sub-zoe").await.unwrap(), None);

    // A deleted user's link leads nowhere.
    sql(&t, &format!("UPDATE users SET deleted_at = now() WHERE id = '{}'", uuid::Uuid::from(w.ann.ulid()))).await;
    assert_eq!(repo.linked_user(w.idp, "sub-ann").await.unwrap(), None);
    sql(
        &t,
        &format!(
            "UPDATE partners SET status = 'suspended' WHERE id = '{}'",
            uuid::Uuid::from(standing.partner_id.unwrap().ulid())
        ),
    )
    .await;
    assert!(!repo.tenant_standing(w.tenant).await.unwrap().unwrap().partner_active);
}

#[tokio::test]
async fn a_changed_email_is_as_verified_as_the_upstream_says_and_a_deleted_users_link_is_taken_over() {
    let (t, db) = db::fresh().await;
    let w = world(&t, 10).await;
    let repo = db.federation();
    let zoe = UserId::generate_from(ulid::Ulid::new());
    repo.sign_in(&sign_in(&w, "sub-zoe", LinkTarget::Create(zoe), "zoe@corp.example"), at(1), None).await.unwrap();
    assert!(db.users().get(zoe).await.unwrap().unwrap().email_verified);
    // A new address the upstream does not vouch for: stored, not verified.
    let mut moved = sign_in(&w, "sub-zoe", LinkTarget::Linked(zoe), "zoe.new@corp.example");
    moved.email_verified = false;
    repo.sign_in(&moved, at(2), None).await.unwrap();
    let u = db.users().get(zoe).await.unwrap().unwrap();
    assert_eq!((u.email.as_str(), u.email_verified), ("zoe.new@corp.example", false));
    // The same address, now vouched for: verified; and it stays so when a later answer is silent.
    repo.sign_in(&sign_in(&w, "sub-zoe", LinkTarget::Linked(zoe), "ZOE.NEW@corp.example"), at(3), None).await.unwrap();
    assert!(db.users().get(zoe).await.unwrap().unwrap().email_verified);
    repo.sign_in(&moved, at(4), None).await.unwrap();
    assert!(db.users().get(zoe).await.unwrap().unwrap().email_verified);
    // Zoe deleted: the person's next first sign-in creates a user and takes the link over.
    sql(&t, &format!("UPDATE users SET deleted_at = now() WHERE id = '{}'", uuid::Uuid::from(zoe.ulid()))).await;
    let again = UserId::generate_from(ulid::Ulid::new());
    let got = repo
        .sign_in(&sign_in(&w, "sub-zoe", LinkTarget::Create(again), "zoe@corp.example"), at(5), None)
        .await
        .unwrap();
    assert_eq!((got, repo.linked_user(w.idp, "sub-zoe").await.unwrap()), (again, Some(again)));
}

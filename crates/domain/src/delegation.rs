//! Token exchange (RFC 8693, contract §12): which subject tokens an application may exchange,
//! who the new token says is acting (`act`, nested for chains), and how its scope narrows.
//!
//! ```
//! use scaikey_domain::delegation::{Actor, exchanged_scope};
//!
//! // An agent exchanges a user's token: the new token's `act` names the agent, and keeps the
//! // chain the user's token already had.
//! let earlier = Actor::new("svc-frontend", None);
//! let act = Actor::new("ag_helpdesk", Some("ag_helpdesk")).acting_after(Some(earlier));
//! assert_eq!(act.chain(), ["ag_helpdesk", "svc-frontend"]);
//!
//! let subject = ["orders:read".to_string(), "orders:write".to_string()];
//! let client = ["orders:read".to_string()];
//! assert_eq!(exchanged_scope(None, &subject, &client).unwrap(), ["orders:read"]);
//! assert!(exchanged_scope(Some("orders:write"), &subject, &client).is_err());
//! ```

use crate::oauth_scope::{self, ScopeRefusal};

/// The grant type of token exchange.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The token type of an access token (the only kind exchanged and issued).
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Longest delegation chain kept (deeper ones are refused rather than grown without end).
pub const MAX_CHAIN: usize = 8;

/// Who acts for a token's subject (RFC 8693 §4.1 `act`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The acting party's subject (`sub` of its own token, or its client ID).
    pub sub: String,
    /// Its OAuth client, when it is one.
    pub client_id: Option<String>,
    /// Whom the actor acted after (the subject token's own `act`), for chains.
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// An actor without a chain behind it.
    #[must_use]
    pub fn new(sub: &str, client_id: Option<&str>) -> Actor {
        Actor { sub: sub.to_string(), client_id: client_id.map(str::to_string), act: None }
    }

    /// This actor acting on a token that already had `previous` as its actor.
    #[must_use]
    pub fn acting_after(mut self, previous: Option<Actor>) -> Actor {
        self.act = previous.map(Box::new);
        self
    }

    /// The actors, outermost (the newest) first.
    #[must_use]
    pub fn chain(&self) -> Vec<&str> {
        let mut out = vec![self.sub.as_str()];
        let mut next = self.act.as_deref();
        while let Some(a) = next {
            out.push(a.sub.as_str());
            next = a.act.as_deref();
        }
        out
    }
}

/// What the exchanging application is, for [`meant_for`].
#[derive(Debug, Clone, Copy)]
pub struct Exchanger<'a> {
    /// Its client ID.
    pub client_id: &'a str,
    /// Its `allowed_resources`.
    pub allowed_resources: &'a [String],
}

/// Whether a token is meant for `by` (to exchange it, or to introspect it): it was issued to
/// that client, or its audience is the client (its `client_id`) or one of the client's
/// resources. A token meant for someone else is refused, so nobody can turn a token they
/// intercepted into one of their own, or learn what it holds.
#[must_use]
pub fn meant_for(issued_to: Option<&str>, audience: &str, by: Exchanger<'_>) -> bool {
    issued_to == Some(by.client_id) || audience == by.client_id || by.allowed_resources.iter().any(|r| r == audience)
}

/// The scope of the exchanged token: the requested scopes (all of the rest when none are asked
/// for) among those both the subject token has and the client may hold.
///
/// # Errors
/// A requested scope outside either set.
pub fn exchanged_scope(
    requested: Option<&str>,
    subject: &[String],
    client_allowed: &[String],
) -> Result<Vec<String>, ScopeRefusal> {
    let both: Vec<String> = subject.iter().filter(|s| client_allowed.contains(s)).cloned().collect();
    oauth_scope::narrow(requested, &both)
}

/// Whether a chain may grow by one more actor.
#[must_use]
pub fn chain_may_grow(previous: Option<&Actor>) -> bool {
    previous.map_or(0, |a| a.chain().len()) < MAX_CHAIN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_meant_for_the_client_are_exchanged() {
        let resources = vec!["https://api.example.com".to_string()];
        let by = Exchanger { client_id: "ck_app", allowed_resources: &resources };
        assert!(meant_for(Some("ck_app"), "scaikey", by));
        assert!(meant_for(None, "ck_app", by));
        assert!(meant_for(Some("ck_other"), "https://api.example.com", by));
        assert!(!meant_for(Some("ck_other"), "https://other.example.com", by));
        assert!(!meant_for(None, "scaikey", by));
    }

    #[test]
    fn scope_narrows_to_both_sets() {
        let subject = vec!["openid".to_string(), "a".into(), "b".into()];
        let allowed = vec!["a".to_string(), "b".into(), "c".into()];
        assert_eq!(exchanged_scope(None, &subject, &allowed).unwrap(), ["a", "b"]);
        assert_eq!(exchanged_scope(Some("b"), &subject, &allowed).unwrap(), ["b"]);
        assert!(exchanged_scope(Some("c"), &subject, &allowed).is_err(), "not in the subject token");
        assert!(exchanged_scope(Some("openid"), &subject, &allowed).is_err(), "not the client's");
    }

    #[test]
    fn chains_nest_and_stop() {
        let mut a: Option<Actor> = None;
        for i in 0..MAX_CHAIN {
            assert!(chain_may_grow(a.as_ref()), "{i}");
            a = Some(Actor::new(&format!("a{i}"), None).acting_after(a));
        }
        assert!(!chain_may_grow(a.as_ref()));
        let a = a.unwrap();
        assert_eq!(a.chain().len(), MAX_CHAIN);
        assert_eq!(a.chain()[0], format!("a{}", MAX_CHAIN - 1));
    }
}

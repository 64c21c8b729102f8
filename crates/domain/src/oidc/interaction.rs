//! What an authorization request needs from the person before a code can be issued: a login
//! (no SSO session, `prompt=login`, or `max_age` passed), a consent (third-party applications,
//! for scopes not yet consented, or `prompt=consent`), or nothing. With `prompt=none` a needed
//! step is an error instead (`login_required`, `consent_required`; OIDC Core §3.1.2.6).

use chrono::{DateTime, Duration, Utc};

use crate::oidc::authorize::Prompt;

/// The browser's SSO session, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFacts {
    /// When the person last authenticated.
    pub auth_time: DateTime<Utc>,
    /// The session was opened by a login of this very interaction (so `prompt=login` and
    /// `max_age=0` are satisfied rather than asked again).
    pub fresh: bool,
}

/// The next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Show the login page.
    Login,
    /// Show the consent page.
    Consent,
    /// Issue the code.
    Issue,
}

/// A step that `prompt=none` forbids showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silent {
    /// `login_required`.
    LoginRequired,
    /// `consent_required`.
    ConsentRequired,
}

impl Silent {
    /// The OAuth error code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Silent::LoginRequired => "login_required",
            Silent::ConsentRequired => "consent_required",
        }
    }
}

/// Decides the next step. `consented` says whether the person already consented to every
/// requested scope for this application (ignored for first-party applications); `given_now`
/// that they did so on this interaction's consent page, which also answers `prompt=consent`
/// (else that page would be asked for again and again).
pub fn next_step(
    session: Option<SessionFacts>,
    prompt: Prompt,
    max_age: Option<i64>,
    now: DateTime<Utc>,
    first_party: bool,
    consented: bool,
    given_now: bool,
) -> Result<Step, Silent> {
    let login = match session {
        None => true,
        Some(s) if s.fresh => false,
        Some(s) => prompt.login || max_age.is_some_and(|m| now - s.auth_time > Duration::seconds(m)),
    };
    if login {
        return if prompt.none { Err(Silent::LoginRequired) } else { Ok(Step::Login) };
    }
    // A consent given in this interaction counts as `consented` (the service passes it).
    let consent = !first_party && !given_now && (!consented || prompt.consent);
    if consent {
        return if prompt.none { Err(Silent::ConsentRequired) } else { Ok(Step::Consent) };
    }
    Ok(Step::Issue)
}

/// `true` when every requested scope is among those consented.
#[must_use]
pub fn covers(consented: &[String], requested: &[String]) -> bool {
    requested.iter().all(|r| consented.iter().any(|c| c == r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::t0;

    #[test]
    fn step_table() {
        let now = t0();
        let old = Some(SessionFacts { auth_time: now - Duration::seconds(600), fresh: false });
        let fresh = Some(SessionFacts { auth_time: now, fresh: true });
        let none = Prompt { none: true, ..Prompt::default() };
        let login = Prompt { login: true, ..Prompt::default() };
        let consent = Prompt { consent: true, ..Prompt::default() };
        let any = Prompt::default();
        use Step::*;
        type Case = (Option<SessionFacts>, Prompt, Option<i64>, bool, bool, Result<Step, Silent>);
        let cases: [Case; 14] = [
            (None, any, None, true, true, Ok(Login)),
            (None, none, None, true, true, Err(Silent::LoginRequired)),
            (old, any, None, true, false, Ok(Issue)),
            (old, none, None, true, false, Ok(Issue)),
            (old, login, None, true, true, Ok(Login)),
            (fresh, login, None, true, true, Ok(Issue)),
            (old, any, Some(900), true, true, Ok(Issue)),
            (old, any, Some(300), true, true, Ok(Login)),
            (old, none, Some(300), true, true, Err(Silent::LoginRequired)),
            (fresh, any, Some(0), true, true, Ok(Issue)),
            (old, any, None, false, false, Ok(Consent)),
            (old, none, None, false, false, Err(Silent::ConsentRequired)),
            (old, any, None, false, true, Ok(Issue)),
            (old, consent, None, false, true, Ok(Consent)),
        ];
        for (s, p, max_age, first_party, consented, want) in cases {
            assert_eq!(
                next_step(s, p, max_age, now, first_party, consented, false),
                want,
                "{s:?} {p:?} {max_age:?} {first_party} {consented}"
            );
        }
        // prompt=consent is answered by the consent given on this interaction's page.
        assert_eq!(next_step(old, consent, None, now, false, true, true), Ok(Issue));
        assert_eq!(next_step(old, consent, None, now, false, false, true), Ok(Issue));
        assert_eq!(next_step(None, consent, None, now, false, true, true), Ok(Login));
    }

    #[test]
    fn consent_covers_requested_scopes() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
        assert!(covers(&s(&["openid", "email"]), &s(&["email"])));
        assert!(covers(&s(&["openid"]), &s(&[])));
        assert!(!covers(&s(&["openid"]), &s(&["openid", "email"])));
    }
}

//! Every action ScaiKey writes to the audit log, named once: services record them, the
//! refused-write middleware classifies admin requests by them, filters and metrics match them.
//! The names are part of the API (`GET /api/v1/admin/audit?action=…`); never rename one.

/// `admin.write`.
pub const ADMIN_WRITE: &str = "admin.write";

/// `agent.create`.
pub const AGENT_CREATE: &str = "agent.create";
/// `agent.delete`.
pub const AGENT_DELETE: &str = "agent.delete";
/// `agent.rotate_secret`.
pub const AGENT_ROTATE_SECRET: &str = "agent.rotate_secret";
/// `agent.update`.
pub const AGENT_UPDATE: &str = "agent.update";

/// `application.assign`.
pub const APPLICATION_ASSIGN: &str = "application.assign";
/// `application.create`.
pub const APPLICATION_CREATE: &str = "application.create";
/// `application.delete`.
pub const APPLICATION_DELETE: &str = "application.delete";
/// `application.rotate_secret`.
pub const APPLICATION_ROTATE_SECRET: &str = "application.rotate_secret";
/// `application.unassign`.
pub const APPLICATION_UNASSIGN: &str = "application.unassign";
/// `application.update`.
pub const APPLICATION_UPDATE: &str = "application.update";

/// `auth.federation_callback`.
pub const AUTH_FEDERATION_CALLBACK: &str = "auth.federation_callback";
/// `auth.invitation_accept`.
pub const AUTH_INVITATION_ACCEPT: &str = "auth.invitation_accept";
/// `auth.login`.
pub const AUTH_LOGIN: &str = "auth.login";
/// `auth.logout`.
pub const AUTH_LOGOUT: &str = "auth.logout";
/// `auth.password_forgot`.
pub const AUTH_PASSWORD_FORGOT: &str = "auth.password_forgot";
/// `auth.password_reset`.
pub const AUTH_PASSWORD_RESET: &str = "auth.password_reset";
/// `auth.token`.
pub const AUTH_TOKEN: &str = "auth.token";
/// `auth.token_exchange`.
pub const AUTH_TOKEN_EXCHANGE: &str = "auth.token_exchange";
/// `auth.token_refused`.
pub const AUTH_TOKEN_REFUSED: &str = "auth.token_refused";

/// `consent.revoke`.
pub const CONSENT_REVOKE: &str = "consent.revoke";

/// `group.create`.
pub const GROUP_CREATE: &str = "group.create";
/// `group.delete`.
pub const GROUP_DELETE: &str = "group.delete";
/// `group.member_add`.
pub const GROUP_MEMBER_ADD: &str = "group.member_add";
/// `group.member_remove`.
pub const GROUP_MEMBER_REMOVE: &str = "group.member_remove";
/// `group.nest`.
pub const GROUP_NEST: &str = "group.nest";
/// `group.unnest`.
pub const GROUP_UNNEST: &str = "group.unnest";
/// `group.update`.
pub const GROUP_UPDATE: &str = "group.update";

/// `identity_provider.create`.
pub const IDENTITY_PROVIDER_CREATE: &str = "identity_provider.create";
/// `identity_provider.delete`.
pub const IDENTITY_PROVIDER_DELETE: &str = "identity_provider.delete";
/// `identity_provider.update`.
pub const IDENTITY_PROVIDER_UPDATE: &str = "identity_provider.update";

/// `mcp.tool_call`.
pub const MCP_TOOL_CALL: &str = "mcp.tool_call";

/// `oauth.authorize`.
pub const OAUTH_AUTHORIZE: &str = "oauth.authorize";
/// `oauth.code_reuse`.
pub const OAUTH_CODE_REUSE: &str = "oauth.code_reuse";
/// `oauth.introspect`.
pub const OAUTH_INTROSPECT: &str = "oauth.introspect";
/// `oauth.refresh_reuse`.
pub const OAUTH_REFRESH_REUSE: &str = "oauth.refresh_reuse";
/// `oauth.revoke`.
pub const OAUTH_REVOKE: &str = "oauth.revoke";

/// `partner.create`.
pub const PARTNER_CREATE: &str = "partner.create";
/// `partner.delete`.
pub const PARTNER_DELETE: &str = "partner.delete";
/// `partner.update`.
pub const PARTNER_UPDATE: &str = "partner.update";

/// `registration.approve`.
pub const REGISTRATION_APPROVE: &str = "registration.approve";
/// `registration.cancel`.
pub const REGISTRATION_CANCEL: &str = "registration.cancel";
/// `registration.create`.
pub const REGISTRATION_CREATE: &str = "registration.create";
/// `registration.reject`.
pub const REGISTRATION_REJECT: &str = "registration.reject";

/// `session.revoke`.
pub const SESSION_REVOKE: &str = "session.revoke";

/// `signing_key.rotate`.
pub const SIGNING_KEY_ROTATE: &str = "signing_key.rotate";

/// `tenant.create`.
pub const TENANT_CREATE: &str = "tenant.create";
/// `tenant.delete`.
pub const TENANT_DELETE: &str = "tenant.delete";
/// `tenant.update`.
pub const TENANT_UPDATE: &str = "tenant.update";

/// `user.change_password`.
pub const USER_CHANGE_PASSWORD: &str = "user.change_password";
/// `user.create`.
pub const USER_CREATE: &str = "user.create";
/// `user.delete`.
pub const USER_DELETE: &str = "user.delete";
/// `user.invite`.
pub const USER_INVITE: &str = "user.invite";
/// `user.link_identity`.
pub const USER_LINK_IDENTITY: &str = "user.link_identity";
/// `user.mfa_disable`.
pub const USER_MFA_DISABLE: &str = "user.mfa_disable";
/// `user.mfa_enrol`.
pub const USER_MFA_ENROL: &str = "user.mfa_enrol";
/// `user.mfa_remove`.
pub const USER_MFA_REMOVE: &str = "user.mfa_remove";
/// `user.reset_password`.
pub const USER_RESET_PASSWORD: &str = "user.reset_password";
/// `user.unlink_identity`.
pub const USER_UNLINK_IDENTITY: &str = "user.unlink_identity";
/// `user.update`.
pub const USER_UPDATE: &str = "user.update";

/// Every action, for tests and documentation.
pub const ALL: &[&str] = &[
    ADMIN_WRITE,
    AGENT_CREATE,
    AGENT_DELETE,
    AGENT_ROTATE_SECRET,
    AGENT_UPDATE,
    APPLICATION_ASSIGN,
    APPLICATION_CREATE,
    APPLICATION_DELETE,
    APPLICATION_ROTATE_SECRET,
    APPLICATION_UNASSIGN,
    APPLICATION_UPDATE,
    AUTH_FEDERATION_CALLBACK,
    AUTH_INVITATION_ACCEPT,
    AUTH_LOGIN,
    AUTH_LOGOUT,
    AUTH_PASSWORD_FORGOT,
    AUTH_PASSWORD_RESET,
    AUTH_TOKEN,
    AUTH_TOKEN_EXCHANGE,
    AUTH_TOKEN_REFUSED,
    CONSENT_REVOKE,
    GROUP_CREATE,
    GROUP_DELETE,
    GROUP_MEMBER_ADD,
    GROUP_MEMBER_REMOVE,
    GROUP_NEST,
    GROUP_UNNEST,
    GROUP_UPDATE,
    IDENTITY_PROVIDER_CREATE,
    IDENTITY_PROVIDER_DELETE,
    IDENTITY_PROVIDER_UPDATE,
    MCP_TOOL_CALL,
    OAUTH_AUTHORIZE,
    OAUTH_CODE_REUSE,
    OAUTH_INTROSPECT,
    OAUTH_REFRESH_REUSE,
    OAUTH_REVOKE,
    PARTNER_CREATE,
    PARTNER_DELETE,
    PARTNER_UPDATE,
    REGISTRATION_APPROVE,
    REGISTRATION_CANCEL,
    REGISTRATION_CREATE,
    REGISTRATION_REJECT,
    SESSION_REVOKE,
    SIGNING_KEY_ROTATE,
    TENANT_CREATE,
    TENANT_DELETE,
    TENANT_UPDATE,
    USER_CHANGE_PASSWORD,
    USER_CREATE,
    USER_DELETE,
    USER_INVITE,
    USER_LINK_IDENTITY,
    USER_MFA_DISABLE,
    USER_MFA_ENROL,
    USER_MFA_REMOVE,
    USER_RESET_PASSWORD,
    USER_UNLINK_IDENTITY,
    USER_UPDATE,
];

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for a in super::ALL {
            assert!(seen.insert(a), "{a} twice");
            let (area, verb) = a.split_once('.').unwrap_or_default();
            let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(word(area) && word(verb), "{a}");
        }
    }
}

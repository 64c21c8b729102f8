//! Login wire types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema as s;

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// E-mail address.
    #[schema(required = true, value_type = String, example = "admin@example.com")]
    pub email: Option<String>,
    /// Password.
    #[schema(required = true, value_type = String, format = Password)]
    pub password: Option<String>,
    /// Tenant to log in to (`tnt_…`); omit for platform admins.
    #[schema(value_type = Option<s::TenantId>)]
    pub tenant_id: Option<String>,
    /// The authenticator (TOTP) or a recovery code, for users with a second factor.
    #[schema(example = "123456")]
    pub code: Option<String>,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = s::TokenType)]
    pub token_type: &'static str,
    /// Seconds until expiry.
    #[schema(minimum = 1)]
    pub expires_in: i64,
    /// A refresh token bound to the login's SSO session: `POST /oauth/token` with
    /// `grant_type=refresh_token` (and no client, or `client_id=scaikey-admin`) answers a new
    /// admin token and a new refresh token; it dies with the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

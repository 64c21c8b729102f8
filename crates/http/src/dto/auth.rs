//! Login wire types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// E-mail address.
    #[schema(required = true, value_type = String, example = "admin@example.com")]
    pub email: Option<String>,
    /// Password.
    #[schema(required = true, value_type = String)]
    pub password: Option<String>,
    /// Tenant to log in to (`tnt_…`); omit for platform admins.
    pub tenant_id: Option<String>,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until expiry.
    pub expires_in: i64,
}

//! Signing key wire types.

use chrono::{DateTime, Utc};
use scaikey_app::keys::RotationInput;
use scaikey_app::ports::keys::SigningKeyInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schema as s;

/// A token signing key (its public half is in the JWKS; the private half never leaves ScaiKey).
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyOut {
    /// The `kid` in token headers and the JWKS.
    pub kid: String,
    /// Algorithm.
    #[schema(value_type = s::SigningAlg)]
    pub alg: String,
    /// `signing` (signs new tokens of its algorithm), `pending` (published, signs from
    /// `activates_at`) or `verify_only` (published until `retires_at` so its tokens still verify).
    #[schema(value_type = s::KeyState)]
    pub state: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// From when it signs.
    pub activates_at: DateTime<Utc>,
    /// When it leaves the JWKS (null: not scheduled).
    pub retires_at: Option<DateTime<Utc>>,
}

impl From<SigningKeyInfo> for SigningKeyOut {
    fn from(k: SigningKeyInfo) -> Self {
        SigningKeyOut {
            kid: k.kid,
            alg: k.alg.as_str().to_string(),
            state: k.state.as_str().to_string(),
            created_at: k.schedule.created_at,
            activates_at: k.schedule.activates_at,
            retires_at: k.schedule.retires_at,
        }
    }
}

/// The published signing keys, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyList {
    /// Every published key.
    pub items: Vec<SigningKeyOut>,
}

/// What to rotate.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct KeyRotation {
    /// The algorithms whose keys are replaced (default: both).
    #[schema(value_type = Option<Vec<s::SigningAlg>>)]
    pub algorithms: Option<Vec<String>>,
    /// `true` for a suspected compromise: the new keys sign at once and the old ones leave the
    /// JWKS at once, so every token they signed stops verifying. Otherwise (default) the new key
    /// is published first and signs after the pre-publication time, and the old ones stay
    /// published until every token they signed has expired.
    #[serde(default)]
    pub emergency: bool,
}

impl KeyRotation {
    /// The service input.
    #[must_use]
    pub fn into_input(self) -> RotationInput {
        RotationInput { algorithms: self.algorithms, emergency: self.emergency }
    }
}

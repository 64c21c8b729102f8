//! Token signing keys for administrators: list and rotate (platform only, contract §8).

use std::sync::Arc;

use scaikey_domain::access::{Action, Target, can};
use scaikey_domain::audit::AuditRecord;
use serde_json::json;

use crate::context::RequestContext;
use crate::error::AppError;
use crate::ports::keys::{SigningKeyInfo, SigningKeys};
use scaikey_domain::audit::action;

const RESOURCE: &str = "Signing key";

pub use scaikey_domain::oidc::signing_key::RotationInput;

/// Lists and rotates the signing keys.
#[derive(Clone)]
pub struct KeyService {
    keys: Arc<dyn SigningKeys>,
}

impl std::fmt::Debug for KeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyService")
    }
}

impl KeyService {
    /// Wires the service to the key ring.
    pub fn new(keys: Arc<dyn SigningKeys>) -> Self {
        Self { keys }
    }

    /// The access check every key operation starts with (403 for all but the platform).
    pub fn authorize(ctx: &RequestContext, action: Action) -> Result<(), AppError> {
        can(&ctx.principal, action, Target::SigningKeys).into_result().map_err(AppError::denied(RESOURCE))
    }

    /// The public JWK Set.
    #[must_use]
    pub fn jwks(&self) -> Arc<serde_json::Value> {
        self.keys.jwks()
    }

    /// Every published key with its state.
    pub async fn list(&self, ctx: &RequestContext) -> Result<Vec<SigningKeyInfo>, AppError> {
        Self::authorize(ctx, Action::Read)?;
        self.keys.list().await
    }

    /// Rotates the requested algorithms' keys; audited as `signing_key.rotate`.
    pub async fn rotate(&self, ctx: &RequestContext, input: RotationInput) -> Result<Vec<SigningKeyInfo>, AppError> {
        Self::authorize(ctx, Action::Write)?;
        let request = input.validate()?;
        let audit =
            AuditRecord::success(&ctx.principal, &ctx.meta, action::SIGNING_KEY_ROTATE, "signing_key").details(json!({
                "algorithms": request.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "emergency": request.emergency,
            }));
        self.keys.rotate(&request, &audit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::keys::MockSigningKeys;
    use crate::test_support::{ctx_super, ctx_tenant_admin};
    use scaikey_domain::access::Denial;
    use scaikey_domain::oidc::signing_key::SigningAlg;

    #[tokio::test]
    async fn only_the_platform_rotates_and_the_rotation_is_audited() {
        let mut keys = MockSigningKeys::new();
        keys.expect_rotate()
            .withf(|r, a| {
                r.algorithms == [SigningAlg::Es256]
                    && a.action == "signing_key.rotate"
                    && a.details == json!({"algorithms": ["ES256"], "emergency": false})
            })
            .times(1)
            .returning(|_, _| Ok(vec![]));
        let service = KeyService::new(Arc::new(keys));
        let input = RotationInput { algorithms: Some(vec!["ES256".into()]), emergency: false };
        let refused = service.rotate(&ctx_tenant_admin(), input.clone()).await.unwrap_err();
        assert!(matches!(refused, AppError::Denied(Denial::Forbidden, _)), "{refused:?}");
        assert!(matches!(service.list(&ctx_tenant_admin()).await, Err(AppError::Denied(Denial::Forbidden, _))));
        service.rotate(&ctx_super(), input).await.unwrap();
    }
}

//! The WebAuthn relying party of passkeys (contract §10), with `webauthn-rs`: registration and
//! sign-in ceremonies requiring user verification, any authenticator attachment (platform and
//! cross-platform), no attestation asked. The relying-party ID is the issuer's host, which must
//! be a domain name (`localhost` included); the allowed origin is the issuer's own.

use scaikey_app::ports::passkeys::{Assertion, Ceremony, CreatedCredential, PasskeyCeremonies};
use scaikey_domain::id::UserId;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

/// `webauthn-rs` behind the app's port.
pub struct WebauthnCeremonies {
    rp: Webauthn,
}

impl std::fmt::Debug for WebauthnCeremonies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebauthnCeremonies(..)")
    }
}

impl WebauthnCeremonies {
    /// The relying party of `issuer` (`https://id.example.com`, `http://localhost:8080`),
    /// named `rp_name` in authenticator prompts.
    ///
    /// # Errors
    /// An issuer whose host is not a domain name (an IP address cannot be a relying-party ID).
    pub fn new(issuer: &str, rp_name: &str) -> anyhow::Result<Self> {
        let origin = Url::parse(issuer)?;
        let Some(host) = origin.domain() else {
            anyhow::bail!("passkeys need an issuer whose host is a domain name, not {issuer}");
        };
        let rp = WebauthnBuilder::new(host, &origin)?.rp_name(rp_name).build()?;
        Ok(Self { rp })
    }
}

fn passkeys(stored: &[String]) -> Vec<Passkey> {
    // A row this version cannot read is left out (it cannot sign in), not an error for the rest.
    stored.iter().filter_map(|c| serde_json::from_str(c).ok()).collect()
}

impl PasskeyCeremonies for WebauthnCeremonies {
    fn start_registration(
        &self,
        user: UserId,
        name: &str,
        display: &str,
        exclude: &[Vec<u8>],
    ) -> anyhow::Result<Ceremony> {
        // The WebAuthn user handle: the user's 128-bit ID, never the e-mail.
        let handle = Uuid::from_bytes(user.ulid().to_bytes());
        let exclude = (!exclude.is_empty()).then(|| exclude.to_vec());
        let (options, state) = self.rp.start_passkey_registration(handle, name, display, exclude)?;
        Ok(Ceremony { options: serde_json::to_string(&options)?, state: serde_json::to_string(&state)? })
    }

    fn finish_registration(&self, response: &str, state: &str) -> anyhow::Result<CreatedCredential> {
        let response: RegisterPublicKeyCredential = serde_json::from_str(response)?;
        let state: PasskeyRegistration = serde_json::from_str(state)?;
        let key = self.rp.finish_passkey_registration(&response, &state)?;
        Ok(CreatedCredential { credential_id: key.cred_id().to_vec(), credential: serde_json::to_string(&key)? })
    }

    fn start_authentication(&self, credentials: &[String]) -> anyhow::Result<Ceremony> {
        let keys = passkeys(credentials);
        anyhow::ensure!(!keys.is_empty(), "no usable passkey");
        let (options, state) = self.rp.start_passkey_authentication(&keys)?;
        Ok(Ceremony { options: serde_json::to_string(&options)?, state: serde_json::to_string(&state)? })
    }

    fn finish_authentication(&self, response: &str, state: &str, credentials: &[String]) -> anyhow::Result<Assertion> {
        let response: PublicKeyCredential = serde_json::from_str(response)?;
        let state: PasskeyAuthentication = serde_json::from_str(state)?;
        let result = self.rp.finish_passkey_authentication(&response, &state)?;
        let mut updated = None;
        for mut key in passkeys(credentials) {
            if key.update_credential(&result) == Some(true) {
                updated = Some(serde_json::to_string(&key)?);
            }
        }
        Ok(Assertion { credential_id: result.cred_id().to_vec(), updated })
    }
}

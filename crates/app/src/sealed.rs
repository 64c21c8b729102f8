//! Values that travel through the browser sealed under the master key (pending interactions and
//! logins, the console cookie): AES-GCM through [`SecretSealer`], bound to a purpose (the
//! associated data), as base64url text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;
use crate::ports::SecretSealer;

/// `plain` sealed for `purpose`, as text.
pub(crate) fn seal(sealer: &dyn SecretSealer, plain: &[u8], purpose: &[u8]) -> Result<String, AppError> {
    Ok(URL_SAFE_NO_PAD.encode(sealer.seal(plain, purpose).map_err(AppError::Internal)?))
}

/// The plain bytes of a sealed text; `None` when malformed, tampered with or of another purpose.
pub(crate) fn open(sealer: &dyn SecretSealer, text: &str, purpose: &[u8]) -> Option<Vec<u8>> {
    sealer.open(&URL_SAFE_NO_PAD.decode(text).ok()?, purpose).ok()
}

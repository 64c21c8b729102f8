//! What a service needs to know about the request it serves.

use scaikey_domain::audit::RequestMeta;
use scaikey_domain::principal::Principal;

/// The authenticated caller and request facts for audit.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who is calling.
    pub principal: Principal,
    /// IP and user agent.
    pub meta: RequestMeta,
}

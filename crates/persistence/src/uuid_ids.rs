//! ULID-based domain IDs are stored as `uuid`.

use ulid::Ulid;
use uuid::Uuid;

pub(crate) fn to_uuid(u: Ulid) -> Uuid {
    Uuid::from(u)
}

pub(crate) fn from_uuid(u: Uuid) -> Ulid {
    Ulid::from(u)
}

macro_rules! id_conv {
    ($($t:ty),*) => {$(
        impl crate::uuid_ids::AsUuid for $t {
            fn uuid(self) -> Uuid { to_uuid(self.ulid()) }
        }
        impl crate::uuid_ids::FromUuid for $t {
            fn from_uuid(u: Uuid) -> Self { <$t>::generate_from(from_uuid(u)) }
        }
    )*};
}

/// A domain ID as a uuid.
pub(crate) trait AsUuid {
    fn uuid(self) -> Uuid;
}

/// A domain ID from a uuid.
pub(crate) trait FromUuid {
    fn from_uuid(u: Uuid) -> Self;
}

use scaikey_domain::id::*;
id_conv!(
    PartnerId,
    TenantId,
    UserId,
    SessionId,
    AuditEventId,
    GroupId,
    ApplicationId,
    AssignmentId,
    RegistrationRequestId,
    IdentityProviderId,
    AgentId
);

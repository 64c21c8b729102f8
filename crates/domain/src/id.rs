//! Prefixed ULID identifiers (contract §3): `prt_01H…`. One newtype per resource so an ID of one
//! kind can never be passed where another is expected.

use std::fmt;
use std::str::FromStr;

use ulid::Ulid;

/// Why a string is not an ID of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    /// The string does not start with the kind's prefix and `_`.
    #[error("expected an ID starting with `{0}_`")]
    WrongPrefix(&'static str),
    /// The part after the prefix is not 26 Crockford base32 characters.
    #[error("malformed ID")]
    Malformed,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ulid);

        impl $name {
            /// The type prefix, without the `_`.
            pub const PREFIX: &'static str = $prefix;

            /// Wraps a ULID (from the id generator port or from storage).
            #[must_use]
            pub const fn generate_from(ulid: Ulid) -> Self {
                Self(ulid)
            }

            /// The ULID inside.
            #[must_use]
            pub const fn ulid(self) -> Ulid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_prefixed(s, $prefix).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

fn parse_prefixed(s: &str, prefix: &'static str) -> Result<Ulid, IdParseError> {
    let rest = s.strip_prefix(prefix).and_then(|r| r.strip_prefix('_')).ok_or(IdParseError::WrongPrefix(prefix))?;
    if rest.len() != 26 {
        return Err(IdParseError::Malformed);
    }
    let ulid = Ulid::from_string(rest).map_err(|_| IdParseError::Malformed)?;
    // Only the canonical spelling is an ID: this rejects lower case, Crockford aliases (I, L, O)
    // and values above 128 bits that the decoder would wrap.
    let mut buf = [0u8; ulid::ULID_LEN];
    if ulid.array_to_str(&mut buf) != rest {
        return Err(IdParseError::Malformed);
    }
    Ok(ulid)
}

prefixed_id!(
    /// A partner (`prt_`).
    PartnerId, "prt");
prefixed_id!(
    /// A tenant (`tnt_`).
    TenantId, "tnt");
prefixed_id!(
    /// A user (`usr_`).
    UserId, "usr");
prefixed_id!(
    /// A group (`grp_`).
    GroupId, "grp");
prefixed_id!(
    /// An application (`app_`).
    ApplicationId, "app");
prefixed_id!(
    /// An identity provider (`idp_`).
    IdentityProviderId, "idp");
prefixed_id!(
    /// An MCP agent (`agt_`).
    AgentId, "agt");
prefixed_id!(
    /// An SSO session (`ses_`).
    SessionId, "ses");
prefixed_id!(
    /// A registration request (`reg_`).
    RegistrationRequestId, "reg");
prefixed_id!(
    /// An audit event (`aud_`).
    AuditEventId, "aud");
prefixed_id!(
    /// An application assignment (`asg_`).
    AssignmentId, "asg");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_display_and_parse() {
        let id = PartnerId::generate_from(Ulid::from_parts(1_700_000_000_000, 42));
        let text = id.to_string();
        assert!(text.starts_with("prt_"));
        assert_eq!(text.len(), 30);
        assert_eq!(text.parse::<PartnerId>(), Ok(id));
    }

    #[test]
    fn rejects_wrong_prefix_and_shapes() {
        let good = TenantId::generate_from(Ulid::from_parts(1, 1)).to_string();
        assert_eq!(good.parse::<PartnerId>(), Err(IdParseError::WrongPrefix("prt")));
        for bad in [
            "",
            "tnt_",
            "tnt",
            "tnt_123",
            "tnt_0000000000000000000000000U",  // U is not Crockford
            "tnt_80000000000000000000000000",  // overflows 128 bits
            "tnt_000000000000000000000000000", // 27 chars
            "tnt_00000000000000000000000é",
            "tnt_01arz3ndektsv4rrffq69g5fav", // lower case is not canonical
        ] {
            assert!(bad.parse::<TenantId>().is_err(), "{bad}");
        }
    }
}

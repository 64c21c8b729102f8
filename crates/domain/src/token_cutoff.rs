//! When a change lowers what a principal may do, its tokens already issued must stop working at
//! once (contract §2: tokens of suspended or deleted users are refused). Tokens are JWTs checked
//! without a database round trip, so each owner a token speaks for — its user, tenant and
//! partner — may carry a **cutoff**: tokens of that owner issued before the cutoff are refused,
//! and a **blocked** owner (a suspended or deleted tenant or partner) has every token refused,
//! whenever issued, until it is reactivated.
//!
//! The rules below decide which change cuts what; the app services apply them, storage keeps
//! the state for every process, and each process holds it in memory.

use chrono::{DateTime, Utc};

use crate::id::{PartnerId, TenantId, UserId};
use crate::partner::{Partner, PartnerChanges};
use crate::principal::Principal;
use crate::status::Status;
use crate::tenant::{Tenant, TenantChanges};
use crate::user::{User, UserChanges};

/// Whose tokens a cutoff applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOwner {
    /// A user's tokens (every session, offline ones included).
    User(UserId),
    /// Tokens of a tenant's users and applications.
    Tenant(TenantId),
    /// Tokens of a partner's admins, its tenants' users and applications, and its applications.
    Partner(PartnerId),
}

impl TokenOwner {
    /// The owner's ID as text (`usr_…`, `tnt_…`, `prt_…`; the prefix tells the kind).
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            TokenOwner::User(u) => u.to_string(),
            TokenOwner::Tenant(t) => t.to_string(),
            TokenOwner::Partner(p) => p.to_string(),
        }
    }

    /// Parses [`TokenOwner::key`].
    #[must_use]
    pub fn parse(key: &str) -> Option<TokenOwner> {
        key.parse()
            .map(TokenOwner::User)
            .or_else(|_| key.parse().map(TokenOwner::Tenant))
            .or_else(|_| key.parse().map(TokenOwner::Partner))
            .ok()
    }
}

/// What a change does to an owner's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Tokens issued before now are refused.
    Before,
    /// Every token is refused until [`Cut::Lift`] (tokens issued before now stay refused).
    Block,
    /// Ends a block; tokens issued before now stay refused.
    Lift,
}

/// An owner's cutoff state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutState {
    /// Tokens issued before this are refused.
    pub cutoff: DateTime<Utc>,
    /// Every token is refused.
    pub blocked: bool,
}

impl CutState {
    /// `true` if a token issued at `issued_at` must be refused.
    #[must_use]
    pub fn refuses(&self, issued_at: DateTime<Utc>) -> bool {
        self.blocked || issued_at < self.cutoff
    }
}

/// The state after `cut` at `now`. A cutoff never moves back.
#[must_use]
pub fn apply(current: Option<CutState>, cut: Cut, now: DateTime<Utc>) -> CutState {
    let cutoff = current.map_or(now, |c| c.cutoff.max(now));
    let blocked = match cut {
        Cut::Before => current.is_some_and(|c| c.blocked),
        Cut::Block => true,
        Cut::Lift => false,
    };
    CutState { cutoff, blocked }
}

/// The cut a user change makes: any change of roles, or a status other than active (login
/// refuses such a user, so no later token exists to spare).
#[must_use]
pub fn user_cut(before: &User, changes: &UserChanges) -> Option<Cut> {
    let roles = changes.roles.is_some_and(|r| r != before.roles);
    let disabled = changes.status.is_some_and(|s| s != Status::Active && s != before.status);
    (roles || disabled).then_some(Cut::Before)
}

/// The cut a tenant change makes: suspension blocks its tokens (its applications' client
/// credentials are refused too), reactivation lifts the block, and a move to another partner
/// cuts the tokens that name the old one.
#[must_use]
pub fn tenant_cut(before: &Tenant, changes: &TenantChanges) -> Option<Cut> {
    match changes.status {
        Some(s) if s != Status::Active && before.status == Status::Active => return Some(Cut::Block),
        Some(Status::Active) if before.status != Status::Active => return Some(Cut::Lift),
        _ => {}
    }
    changes.partner_id.is_some_and(|p| p != before.partner_id).then_some(Cut::Before)
}

/// The cut a partner change makes: suspension blocks, reactivation lifts.
#[must_use]
pub fn partner_cut(before: &Partner, changes: &PartnerChanges) -> Option<Cut> {
    match changes.status {
        Some(s) if s != Status::Active && before.status == Status::Active => Some(Cut::Block),
        Some(Status::Active) if before.status != Status::Active => Some(Cut::Lift),
        _ => None,
    }
}

/// The owners a principal's token speaks for.
#[must_use]
pub fn owners(principal: &Principal) -> Vec<TokenOwner> {
    let user = match principal {
        Principal::User(u) => Some(u.user_id),
        Principal::Client(_) | Principal::Agent(_) => None,
    };
    let (tenant, partner) = principal.home();
    user.map(TokenOwner::User)
        .into_iter()
        .chain(tenant.map(TokenOwner::Tenant))
        .chain(partner.map(TokenOwner::Partner))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::{Role, Roles};
    use crate::test_fixtures as fx;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    #[test]
    fn cutoffs_refuse_older_tokens_blocks_refuse_all_and_never_move_back() {
        let cut = apply(None, Cut::Before, t(10));
        assert!(cut.refuses(t(9)) && !cut.refuses(t(10)) && !cut.refuses(t(11)));
        let blocked = apply(Some(cut), Cut::Block, t(20));
        assert!(blocked.refuses(t(30)), "a blocked owner's new tokens are refused too");
        let lifted = apply(Some(blocked), Cut::Lift, t(40));
        assert!(lifted.refuses(t(35)) && !lifted.refuses(t(41)), "lifting keeps older tokens refused");
        // A cut at an earlier clock reading (another process) never revives tokens.
        assert_eq!(apply(Some(lifted), Cut::Before, t(5)).cutoff, t(40));
        assert!(apply(Some(blocked), Cut::Before, t(50)).blocked, "a cut keeps a block");
    }

    #[test]
    fn which_changes_cut() {
        let u = fx::user(Roles::from_iter([Role::TenantAdmin]));
        let same = UserChanges { roles: Some(u.roles), ..UserChanges::default() };
        assert_eq!(user_cut(&u, &same), None, "the same roles again cut nothing");
        let fewer = UserChanges { roles: Some(Roles::default()), ..UserChanges::default() };
        assert_eq!(user_cut(&u, &fewer), Some(Cut::Before));
        let more = UserChanges {
            roles: Some(Roles::from_iter([Role::TenantAdmin, Role::PartnerAdmin])),
            ..UserChanges::default()
        };
        assert_eq!(user_cut(&u, &more), Some(Cut::Before), "tokens carry roles: any change makes them stale");
        let off = UserChanges { status: Some(Status::Suspended), ..UserChanges::default() };
        assert_eq!(user_cut(&u, &off), Some(Cut::Before));
        let names = UserChanges { first_name: Some(Some("Ana".into())), ..UserChanges::default() };
        assert_eq!(user_cut(&u, &names), None);

        let tenant = fx::tenant();
        let suspend = TenantChanges { status: Some(Status::Suspended), ..TenantChanges::default() };
        assert_eq!(tenant_cut(&tenant, &suspend), Some(Cut::Block));
        let suspended = Tenant { status: Status::Suspended, ..tenant.clone() };
        assert_eq!(tenant_cut(&suspended, &suspend), None, "already suspended");
        let back = TenantChanges { status: Some(Status::Active), ..TenantChanges::default() };
        assert_eq!(tenant_cut(&suspended, &back), Some(Cut::Lift));
        assert_eq!(tenant_cut(&tenant, &back), None, "active again is no change");
        let moved = TenantChanges { partner_id: Some(Some(fx::partner_id(9))), ..TenantChanges::default() };
        assert_eq!(tenant_cut(&tenant, &moved), Some(Cut::Before));
        let stays = TenantChanges { partner_id: Some(tenant.partner_id), ..TenantChanges::default() };
        assert_eq!(tenant_cut(&tenant, &stays), None);

        let partner = fx::partner();
        let off = PartnerChanges { status: Some(Status::Suspended), ..PartnerChanges::default() };
        assert_eq!(partner_cut(&partner, &off), Some(Cut::Block));
        let on = PartnerChanges { status: Some(Status::Active), ..PartnerChanges::default() };
        assert_eq!(partner_cut(&Partner { status: Status::Suspended, ..partner.clone() }, &on), Some(Cut::Lift));
    }

    #[test]
    fn owner_keys_round_trip() {
        for o in [
            TokenOwner::User(fx::user(Roles::default()).id),
            TokenOwner::Tenant(fx::tenant().id),
            TokenOwner::Partner(fx::partner_id(3)),
        ] {
            assert_eq!(TokenOwner::parse(&o.key()), Some(o));
        }
        assert_eq!(TokenOwner::parse("app_01ARZ3NDEKTSV4RRFFQ69G5FAV"), None);
    }
}

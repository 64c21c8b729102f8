//! Who may sign in to an application (contract §8): users of the tenants in its scope (TENANT:
//! its tenant; PARTNER: its partner's tenants; GLOBAL: any tenant, and platform users), never
//! while the user, its tenant or its partner is suspended, and — when `assignment_required` —
//! only its effective users. The first two refusals look like a wrong password on the login page
//! (nothing reveals that the account exists elsewhere); the last is `access_denied`.

use crate::application::Application;
use crate::id::{PartnerId, TenantId};

/// The facts about a user that decide a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Subject {
    /// The user's tenant (`None` for platform users).
    pub tenant_id: Option<TenantId>,
    /// The tenant's partner.
    pub partner_id: Option<PartnerId>,
    /// The user is active.
    pub user_active: bool,
    /// Its tenant is active (true for platform users).
    pub tenant_active: bool,
    /// Its partner is active (true without a partner).
    pub partner_active: bool,
}

/// A refused sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    /// Outside the application's tenants, or suspended: answered as a wrong password.
    AsWrongPassword,
    /// Not an effective user of an `assignment_required` application: `access_denied`.
    NotAssigned,
}

/// What remains to check after [`admits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Nothing: the user may sign in.
    Admitted,
    /// The application requires an assignment: ask whether the user is an effective user.
    NeedsAssignment,
}

/// Checks statuses and the application's tenants; says whether the assignment must be asked.
pub fn admits(app: &Application, s: &Subject) -> Result<Admission, SignInRefusal> {
    if !(s.user_active && s.tenant_active && s.partner_active) {
        return Err(SignInRefusal::AsWrongPassword);
    }
    let home = match s.tenant_id {
        Some(tenant) => crate::access::Owner::Tenant { tenant, partner: s.partner_id },
        None => crate::access::Owner::Platform,
    };
    if !app.serves(&home) {
        return Err(SignInRefusal::AsWrongPassword);
    }
    Ok(if app.assignment_required { Admission::NeedsAssignment } else { Admission::Admitted })
}

/// The outcome once the assignment was asked (`assigned`: the user is an effective user).
pub fn assignment(assigned: bool) -> Result<(), SignInRefusal> {
    if assigned { Ok(()) } else { Err(SignInRefusal::NotAssigned) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::ApplicationType;
    use crate::scope::ScopeLevel;
    use crate::test_fixtures::application;

    #[test]
    fn scope_status_and_assignment_table() {
        let tenant = TenantId::generate_from(ulid::Ulid::from_parts(1, 2));
        let other_tenant = TenantId::generate_from(ulid::Ulid::from_parts(1, 3));
        let partner = PartnerId::generate_from(ulid::Ulid::from_parts(1, 4));
        let member = Subject {
            tenant_id: Some(tenant),
            partner_id: Some(partner),
            user_active: true,
            tenant_active: true,
            partner_active: true,
        };
        let outsider = Subject { tenant_id: Some(other_tenant), partner_id: None, ..member };
        let platform = Subject { tenant_id: None, partner_id: None, ..member };
        let t_app = application(ApplicationType::Web);
        let p_app =
            Application { scope: ScopeLevel::Partner, tenant_id: None, partner_id: Some(partner), ..t_app.clone() };
        let g_app = Application { scope: ScopeLevel::Global, tenant_id: None, ..t_app.clone() };
        let assigned_app = Application { assignment_required: true, ..t_app.clone() };
        use Admission::*;
        use SignInRefusal::*;
        let cases: [(&Application, Subject, Result<Admission, SignInRefusal>); 12] = [
            (&t_app, member, Ok(Admitted)),
            (&t_app, outsider, Err(AsWrongPassword)),
            (&t_app, platform, Err(AsWrongPassword)),
            (&p_app, member, Ok(Admitted)),
            (&p_app, outsider, Err(AsWrongPassword)),
            (&g_app, member, Ok(Admitted)),
            (&g_app, outsider, Ok(Admitted)),
            (&g_app, platform, Ok(Admitted)),
            (&assigned_app, member, Ok(NeedsAssignment)),
            (&g_app, Subject { user_active: false, ..member }, Err(AsWrongPassword)),
            (&g_app, Subject { tenant_active: false, ..member }, Err(AsWrongPassword)),
            (&t_app, Subject { partner_active: false, ..member }, Err(AsWrongPassword)),
        ];
        for (app, s, want) in cases {
            assert_eq!(admits(app, &s), want, "{:?} {s:?}", app.scope);
        }
        assert_eq!(assignment(true), Ok(()));
        assert_eq!(assignment(false), Err(NotAssigned));
    }
}

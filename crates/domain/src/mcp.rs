//! ScaiKey's MCP server rules (contract §12): the tool catalogue (each tool an admin read or
//! write), which tools an agent may see and call, and the per-agent rate limit.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use scaikey_domain::mcp::{self, RateVerdict};
//!
//! let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 45).unwrap();
//! assert_eq!(mcp::window_start(now), Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap());
//! // The 11th call of a minute for an agent allowed 10 waits until the next minute.
//! assert_eq!(mcp::rate(11, Some(10), now), RateVerdict::Wait(15));
//! assert_eq!(mcp::rate(10, Some(10), now), RateVerdict::Go);
//! ```

use chrono::{DateTime, DurationRound, Utc};

use crate::access::Action;

/// One tool of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// Its MCP name.
    pub name: &'static str,
    /// Whether it reads or writes (the scope it needs: `admin:read` or `admin:write`).
    pub action: Action,
    /// What it does, for `tools/list`.
    pub description: &'static str,
}

const fn read(name: &'static str, description: &'static str) -> Tool {
    Tool { name, action: Action::Read, description }
}

const fn write(name: &'static str, description: &'static str) -> Tool {
    Tool { name, action: Action::Write, description }
}

/// Every tool ScaiKey's MCP server has.
pub const TOOLS: &[Tool] = &[
    read("list_tenants", "List the tenants within reach, newest first."),
    read("get_tenant", "Read one tenant by its ID (tnt_…)."),
    read("list_users", "List users within reach, newest first; filter by search text, status or tenant."),
    read("get_user", "Read one user by its ID (usr_…)."),
    write("create_user", "Create a user in the agent's tenant; without a password the user is invited by e-mail."),
    write("update_user", "Change a user's names, status or custom attributes."),
    read("list_groups", "List groups within reach, newest first."),
    write("add_group_member", "Add a user to a group."),
    write("remove_group_member", "Remove a user from a group."),
    read("list_applications", "List the applications visible within reach."),
    read("get_application", "Read one application by its ID (app_…)."),
    read("list_registration_requests", "List application registration requests, newest first; filter by status."),
    write("approve_registration_request", "Approve a pending registration request, creating its application."),
    write("reject_registration_request", "Reject a pending registration request with a reason."),
    read("list_audit_events", "List audit events within reach, newest first; filter by action, actor or result."),
    read("dashboard_stats", "Counts of tenants, users, applications and pending registrations within reach."),
];

/// The tool named `name`, if the catalogue has it.
#[must_use]
pub fn tool(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Whether an agent with these `allowed_tools` sees and may call `name` (an empty list allows
/// none: an agent gets exactly the tools it was given).
#[must_use]
pub fn allowed(allowed_tools: &[String], name: &str) -> bool {
    allowed_tools.iter().any(|t| t == name)
}

/// The tools an agent sees in `tools/list`, in catalogue order.
#[must_use]
pub fn visible(allowed_tools: &[String]) -> Vec<&'static Tool> {
    TOOLS.iter().filter(|t| allowed(allowed_tools, t.name)).collect()
}

/// The fixed one-minute window `now` falls in (the rate limit counts calls per window).
#[must_use]
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(chrono::Duration::minutes(1)).unwrap_or(now)
}

/// Whether a call may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Within the limit.
    Go,
    /// Over it: retry after this many seconds (the window's end).
    Wait(i64),
}

/// The verdict on the `count`-th call (this one included) of the current window for an agent
/// allowed `limit` calls a minute (`None`: unlimited).
#[must_use]
pub fn rate(count: i64, limit: Option<i32>, now: DateTime<Utc>) -> RateVerdict {
    match limit {
        Some(l) if count > i64::from(l) => {
            let end = window_start(now) + chrono::Duration::minutes(1);
            RateVerdict::Wait((end - now).num_seconds().max(1))
        }
        _ => RateVerdict::Go,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_catalogue_is_the_contracts_and_names_are_unique() {
        assert_eq!(TOOLS.len(), 16);
        let mut names: Vec<_> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
        assert_eq!(tool("create_user").map(|t| t.action), Some(Action::Write));
        assert_eq!(tool("dashboard_stats").map(|t| t.action), Some(Action::Read));
        assert_eq!(tool("drop_database"), None);
    }

    #[test]
    fn agents_see_exactly_their_tools() {
        let given = vec!["get_user".to_string(), "list_tenants".into(), "not_a_tool".into()];
        let names: Vec<_> = visible(&given).iter().map(|t| t.name).collect();
        assert_eq!(names, ["list_tenants", "get_user"]);
        assert!(visible(&[]).is_empty());
        // Names are exact.
        assert!(!allowed(&["Get_User".to_string()], "get_user"));
    }

    #[test]
    fn the_rate_window_is_the_minute() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 59).single().unwrap_or_default();
        assert_eq!(rate(61, Some(60), t), RateVerdict::Wait(1));
        assert_eq!(rate(1_000_000, None, t), RateVerdict::Go);
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 12, 1, 0).single().unwrap_or_default();
        assert_eq!(window_start(t0), t0);
        assert_eq!(rate(2, Some(1), t0), RateVerdict::Wait(60));
    }
}

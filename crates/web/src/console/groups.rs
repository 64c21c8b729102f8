//! Groups in the console: members, and nested groups drawn as a tree.

use std::collections::HashSet;

use scaikey_app::AppError;
use scaikey_app::context::RequestContext;
use scaikey_app::groups::GroupDetail;
use scaikey_app::page::{Page, PageRequest};
use scaikey_app::ports::GroupFilter;
use scaikey_domain::group::{Group, GroupInput};
use scaikey_domain::id::{GroupId, UserId};
use scaikey_domain::validation::ValidationErrors;

use super::directory::{Users, or_dash, time};
use super::forms::{Field, Posted};
use super::resource::{Acted, ActionForm, Cell, Created, Extras, Resource, Row, Section, confirmed};
use crate::WebState;

/// The most groups the tree shows (nesting has no depth limit; the page has).
const TREE_LIMIT: usize = 200;
/// Deeper levels are drawn at this indent.
const MAX_INDENT: usize = 6;

pub(crate) struct Groups;

impl Resource for Groups {
    const PATH: &'static str = "/console/groups";
    const TITLE: &'static str = "Groups";
    const ONE: &'static str = "group";
    const COLUMNS: &'static [&'static str] = &["Name", "Description", "Tenant"];
    type Id = GroupId;
    type Item = GroupDetail;
    type Input = GroupInput;

    async fn list(
        s: &WebState,
        ctx: &RequestContext,
        search: Option<String>,
        page: PageRequest,
    ) -> Result<Page<GroupDetail>, AppError> {
        let found: Page<Group> = s.groups.list(ctx, &GroupFilter { search, ..GroupFilter::default() }, page).await?;
        Ok(Page {
            items: found
                .items
                .into_iter()
                .map(|group| GroupDetail { group, members: Vec::new(), child_groups: Vec::new() })
                .collect(),
            request: found.request,
            total: found.total,
        })
    }

    fn row(d: GroupDetail) -> (String, Vec<String>) {
        let g = d.group;
        (g.id.to_string(), vec![g.name, g.description.unwrap_or_default(), g.tenant_id.to_string()])
    }

    fn fields(d: Option<&GroupDetail>) -> Vec<Field> {
        let g = d.map(|d| &d.group);
        let mut fields = vec![
            Field::text("name", "Name", g.map(|g| g.name.clone()).unwrap_or_default()).required(),
            Field::text("description", "Description", g.and_then(|g| g.description.clone()).unwrap_or_default()),
        ];
        if g.is_none() {
            fields.push(Field::text("tenant_id", "Tenant ID", "").hint("A tenant admin's own tenant when left empty."));
        }
        fields
    }

    fn input(f: &Posted<'_>, creating: bool) -> Result<GroupInput, ValidationErrors> {
        Ok(GroupInput {
            name: f.text("name"),
            description: f.nullable("description"),
            tenant_id: if creating { f.given("tenant_id") } else { None },
        })
    }

    async fn create(s: &WebState, ctx: &RequestContext, input: GroupInput) -> Result<Created, AppError> {
        let g = s.groups.create(ctx, input).await?;
        Ok(Created { id: g.id.to_string(), shown: None })
    }

    async fn get(s: &WebState, ctx: &RequestContext, id: GroupId) -> Result<GroupDetail, AppError> {
        s.groups.get(ctx, id).await
    }

    async fn update(s: &WebState, ctx: &RequestContext, id: GroupId, input: GroupInput) -> Result<(), AppError> {
        s.groups.update(ctx, id, input).await.map(|_| ())
    }

    async fn delete(s: &WebState, ctx: &RequestContext, id: GroupId) -> Result<(), AppError> {
        s.groups.delete(ctx, id).await
    }

    fn name(d: &GroupDetail) -> String {
        d.group.name.clone()
    }

    fn version(d: &GroupDetail) -> chrono::DateTime<chrono::Utc> {
        d.group.updated_at
    }

    fn facts(d: &GroupDetail) -> Vec<(&'static str, String)> {
        let g = &d.group;
        vec![
            ("ID", g.id.to_string()),
            ("Description", or_dash(g.description.as_ref())),
            ("Tenant", g.tenant_id.to_string()),
            ("Direct members", d.members.len().to_string()),
            ("Created", time(g.created_at)),
        ]
    }

    async fn extras(s: &WebState, ctx: &RequestContext, id: GroupId, d: &GroupDetail) -> Result<Extras, AppError> {
        let base = format!("{}/{id}", Self::PATH);
        let members = d
            .members
            .iter()
            .map(|m| Row {
                cells: vec![
                    Cell::link(m.email.clone(), format!("{}/{}", Users::PATH, m.user_id)),
                    Cell::text(m.display_name.clone().unwrap_or_default()),
                ],
                remove: Some(ActionForm::row(
                    &base,
                    "remove_member",
                    "Remove",
                    vec![Field::hidden("user_id", m.user_id.to_string())],
                )),
            })
            .collect();
        let tree = tree(s, ctx, id, d, &base).await?;
        Ok(Extras {
            sections: vec![
                Section {
                    id: "members",
                    title: "Direct members",
                    columns: vec!["E-mail", "Name", ""],
                    rows: members,
                    empty: "No direct members.",
                    tree: false,
                },
                Section {
                    id: "nested",
                    title: "Nested groups",
                    columns: vec!["Group", ""],
                    rows: tree,
                    empty: "No nested groups.",
                    tree: true,
                },
            ],
            actions: vec![
                ActionForm::new(&base, "add_member", "Add a member", "Add the member").fields(vec![
                    Field::text("user_id", "User ID", "")
                        .required()
                        .hint("A user of the same tenant (the ID on the user's page)."),
                ]),
                ActionForm::new(&base, "add_child", "Nest a group", "Nest the group").fields(vec![
                    Field::text("child_group_id", "Child group ID", "")
                        .required()
                        .hint("A group of the same tenant; its members become members of this group too."),
                ]),
            ],
        })
    }

    async fn act(
        s: &WebState,
        ctx: &RequestContext,
        id: GroupId,
        verb: &str,
        f: &Posted<'_>,
    ) -> Result<Acted, AppError> {
        match verb {
            "add_member" => {
                s.groups.add_member(ctx, id, f.value("user_id").unwrap_or_default().trim()).await?;
                Ok(Acted::Done("member_added"))
            }
            "remove_member" => {
                confirmed(f)?;
                let user: UserId =
                    f.value("user_id").and_then(|v| v.parse().ok()).ok_or(AppError::NotFound("Member"))?;
                s.groups.remove_member(ctx, id, user).await?;
                Ok(Acted::Done("member_removed"))
            }
            "add_child" => {
                s.groups.add_child(ctx, id, f.value("child_group_id").unwrap_or_default().trim()).await?;
                Ok(Acted::Done("child_added"))
            }
            "remove_child" => {
                confirmed(f)?;
                let child: GroupId =
                    f.value("child_group_id").and_then(|v| v.parse().ok()).ok_or(AppError::NotFound("Child group"))?;
                s.groups.remove_child(ctx, id, child).await?;
                Ok(Acted::Done("child_removed"))
            }
            _ => Err(AppError::NotFound("Action")),
        }
    }

    fn message(done: &str) -> Option<&'static str> {
        match done {
            "member_added" => Some("The member was added."),
            "member_removed" => Some("The member was removed."),
            "child_added" => Some("The group was nested."),
            "child_removed" => Some("The nested group was removed."),
            _ => None,
        }
    }
}

/// The nested groups under `root`, depth first, each indented by its depth; direct children
/// carry the form that un-nests them.
async fn tree(
    s: &WebState,
    ctx: &RequestContext,
    root: GroupId,
    d: &GroupDetail,
    base: &str,
) -> Result<Vec<Row>, AppError> {
    let mut rows = Vec::new();
    let mut seen = HashSet::from([root]);
    // A stack of (group, name, depth), children pushed in reverse to keep their order.
    let mut stack: Vec<(GroupId, String, usize)> =
        d.child_groups.iter().rev().map(|c| (c.id, c.name.clone(), 0)).collect();
    while let Some((id, name, depth)) = stack.pop() {
        if !seen.insert(id) || rows.len() >= TREE_LIMIT {
            continue;
        }
        let mut cell = Cell::link(name, format!("{}/{id}", Groups::PATH));
        cell.depth = depth.min(MAX_INDENT);
        let remove = (depth == 0).then(|| {
            ActionForm::row(base, "remove_child", "Un-nest", vec![Field::hidden("child_group_id", id.to_string())])
        });
        rows.push(Row { cells: vec![cell], remove });
        let children = match s.groups.get(ctx, id).await {
            Ok(c) => c.child_groups,
            // A group deleted meanwhile, or outside the reach: shown, not followed.
            Err(AppError::NotFound(_) | AppError::Denied(..)) => Vec::new(),
            Err(e) => return Err(e),
        };
        stack.extend(children.into_iter().rev().map(|c| (c.id, c.name, depth + 1)));
    }
    Ok(rows)
}

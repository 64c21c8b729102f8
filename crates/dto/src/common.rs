//! Shapes shared by every endpoint.

use scaikey_app::page::Page;
use scaikey_domain::validation::{FieldError, ValidationErrors};
use serde::Serialize;
use utoipa::ToSchema;

/// Page facts of a list answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    /// 1-based page number.
    #[schema(minimum = 1, maximum = 42949672)]
    pub page: u32,
    /// Items per page (1–100).
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    /// Items across all pages.
    #[schema(minimum = 0)]
    pub total: i64,
    /// Number of pages.
    #[schema(minimum = 0)]
    pub total_pages: i64,
}

/// A page of items.
#[derive(Debug, Serialize)]
pub struct ListOut<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Page facts.
    pub pagination: Pagination,
}

impl<T> ListOut<T> {
    /// Converts a service page.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let pagination = Pagination {
            page: page.request.page(),
            per_page: page.request.per_page(),
            total: page.total,
            total_pages: page.total_pages(),
        };
        ListOut { items: page.items.into_iter().map(f).collect(), pagination }
    }
}

/// One validation problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationError {
    /// Where: `["body", "name"]`, `["query", "page"]`.
    pub loc: Vec<String>,
    /// What is wrong.
    pub msg: String,
    /// Machine-readable kind.
    #[serde(rename = "type")]
    pub kind: String,
}

/// 422 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HTTPValidationError {
    /// Every problem found.
    pub detail: Vec<ValidationError>,
}

/// 401/403/404/409/413/503 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong.
    pub detail: String,
}

/// Takes a PATCH field that may be absent but not `null`.
pub fn not_null<T>(errs: &mut ValidationErrors, field: &str, v: Option<Option<T>>) -> Option<T> {
    match v {
        Some(None) => {
            errs.push(FieldError::new(field, "value_error", "Field may not be null"));
            None
        }
        Some(Some(x)) => Some(x),
        None => None,
    }
}

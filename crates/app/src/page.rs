//! Page-number pagination (contract §3).

use scaikey_domain::validation::{FieldError, ValidationErrors};

/// Largest page size.
pub const MAX_PER_PAGE: u32 = 100;
/// Default page size.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

impl PageRequest {
    /// Validates `page ≥ 1` and `1 ≤ per_page ≤ 100`; errors are located at `page`/`per_page`.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<PageRequest, ValidationErrors> {
        let mut errs = ValidationErrors::new();
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(i64::from(DEFAULT_PER_PAGE));
        if page < 1 || page > i64::from(u32::MAX / MAX_PER_PAGE) {
            errs.push(FieldError::new("page", "greater_than_equal", "Input should be greater than or equal to 1"));
        }
        if !(1..=i64::from(MAX_PER_PAGE)).contains(&per_page) {
            errs.push(FieldError::new(
                "per_page",
                "less_than_equal",
                format!("Input should be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        errs.into_result()?;
        Ok(PageRequest { page: page as u32, per_page: per_page as u32 })
    }

    /// 1-based page number.
    #[must_use]
    pub const fn page(self) -> u32 {
        self.page
    }

    /// Items per page.
    #[must_use]
    pub const fn per_page(self) -> u32 {
        self.per_page
    }

    /// Rows to skip.
    #[must_use]
    pub const fn offset(self) -> i64 {
        (self.page as i64 - 1) * self.per_page as i64
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, newest first unless the endpoint says otherwise.
    pub items: Vec<T>,
    /// What was asked for.
    pub request: PageRequest,
    /// Items across all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// Pages needed for `total` items (0 when there are none).
    #[must_use]
    pub fn total_pages(&self) -> i64 {
        let per = i64::from(self.request.per_page);
        (self.total + per - 1) / per
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), request: self.request, total: self.total }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(PageRequest::new(None, None).unwrap(), PageRequest::default());
        assert_eq!(PageRequest::new(Some(3), Some(10)).unwrap().offset(), 20);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(None, Some(101)).is_err());
        assert!(PageRequest::new(None, Some(0)).is_err());
        assert_eq!(PageRequest::new(Some(0), Some(0)).unwrap_err().errors().len(), 2);
        assert!(PageRequest::new(Some(i64::MAX), None).is_err());
        let p = Page { items: vec![1, 2], request: PageRequest::new(None, Some(2)).unwrap(), total: 5 };
        assert_eq!(p.total_pages(), 3);
    }
}

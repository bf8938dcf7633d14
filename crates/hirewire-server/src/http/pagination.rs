//! `?limit=&cursor=&include_total=` (DESIGN §3, §9).

use hirewire_core::page::{Cursor, DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest};
use serde::Serialize;

use crate::http::error::{ApiError, ApiResult};

/// Parses the paging parameters of a list whose order is `sort` (e.g. `-created_at`).
pub fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
    include_total: Option<bool>,
    sort: &str,
) -> ApiResult<PageRequest> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(s) => match s.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid_query(
                    "limit",
                    format!("`limit` must be a whole number from 1 to {MAX_LIMIT}; got `{s}`."),
                ));
            }
        },
    };
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match Cursor::decode(c) {
            Some(cur) if cur.sort == sort => Some(cur),
            Some(_) => {
                return Err(ApiError::invalid_query(
                    "cursor",
                    "This cursor was made for another sort order; keep `sort` the same while paging.",
                ));
            }
            None => {
                return Err(ApiError::invalid_query(
                    "cursor",
                    "`cursor` is not a cursor from this API; pass `next_cursor` from the previous page.",
                ));
            }
        },
    };
    Ok(PageRequest {
        limit,
        after,
        include_total: include_total.unwrap_or(false),
    })
}

/// A page of results as the API answers it.
#[derive(Debug, Serialize)]
pub struct ListBody<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

impl<T> From<Page<T>> for ListBody<T> {
    fn from(p: Page<T>) -> Self {
        ListBody {
            items: p.items,
            next_cursor: p.next_cursor,
            total: p.total,
        }
    }
}

/// Declares a named list schema for the OpenAPI document.
#[macro_export]
macro_rules! list_schema {
    ($name:ident, $item:ty) => {
        /// A page of results.
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
            /// The number of matching items, with `include_total=true`.
            pub total: Option<i64>,
        }
    };
}

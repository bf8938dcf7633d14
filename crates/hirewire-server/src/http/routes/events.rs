//! `/api/v1/events`: the durable feed of every event, in the order it was written.

use axum::Json;
use axum::extract::State;
use hirewire_core::event::Event;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Need, scopes};
use crate::state::AppState;

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventFeed {
    pub items: Vec<Event>,
    /// Pass as `after` to continue; it is returned even when the page is empty, so a poller
    /// can keep it.
    pub next_cursor: Option<String>,
}

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// The `next_cursor` of the previous page; omit to start at the beginning.
    after: Option<String>,
    /// Comma-separated event types to keep.
    types: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// Read events after a cursor.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(FeedParams), responses((status = 200, description = "A page of the feed, oldest first.", body = EventFeed)), security(("api_key" = [])))]
pub async fn list_events(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    ApiQuery(p): ApiQuery<FeedParams>,
) -> ApiResult<Json<EventFeed>> {
    let after = match p.after.as_deref() {
        None | Some("") => 0,
        Some(a) => a.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid_query("after", "`after` must be a `next_cursor` of this feed.")
        })?,
    };
    let page = crate::http::pagination::page_request(p.limit.as_deref(), None, None, "")?;
    let types: Vec<&str> = p
        .types
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let limit = i64::from(page.limit);
    let mut cursor = after;
    let mut items = Vec::new();
    // Type filtering happens here; keep reading until the page is full or the feed ends.
    loop {
        let batch = app
            .store
            .list_events(auth.tenant(), cursor, limit)
            .await
            .map_err(ApiError::internal)?;
        let done = (batch.len() as i64) < limit;
        for (seq, event) in batch {
            cursor = seq;
            if types.is_empty() || types.contains(&event.event_type.as_str()) {
                items.push(event);
                if items.len() as i64 == limit {
                    return Ok(Json(EventFeed {
                        items,
                        next_cursor: Some(cursor.to_string()),
                    }));
                }
            }
        }
        if done {
            return Ok(Json(EventFeed {
                items,
                next_cursor: Some(cursor.to_string()),
            }));
        }
    }
}

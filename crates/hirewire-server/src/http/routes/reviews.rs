//! `/api/v1/reviews`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::evaluation::{
    ResolveReview, Review, ReviewKind, ReviewQuery, ReviewStatus,
};
use hirewire_core::service::reviews;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, IfMatch, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{enum_param, flag, with_etag};
use crate::state::AppState;

crate::list_schema!(ReviewList, Review);

/// Filters and paging for listing review items, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListReviewsParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Also count every matching item.
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// `open` or `resolved`.
    #[param(value_type = Option<ReviewStatus>)]
    status: Option<String>,
    /// What the item is about.
    #[param(value_type = Option<ReviewKind>)]
    kind: Option<String>,
    /// Items about this candidate.
    candidate_id: Option<String>,
    /// Items about this job.
    job_id: Option<String>,
}

fn review_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::REVIEW, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("review"))
    }
}

/// List review items: things a person should look at, such as evaluations whose confidence
/// is below the configured threshold.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", params(ListReviewsParams), responses((status = 200, description = "A page of review items.", body = ReviewList)), security(("api_key" = [])))]
pub async fn list_reviews(
    State(app): State<AppState>,
    auth: Need<scopes::ReviewsManage>,
    ApiQuery(params): ApiQuery<ListReviewsParams>,
) -> ApiResult<Json<ListBody<Review>>> {
    let query = ReviewQuery {
        status: enum_param(
            "status",
            params.status.as_deref(),
            ReviewStatus::parse,
            ReviewStatus::ALL,
            ReviewStatus::as_str,
        )?,
        kind: enum_param(
            "kind",
            params.kind.as_deref(),
            ReviewKind::parse,
            ReviewKind::ALL,
            ReviewKind::as_str,
        )?,
        candidate_id: params.candidate_id,
        job_id: params.job_id,
        page: page_request(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            flag("include_total", params.include_total.as_deref())?,
            ReviewQuery::SORT,
        )?,
    };
    let page = app
        .store
        .list_reviews(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Get a review item.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = String, Path)), responses((status = 200, description = "The review item.", body = Review, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn get_review(
    State(app): State<AppState>,
    auth: Need<scopes::ReviewsManage>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = app
        .store
        .review(auth.tenant(), review_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("review"))?;
    Ok(with_etag(StatusCode::OK, r.revision, &r))
}

/// Resolve an open review item: `accepted` (the evaluation stands) or `dismissed`, with an
/// optional note; records the key and `X-ATS-User-ID` that decided and emits
/// `review.resolved`. A resolved item answers 400 `invalid_state`.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/resolve", tag = "reviews", params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The revision the resolution is based on", pattern = "^(W/)?\"?[0-9]{1,18}\"?$")), request_body = ResolveReview, responses((status = 200, description = "The review item, resolved.", body = Review, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn resolve_review(
    State(app): State<AppState>,
    auth: Need<scopes::ReviewsManage>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    ApiJson(input): ApiJson<ResolveReview>,
) -> ApiResult<Response> {
    let r = reviews::resolve(
        app.store.as_ref(),
        &auth.actor,
        review_id(&id)?,
        input,
        if_match,
    )
    .await?;
    Ok(with_etag(StatusCode::OK, r.revision, &r))
}

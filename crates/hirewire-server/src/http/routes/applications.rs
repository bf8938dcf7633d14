//! `/api/v1/applications`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::application::{
    Application, ApplicationQuery, ApplicationSortField, ApplicationSource, ApplicationStatus,
    NewApplication, StatusMove,
};
use hirewire_core::service::applications;
use hirewire_scoring::Band;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, IfMatch, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{enum_param, flag, parse_enum, score_param, with_etag};
use crate::state::AppState;

crate::list_schema!(ApplicationList, Application);

/// Filters, order and paging for listing applications.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListApplicationsParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Also count every matching application.
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// Applications to this job.
    job_id: Option<String>,
    /// Applications of this candidate.
    candidate_id: Option<String>,
    /// One stage or several, comma-separated (`shortlisted,interviewed`).
    #[param(example = "shortlisted")]
    status: Option<String>,
    #[param(value_type = Option<ApplicationSource>)]
    source: Option<String>,
    /// Band of the latest evaluation, one or several comma-separated (`green,amber`).
    #[param(example = "green")]
    band: Option<String>,
    /// Latest evaluation's score at least this (0–100); unscored applications are left out.
    #[param(value_type = Option<u8>, minimum = 0, maximum = 100)]
    min_score: Option<String>,
    /// `created_at`, `updated_at` or `score` (the latest evaluation's; unscored last when
    /// descending); a leading `-` sorts descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at|score)$")]
    sort: Option<String>,
}

impl ListApplicationsParams {
    fn into_query(self) -> ApiResult<ApplicationQuery> {
        let sort_text = self.sort.as_deref().unwrap_or("-created_at");
        let (sort, descending) = ApplicationSortField::parse(sort_text).ok_or_else(|| {
            ApiError::invalid_query(
                "sort",
                format!("`sort` must be created_at, updated_at or score, optionally with a leading `-`; got `{sort_text}`."),
            )
        })?;
        let statuses = match self.status.as_deref() {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(|s| {
                    parse_enum(
                        "status",
                        s.trim(),
                        ApplicationStatus::parse,
                        ApplicationStatus::ALL,
                        ApplicationStatus::as_str,
                    )
                })
                .collect::<ApiResult<Vec<_>>>()?,
        };
        let source = enum_param(
            "source",
            self.source.as_deref(),
            ApplicationSource::parse,
            ApplicationSource::ALL,
            ApplicationSource::as_str,
        )?;
        let bands = match self.band.as_deref() {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(|b| {
                    Band::parse(b.trim()).ok_or_else(|| {
                        ApiError::invalid_query(
                            "band",
                            format!("`band` must be green, amber or red (or several, comma-separated); got `{b}`."),
                        )
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?,
        };
        let min_score = score_param("min_score", self.min_score.as_deref())?;
        Ok(ApplicationQuery {
            bands,
            min_score,
            job_id: self.job_id,
            candidate_id: self.candidate_id,
            statuses,
            source,
            sort,
            descending,
            page: page_request(
                self.limit.as_deref(),
                self.cursor.as_deref(),
                flag("include_total", self.include_total.as_deref())?,
                sort_text,
            )?,
        })
    }
}

fn application_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::APPLICATION, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("application"))
    }
}

/// List applications.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", params(ListApplicationsParams), responses((status = 200, description = "A page of applications.", body = ApplicationList)), security(("api_key" = [])))]
pub async fn list_applications(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsRead>,
    ApiQuery(params): ApiQuery<ListApplicationsParams>,
) -> ApiResult<Json<ListBody<Application>>> {
    let query = params.into_query()?;
    let page = app
        .store
        .list_applications(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Create an application of a candidate to a job (one per pair; the job must not be closed or
/// expired). It starts in `new`.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = NewApplication, responses((status = 201, description = "The application was created.", body = Application, headers(("ETag" = String), ("Location" = String))), (status = 409, description = "The candidate already applied to this job (`details.existing_id`).", body = crate::http::error::ErrorBody)), security(("api_key" = [])))]
pub async fn create_application(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsWrite>,
    ApiJson(input): ApiJson<NewApplication>,
) -> ApiResult<Response> {
    let a = applications::create(app.store.as_ref(), &auth.actor, input).await?;
    app.wake.evaluations_queued();
    let location = format!("/api/v1/applications/{}", a.id);
    let mut res = with_etag(StatusCode::CREATED, a.revision, &a);
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Get an application with its full status history.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", params(("id" = String, Path)), responses((status = 200, description = "The application.", body = Application, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn get_application(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = app
        .store
        .application(auth.tenant(), application_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("application"))?;
    Ok(with_etag(StatusCode::OK, a.revision, &a))
}

/// Move an application: to any later stage (`new → screened → shortlisted → interviewed →
/// offered → hired`; skipping is allowed), or out (`rejected` with a `reason`, `withdrawn`).
/// Going back to an earlier stage, or out of hired, rejected or withdrawn, needs
/// `"reopen": true`. A refused move answers 400 `invalid_state` naming the moves allowed.
#[utoipa::path(post, path = "/api/v1/applications/{id}/status", tag = "applications", params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The revision the move is based on", pattern = "^(W/)?\"?[0-9]{1,18}\"?$")), request_body = StatusMove, responses((status = 200, description = "The application, moved.", body = Application, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn move_application(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    ApiJson(m): ApiJson<StatusMove>,
) -> ApiResult<Response> {
    let a = applications::move_status(
        app.store.as_ref(),
        &auth.actor,
        application_id(&id)?,
        m,
        if_match,
    )
    .await?;
    Ok(with_etag(StatusCode::OK, a.revision, &a))
}

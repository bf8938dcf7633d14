//! `/api/v1/jobs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::job::JobSortField;
use hirewire_core::model::{
    EmploymentType, Job, JobPatch, JobQuery, JobStatus, NewJob, RemoteType,
};
use hirewire_core::service::jobs;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ActionJson, ApiJson, ApiQuery, IfMatch, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{EmptyBody, enum_param, flag, parse_enum, with_etag};
use crate::state::AppState;

crate::list_schema!(JobList, Job);

/// Filters, order and paging for listing jobs.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListJobsParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Also count every matching job.
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// One status or several, comma-separated: `draft`, `active`, `closed`, `expired`.
    #[param(
        example = "active",
        pattern = "^(draft|active|closed|expired)(,(draft|active|closed|expired))*$"
    )]
    status: Option<String>,
    #[param(value_type = Option<EmploymentType>)]
    employment_type: Option<String>,
    #[param(value_type = Option<RemoteType>)]
    remote_type: Option<String>,
    country: Option<String>,
    city: Option<String>,
    /// The client's own reference.
    reference: Option<String>,
    /// `created_at`, `updated_at` or `title`; a leading `-` sorts descending. Default `-created_at`.
    #[param(pattern = "^-?(created_at|updated_at|title)$")]
    sort: Option<String>,
}

impl ListJobsParams {
    fn into_query(self) -> ApiResult<JobQuery> {
        let sort_text = self.sort.as_deref().unwrap_or("-created_at");
        let (sort, descending) =
            JobSortField::parse(sort_text).ok_or_else(|| ApiError::invalid_query("sort", format!("`sort` must be created_at, updated_at or title, optionally with a leading `-`; got `{sort_text}`.")))?;
        let statuses = match self.status.as_deref() {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(|s| {
                    parse_enum(
                        "status",
                        s.trim(),
                        JobStatus::parse,
                        JobStatus::ALL,
                        JobStatus::as_str,
                    )
                })
                .collect::<ApiResult<Vec<_>>>()?,
        };
        Ok(JobQuery {
            statuses,
            employment_type: enum_param(
                "employment_type",
                self.employment_type.as_deref(),
                EmploymentType::parse,
                EmploymentType::ALL,
                EmploymentType::as_str,
            )?,
            remote_type: enum_param(
                "remote_type",
                self.remote_type.as_deref(),
                RemoteType::parse,
                RemoteType::ALL,
                RemoteType::as_str,
            )?,
            country: self.country,
            city: self.city,
            reference: self.reference,
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

/// The optional body of `publish`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// When the job closes by itself; default 30 days after publication.
    #[serde(default, with = "hirewire_core::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
}

fn job_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::JOB, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("job"))
    }
}

fn job_response(status: StatusCode, job: Job) -> Response {
    with_etag(status, job.revision, job)
}

/// List jobs.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListJobsParams), responses((status = 200, description = "A page of jobs.", body = JobList)), security(("api_key" = [])))]
pub async fn list_jobs(
    State(app): State<AppState>,
    auth: Need<scopes::JobsRead>,
    ApiQuery(params): ApiQuery<ListJobsParams>,
) -> ApiResult<Json<ListBody<Job>>> {
    let query = params.into_query()?;
    let page = app
        .store
        .list_jobs(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Create a draft job.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = NewJob, responses((status = 201, description = "The draft was created.", body = Job, headers(("ETag" = String, description = "The revision, quoted"), ("Location" = String)))), security(("api_key" = [])))]
pub async fn create_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsWrite>,
    ApiJson(input): ApiJson<NewJob>,
) -> ApiResult<Response> {
    let job = jobs::create(app.store.as_ref(), &auth.actor, input).await?;
    let location = format!("/api/v1/jobs/{}", job.id);
    let mut res = job_response(StatusCode::CREATED, job);
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Get a job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)), responses((status = 200, description = "The job.", body = Job, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn get_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsRead>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = app
        .store
        .job(auth.tenant(), job_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("job"))?;
    Ok(job_response(StatusCode::OK, job))
}

/// Change any subset of a job's fields; `If-Match` (or `revision`) guards against lost updates.
#[utoipa::path(patch, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The revision the change is based on: `3` or `\"3\"`", pattern = "^(W/)?\"?[0-9]{1,18}\"?$")), request_body = JobPatch, responses((status = 200, description = "The job as changed.", body = Job, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn update_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsWrite>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    ApiJson(patch): ApiJson<JobPatch>,
) -> ApiResult<Response> {
    let job = jobs::update(
        app.store.as_ref(),
        &auth.actor,
        job_id(&id)?,
        patch,
        if_match,
    )
    .await?;
    Ok(job_response(StatusCode::OK, job))
}

/// Close a job (soft delete): it stays readable.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)), responses((status = 200, description = "The job, closed.", body = Job)), security(("api_key" = [])))]
pub async fn delete_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsWrite>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = jobs::delete(app.store.as_ref(), &auth.actor, job_id(&id)?).await?;
    Ok(job_response(StatusCode::OK, job))
}

/// Publish a draft: it becomes active, and one credit is spent.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/publish", tag = "jobs", params(("id" = String, Path)), request_body(content = Option<PublishRequest>, description = "Optional"), responses((status = 200, description = "The job, now active.", body = Job), (status = 402, description = "No credits left", body = crate::http::error::ErrorBody)), security(("api_key" = [])))]
pub async fn publish_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsWrite>,
    Path(id): Path<String>,
    ActionJson(body): ActionJson<PublishRequest>,
) -> ApiResult<Response> {
    let job = jobs::publish(
        app.store.as_ref(),
        &auth.actor,
        job_id(&id)?,
        body.expires_at,
    )
    .await?;
    Ok(job_response(StatusCode::OK, job))
}

/// Close a draft or active job.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/close", tag = "jobs", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The job, closed.", body = Job)), security(("api_key" = [])))]
pub async fn close_job(
    State(app): State<AppState>,
    auth: Need<scopes::JobsWrite>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Response> {
    let job = jobs::close(app.store.as_ref(), &auth.actor, job_id(&id)?).await?;
    Ok(job_response(StatusCode::OK, job))
}

//! `/api/v1/evaluations` and `/api/v1/jobs/{id}/ranking`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::evaluation::{
    Evaluation, EvaluationQuery, NewEvaluation, Ranking, RankingPool, RankingRequest,
    builtin_evaluator,
};
use hirewire_core::scope::Scope;
use hirewire_core::service::evaluations;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiQuery, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{flag, score_param};
use crate::state::AppState;

crate::list_schema!(EvaluationList, Evaluation);

/// The most candidates a ranking returns.
const MAX_RANKING_LIMIT: usize = 200;

/// Filters and paging for listing evaluations, newest first.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvaluationsParams {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Also count every matching evaluation.
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// Evaluations of this candidate.
    candidate_id: Option<String>,
    /// Evaluations against this job.
    job_id: Option<String>,
    /// Evaluations of this application (its scoring history).
    application_id: Option<String>,
}

/// Evaluate a candidate against a job now. When the candidate applied to the job, the
/// evaluation becomes the application's `latest_evaluation` and is also announced as
/// `application.scored`; it is always announced as `candidate.scored`. Re-evaluating adds to
/// the history (`GET /api/v1/evaluations?candidate_id=…&job_id=…`). An evaluation less
/// confident than the configured threshold opens a review item.
#[utoipa::path(post, path = "/api/v1/evaluations", tag = "evaluations", request_body = NewEvaluation, responses((status = 201, description = "The evaluation.", body = Evaluation, headers(("Location" = String)))), security(("api_key" = [])))]
pub async fn create_evaluation(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsWrite>,
    ApiJson(input): ApiJson<NewEvaluation>,
) -> ApiResult<Response> {
    let evaluator = builtin_evaluator();
    let e = evaluations::evaluate_now(
        app.store.as_ref(),
        &evaluator,
        app.config.evaluation_policy(),
        &auth.actor,
        input,
    )
    .await?;
    let mut res = (StatusCode::CREATED, Json(&e)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/evaluations/{}", e.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// List evaluations, newest first: the scoring history of a candidate, a job or an
/// application.
#[utoipa::path(get, path = "/api/v1/evaluations", tag = "evaluations", params(ListEvaluationsParams), responses((status = 200, description = "A page of evaluations.", body = EvaluationList)), security(("api_key" = [])))]
pub async fn list_evaluations(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsRead>,
    ApiQuery(params): ApiQuery<ListEvaluationsParams>,
) -> ApiResult<Json<ListBody<Evaluation>>> {
    let query = EvaluationQuery {
        candidate_id: params.candidate_id,
        job_id: params.job_id,
        application_id: params.application_id,
        page: page_request(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            flag("include_total", params.include_total.as_deref())?,
            EvaluationQuery::SORT,
        )?,
    };
    let page = app
        .store
        .list_evaluations(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Get an evaluation with its full breakdown: per-dimension scores, weights and evidence
/// (pointing at CV lines), matched and missing skills, rationale and confidence.
#[utoipa::path(get, path = "/api/v1/evaluations/{id}", tag = "evaluations", params(("id" = String, Path)), responses((status = 200, description = "The evaluation.", body = Evaluation)), security(("api_key" = [])))]
pub async fn get_evaluation(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Evaluation>> {
    if !has_shape(prefix::EVALUATION, &id) {
        return Err(ApiError::not_found("evaluation"));
    }
    let e = app
        .store
        .evaluation(auth.tenant(), &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("evaluation"))?;
    Ok(Json(e))
}

/// What to rank.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingParams {
    /// How many candidates to return, 1–200 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Only candidates scoring at least this (0–100).
    #[param(value_type = Option<u8>, minimum = 0, maximum = 100)]
    min_score: Option<String>,
    /// `applicants` (default): the job's applicants; `all`: the whole talent pool (also
    /// needs the `cv_search` scope).
    #[param(value_type = Option<RankingPool>)]
    pool: Option<String>,
    /// Whether rejected and withdrawn applicants take part (default false).
    #[param(value_type = Option<bool>)]
    include_rejected: Option<String>,
}

impl RankingParams {
    fn into_request(self) -> ApiResult<RankingRequest> {
        let limit = match self.limit.as_deref() {
            None => 20,
            Some(s) => match s.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_RANKING_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid_query(
                        "limit",
                        format!(
                            "`limit` must be a whole number from 1 to {MAX_RANKING_LIMIT}; got `{s}`."
                        ),
                    ));
                }
            },
        };
        let min_score = score_param("min_score", self.min_score.as_deref())?;
        let pool = match self.pool.as_deref() {
            None | Some("applicants") => RankingPool::Applicants,
            Some("all") => RankingPool::All,
            Some(other) => {
                return Err(ApiError::invalid_query(
                    "pool",
                    format!("`pool` must be `applicants` or `all`; got `{other}`."),
                ));
            }
        };
        Ok(RankingRequest {
            pool,
            limit,
            min_score,
            include_rejected: flag("include_rejected", self.include_rejected.as_deref())?
                .unwrap_or(false),
        })
    }
}

/// Rank a job's applicants, or the whole talent pool, against the job: best first, each with
/// its breakdown. Nothing is stored. A talent pool of more than 2,000 candidates is first
/// narrowed to the 2,000 whose skills best match the job's (`prescreened`).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/ranking", tag = "evaluations", params(("id" = String, Path), RankingParams), responses((status = 200, description = "The ranking.", body = Ranking)), security(("api_key" = [])))]
pub async fn rank_job(
    State(app): State<AppState>,
    auth: Need<scopes::ApplicationsRead>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<RankingParams>,
) -> ApiResult<Json<Ranking>> {
    let req = params.into_request()?;
    if req.pool == RankingPool::All {
        auth.require(Scope::CvSearch)?;
    }
    if !has_shape(prefix::JOB, &id) {
        return Err(ApiError::not_found("job"));
    }
    let input = evaluations::gather(app.store.as_ref(), auth.tenant(), &id, &req).await?;
    // Evaluating thousands of candidates is CPU work: off the request threads.
    let ranking =
        tokio::task::spawn_blocking(move || evaluations::rank(&builtin_evaluator(), input, &req))
            .await
            .map_err(ApiError::internal)?;
    Ok(Json(ranking))
}

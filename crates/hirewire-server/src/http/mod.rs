//! The HTTP layer: routing, middleware, extractors, error mapping and the OpenAPI document.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod pagination;
pub mod request_id;
pub mod routes;
pub mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::error::{ApiError, Code};
use crate::http::routes::{
    applications, audit, candidates, evaluations, events, health, imports, jobs, keys, reviews,
    skills, tenant, webhooks,
};
use crate::state::AppState;
use crate::{audit_log, auth, idempotency, metrics, ratelimit};

/// The routes that need a key.
fn authenticated() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jobs::list_jobs, jobs::create_job))
        .routes(routes!(jobs::get_job, jobs::update_job, jobs::delete_job))
        .routes(routes!(jobs::publish_job))
        .routes(routes!(jobs::close_job))
        .routes(routes!(
            candidates::list_candidates,
            candidates::create_candidate
        ))
        .routes(routes!(candidates::search_candidates))
        .routes(routes!(skills::list_skills))
        .routes(routes!(
            candidates::get_candidate,
            candidates::update_candidate,
            candidates::delete_candidate
        ))
        .routes(routes!(
            candidates::upload_document,
            candidates::list_documents
        ))
        .routes(routes!(candidates::get_document))
        .routes(routes!(candidates::get_document_content))
        .routes(routes!(candidates::get_operation))
        .routes(routes!(imports::create_import))
        .routes(routes!(
            applications::list_applications,
            applications::create_application
        ))
        .routes(routes!(applications::get_application))
        .routes(routes!(applications::move_application))
        .routes(routes!(
            evaluations::list_evaluations,
            evaluations::create_evaluation
        ))
        .routes(routes!(evaluations::get_evaluation))
        .routes(routes!(evaluations::rank_job))
        .routes(routes!(reviews::list_reviews))
        .routes(routes!(reviews::get_review))
        .routes(routes!(reviews::resolve_review))
        .routes(routes!(imports::export))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::get_key, keys::delete_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::rotate_key))
        .routes(routes!(keys::approve_key))
        .routes(routes!(tenant::get_tenant))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(events::list_events))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::recover))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::get_delivery))
        .routes(routes!(webhooks::retry_delivery))
        .routes(routes!(webhooks::list_event_types))
}

/// The routes anyone may call.
fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
}

/// The OpenAPI document of the whole surface.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, doc) = OpenApiRouter::<AppState>::with_openapi(openapi::ApiDoc::openapi())
        .merge(authenticated())
        .merge(public())
        .split_for_parts();
    openapi::finish(doc)
}

async fn not_found() -> impl IntoResponse {
    ApiError::new(
        Code::NotFound,
        "No such route; the API reference is at /docs.",
    )
}

async fn method_not_allowed() -> impl IntoResponse {
    ApiError::new(
        Code::MethodNotAllowed,
        "This route does not accept this method; the API reference is at /docs.",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::internal("a handler panicked").into_response()
}

/// The OpenAPI document, serialized once per process: the document as a tree is megabytes,
/// and the router would keep a copy per clone of a route that held it.
static SPEC: std::sync::OnceLock<axum::body::Bytes> = std::sync::OnceLock::new();

/// The serialized OpenAPI document, built on first use.
pub fn openapi_json() -> axum::body::Bytes {
    SPEC.get_or_init(|| {
        axum::body::Bytes::from(serde_json::to_vec(&openapi_document()).unwrap_or_default())
    })
    .clone()
}

/// The whole application: routes, middleware and documentation.
pub fn router(state: AppState) -> Router {
    let json_limit = state.config.json_body_limit;
    let (api, _) = authenticated().split_for_parts();
    let api = api
        .layer(from_fn_with_state(state.clone(), idempotency::middleware))
        .layer(from_fn_with_state(state.clone(), ratelimit::middleware))
        .layer(from_fn_with_state(state.clone(), auth::middleware))
        .layer(from_fn_with_state(state.clone(), audit_log::middleware))
        .layer(from_fn_with_state(
            state.wake.clone(),
            crate::webhooks::wake_on_write,
        ));
    let (public, _) = public().split_for_parts();
    let spec = openapi_json();
    let serve_spec = move || {
        let spec = spec.clone();
        std::future::ready(([(header::CONTENT_TYPE, "application/json")], spec))
    };
    Router::new()
        .merge(api)
        .merge(public)
        .route("/metrics", get(metrics::render))
        .route("/api/v1/openapi.json", get(serve_spec.clone()))
        .route("/swagger/v1/swagger.json", get(serve_spec))
        .merge(SwaggerUi::new("/docs").config(Config::new(["/api/v1/openapi.json"])))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(metrics::middleware))
        .with_state(state)
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(request_id::middleware))
}

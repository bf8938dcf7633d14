//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The health of the process.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
    /// Why the process is not ready, when it is not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz/live", tag = "health", responses((status = 200, description = "The process is up.", body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok",
        problems: vec![],
    })
}

/// The database answers, migrations are applied and the workers run.
#[utoipa::path(get, path = "/healthz/ready", tag = "health", responses((status = 200, description = "Ready to serve.", body = Health), (status = 503, description = "Not ready; `problems` says why.", body = Health)))]
pub async fn ready(State(app): State<AppState>) -> Response {
    let mut problems = Vec::new();
    match tokio::time::timeout(std::time::Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => problems.push(format!("database: {e}")),
        Err(_) => problems.push("database: no answer within 2 s".into()),
    }
    if !app.workers_running() {
        problems.push("workers are not running".into());
    }
    if problems.is_empty() {
        Json(Health {
            status: "ready",
            problems,
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                problems,
            }),
        )
            .into_response()
    }
}

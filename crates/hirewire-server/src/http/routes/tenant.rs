//! `/api/v1/tenant`: the caller's own tenant.

use axum::Json;
use axum::extract::State;
use hirewire_core::model::Tenant;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::state::AppState;

/// The tenant of the calling key, with its credit balance. Any valid key may read it.
#[utoipa::path(get, path = "/api/v1/tenant", tag = "tenant", responses((status = 200, description = "The tenant.", body = Tenant)), security(("api_key" = [])))]
pub async fn get_tenant(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Tenant>> {
    let tenant = app
        .store
        .tenant(auth.tenant())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(Json(tenant))
}

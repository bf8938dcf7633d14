//! `/api/v1/keys`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::{ApiKey, KeyQuery, NewKey};
use hirewire_core::service::keys;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ActionJson, ApiJson, ApiQuery, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{EmptyBody, flag, with_etag};
use crate::idempotency::SecretFields;
use crate::state::AppState;

crate::list_schema!(KeyList, ApiKey);

/// A key together with its plaintext, which is shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyWithSecret {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The plaintext key (`hw_live_…`). Store it now: it cannot be shown again.
    pub key: String,
}

/// Paging for listing keys.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListKeysParams {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
}

/// The optional body of `rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old secret keeps working, 0–604800 s (default 86400).
    #[schema(minimum = 0, maximum = 604800)]
    pub grace_period_seconds: Option<i64>,
}

/// A response that shows a plaintext key: an idempotent replay of it leaves the key out.
fn showing_secret(status: StatusCode, api_key: ApiKey, key: String) -> Response {
    let mut res = with_etag(status, api_key.revision, KeyWithSecret { api_key, key });
    res.extensions_mut().insert(SecretFields(&["key"]));
    res
}

fn key_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::KEY, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("key"))
    }
}

/// List the tenant's keys, newest first.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", params(ListKeysParams), responses((status = 200, description = "A page of keys, newest first.", body = KeyList)), security(("api_key" = [])))]
pub async fn list_keys(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    ApiQuery(p): ApiQuery<ListKeysParams>,
) -> ApiResult<Json<ListBody<ApiKey>>> {
    let query = KeyQuery {
        page: page_request(
            p.limit.as_deref(),
            p.cursor.as_deref(),
            flag("include_total", p.include_total.as_deref())?,
            "-created_at",
        )?,
    };
    let now = hirewire_core::time::now();
    let page = app
        .store
        .list_keys(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.map(|k| k.view(now)).into()))
}

/// Create a key. Its plaintext is in the answer, once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = NewKey, responses((status = 201, description = "The key, with its plaintext shown this once.", body = KeyWithSecret)), security(("api_key" = [])))]
pub async fn create_key(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    ApiJson(input): ApiJson<NewKey>,
) -> ApiResult<Response> {
    let (api_key, key) =
        keys::create(app.store.as_ref(), &auth.actor, Some(&auth.scopes), input).await?;
    Ok(showing_secret(StatusCode::CREATED, api_key, key))
}

/// Get a key.
#[utoipa::path(get, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path)), responses((status = 200, description = "The key.", body = ApiKey)), security(("api_key" = [])))]
pub async fn get_key(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let key = app
        .store
        .key(Some(auth.tenant()), key_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("key"))?;
    let key = key.view(hirewire_core::time::now());
    Ok(with_etag(StatusCode::OK, key.revision, key))
}

async fn revoke(app: &AppState, auth: &Need<scopes::KeysManage>, id: &str) -> ApiResult<Response> {
    let key = keys::revoke(
        app.store.as_ref(),
        Some(&auth.actor),
        Some(&auth.scopes),
        key_id(id)?,
    )
    .await?;
    app.keys.invalidate_key(&key.id);
    Ok(with_etag(StatusCode::OK, key.revision, key))
}

/// Revoke a key: it stops working at once.
#[utoipa::path(post, path = "/api/v1/keys/{id}/revoke", tag = "keys", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The key, revoked.", body = ApiKey)), security(("api_key" = [])))]
pub async fn revoke_key(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Response> {
    revoke(&app, &auth, &id).await
}

/// Revoke a key (the same as `POST /revoke`).
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path)), responses((status = 200, description = "The key, revoked.", body = ApiKey)), security(("api_key" = [])))]
pub async fn delete_key(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    revoke(&app, &auth, &id).await
}

/// Give a key a new secret; the old one keeps working during the grace period.
#[utoipa::path(post, path = "/api/v1/keys/{id}/rotate", tag = "keys", params(("id" = String, Path)), request_body(content = Option<RotateRequest>, description = "Optional"), responses((status = 200, description = "The key, with its new plaintext shown this once.", body = KeyWithSecret)), security(("api_key" = [])))]
pub async fn rotate_key(
    State(app): State<AppState>,
    auth: Need<scopes::KeysManage>,
    Path(id): Path<String>,
    ActionJson(body): ActionJson<RotateRequest>,
) -> ApiResult<Response> {
    let (api_key, key) = keys::rotate(
        app.store.as_ref(),
        &auth.actor,
        &auth.scopes,
        key_id(&id)?,
        body.grace_period_seconds,
    )
    .await?;
    app.keys.invalidate_key(&api_key.id);
    Ok(showing_secret(StatusCode::OK, api_key, key))
}

/// Approve a key that is pending approval (needs `admin`).
#[utoipa::path(post, path = "/api/v1/keys/{id}/approve", tag = "keys", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The key, now active.", body = ApiKey)), security(("api_key" = [])))]
pub async fn approve_key(
    State(app): State<AppState>,
    auth: Need<scopes::Admin>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Response> {
    let key = keys::approve(app.store.as_ref(), Some(&auth.actor), key_id(&id)?).await?;
    app.keys.invalidate_key(&key.id);
    Ok(with_etag(StatusCode::OK, key.revision, key))
}

//! `/api/v1/webhooks`, `/api/v1/webhook-deliveries` and `/api/v1/event-types`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use hirewire_core::ids::{has_shape, prefix};
use hirewire_core::model::{
    Attempt, Delivery, DeliveryQuery, DeliveryStatus, NewSubscription, Subscription,
    SubscriptionPatch, SubscriptionQuery,
};
use hirewire_core::service::webhooks;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::extract::{ActionJson, ApiJson, ApiQuery, IfMatch, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::{EmptyBody, flag, with_etag};
use crate::idempotency::SecretFields;
use crate::state::AppState;
use crate::webhooks::target;

crate::list_schema!(WebhookList, Subscription);
crate::list_schema!(DeliveryList, Delivery);

/// A subscription together with its signing secret, which is shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Subscription,
    /// The signing secret (`whsec_…`). Store it now: it cannot be shown again.
    pub secret: String,
}

/// A delivery with every attempt made for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryWithAttempts {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// Every attempt, oldest first (`attempts` is their count).
    pub attempt_log: Vec<Attempt>,
}

/// Paging for listing subscriptions.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooksParams {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
}

/// Filters and paging for a subscription's deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveriesParams {
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
}

/// What `recover` re-sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// Failed and dead deliveries last tried at or after this time are sent again.
    #[serde(with = "hirewire_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: DateTime<Utc>,
}

/// How many deliveries `recover` scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoverResult {
    pub retried: u64,
}

/// An event type and the JSON Schema of its `data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeInfo {
    #[serde(rename = "type")]
    pub event_type: String,
    pub description: String,
    /// JSON Schema (2020-12) of the event's `data`.
    #[schema(value_type = Object)]
    pub schema: Value,
}

/// Every event type.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    pub items: Vec<EventTypeInfo>,
}

fn webhook_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::WEBHOOK, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("webhook"))
    }
}

fn delivery_id(id: &str) -> ApiResult<&str> {
    if has_shape(prefix::DELIVERY, id) {
        Ok(id)
    } else {
        Err(ApiError::not_found("delivery"))
    }
}

/// A response that shows a signing secret: an idempotent replay of it leaves the secret out.
fn showing_secret(status: StatusCode, webhook: Subscription, secret: String) -> Response {
    let mut res = with_etag(
        status,
        webhook.revision,
        WebhookWithSecret { webhook, secret },
    );
    res.extensions_mut().insert(SecretFields(&["secret"]));
    res
}

/// Refuses targets the SSRF guard does not allow, with 400 `invalid_request`.
async fn vet_target(app: &AppState, url: &str) -> ApiResult<()> {
    let allow = app.config.dev || app.config.webhooks.allow_insecure_targets;
    target::vet(url, allow).await.map_err(|e| {
        ApiError::new(
            Code::InvalidRequest,
            format!("The webhook URL is not allowed: {e}."),
        )
        .with_details(serde_json::json!({ "field": "url" }))
    })
}

/// List the tenant's webhook subscriptions, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", params(ListWebhooksParams), responses((status = 200, description = "A page of subscriptions, newest first.", body = WebhookList)), security(("api_key" = [])))]
pub async fn list_webhooks(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    ApiQuery(p): ApiQuery<ListWebhooksParams>,
) -> ApiResult<Json<ListBody<Subscription>>> {
    let query = SubscriptionQuery {
        page: page_request(
            p.limit.as_deref(),
            p.cursor.as_deref(),
            flag("include_total", p.include_total.as_deref())?,
            "-created_at",
        )?,
    };
    let page = app
        .store
        .list_subscriptions(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.map(|s| s.subscription).into()))
}

/// Subscribe a URL to events. The signing secret is in the answer, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewSubscription, responses((status = 201, description = "The subscription, with its secret shown this once.", body = WebhookWithSecret)), security(("api_key" = [])))]
pub async fn create_webhook(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    ApiJson(mut input): ApiJson<NewSubscription>,
) -> ApiResult<Response> {
    input.url = webhooks::checked_url(&input.url)?;
    vet_target(&app, &input.url).await?;
    let (webhook, secret) = webhooks::create(app.store.as_ref(), &auth.actor, input).await?;
    Ok(showing_secret(StatusCode::CREATED, webhook, secret))
}

/// Get a subscription (without its secret).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "The subscription.", body = Subscription, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn get_webhook(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let sub = app
        .store
        .subscription(auth.tenant(), webhook_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    Ok(with_etag(
        StatusCode::OK,
        sub.subscription.revision,
        sub.subscription,
    ))
}

/// Change a subscription's URL, events, description, filter, `include_pii` or `is_active`.
/// Setting `is_active: true` re-enables one that was switched off.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path), ("If-Match" = Option<String>, Header, description = "The revision the change is based on: `3` or `\"3\"`", pattern = "^(W/)?\"?[0-9]{1,18}\"?$")), request_body = SubscriptionPatch, responses((status = 200, description = "The subscription as changed.", body = Subscription, headers(("ETag" = String)))), security(("api_key" = [])))]
pub async fn update_webhook(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    IfMatch(if_match): IfMatch,
    ApiJson(mut patch): ApiJson<SubscriptionPatch>,
) -> ApiResult<Response> {
    let id = webhook_id(&id)?;
    if let Some(url) = webhooks::patched_url(&patch)? {
        vet_target(&app, &url).await?;
        patch.url = Some(url);
    }
    let sub = webhooks::update(app.store.as_ref(), &auth.actor, id, patch, if_match).await?;
    Ok(with_etag(StatusCode::OK, sub.revision, sub))
}

/// Delete a subscription and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "The subscription as it was.", body = Subscription)), security(("api_key" = [])))]
pub async fn delete_webhook(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Subscription>> {
    let sub = webhooks::delete(app.store.as_ref(), &auth.actor, webhook_id(&id)?).await?;
    Ok(Json(sub))
}

/// Replace the signing secret. For 24 hours deliveries carry a signature with each secret.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The subscription, with its new secret shown this once.", body = WebhookWithSecret)), security(("api_key" = [])))]
pub async fn rotate_secret(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Response> {
    let (sub, secret) =
        webhooks::rotate_secret(app.store.as_ref(), &auth.actor, webhook_id(&id)?).await?;
    Ok(showing_secret(StatusCode::OK, sub, secret))
}

/// Send a `ping` event to this subscription alone.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The subscription; the ping is on its way (see its deliveries).", body = Subscription)), security(("api_key" = [])))]
pub async fn test_webhook(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Response> {
    let sub = webhooks::send_test(app.store.as_ref(), &auth.actor, webhook_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, sub.revision, sub))
}

/// Send again every failed or dead delivery last tried at or after `since` (after a
/// receiver's outage).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/recover", tag = "webhooks", params(("id" = String, Path)), request_body = RecoverRequest, responses((status = 200, description = "How many deliveries were scheduled.", body = RecoverResult)), security(("api_key" = [])))]
pub async fn recover(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecoverRequest>,
) -> ApiResult<Json<RecoverResult>> {
    let retried = webhooks::recover(
        app.store.as_ref(),
        &auth.actor,
        webhook_id(&id)?,
        input.since,
    )
    .await?;
    app.wake.deliveries_due();
    Ok(Json(RecoverResult { retried }))
}

/// List a subscription's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), ListDeliveriesParams), responses((status = 200, description = "A page of deliveries, newest first.", body = DeliveryList)), security(("api_key" = [])))]
pub async fn list_deliveries(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ListDeliveriesParams>,
) -> ApiResult<Json<ListBody<Delivery>>> {
    let status = p
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::invalid_query(
                    "status",
                    format!("`status` is one of pending, succeeded, failed, dead; got `{s}`."),
                )
            })
        })
        .transpose()?;
    let query = DeliveryQuery {
        status,
        page: page_request(
            p.limit.as_deref(),
            p.cursor.as_deref(),
            flag("include_total", p.include_total.as_deref())?,
            "-created_at",
        )?,
    };
    let id = webhook_id(&id)?;
    app.store
        .subscription(auth.tenant(), id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    let page = app
        .store
        .list_deliveries(auth.tenant(), id, &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

/// Get a delivery with every attempt made for it.
#[utoipa::path(get, path = "/api/v1/webhook-deliveries/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 200, description = "The delivery and its attempts.", body = DeliveryWithAttempts)), security(("api_key" = [])))]
pub async fn get_delivery(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryWithAttempts>> {
    let stored = app
        .store
        .delivery(auth.tenant(), delivery_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    let attempts = app
        .store
        .attempts(&stored.delivery.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(DeliveryWithAttempts {
        delivery: stored.delivery,
        attempt_log: attempts,
    }))
}

/// Send a failed or dead delivery again, now.
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/{id}/retry", tag = "webhooks", params(("id" = String, Path)), request_body(content = Option<EmptyBody>, description = "None, or `{}`"), responses((status = 200, description = "The delivery, scheduled for now.", body = Delivery)), security(("api_key" = [])))]
pub async fn retry_delivery(
    State(app): State<AppState>,
    auth: Need<scopes::WebhooksManage>,
    Path(id): Path<String>,
    ActionJson(EmptyBody {}): ActionJson<EmptyBody>,
) -> ApiResult<Json<Delivery>> {
    let d = webhooks::retry_delivery(app.store.as_ref(), &auth.actor, delivery_id(&id)?).await?;
    app.wake.deliveries_due();
    Ok(Json(d))
}

/// Every event type, with the JSON Schema of its `data`.
#[utoipa::path(get, path = "/api/v1/event-types", tag = "webhooks", responses((status = 200, description = "Every event type this server emits.", body = EventTypeList)), security(("api_key" = [])))]
pub async fn list_event_types(_auth: crate::http::extract::Auth) -> Json<EventTypeList> {
    Json(EventTypeList {
        items: event_type_schemas(),
    })
}

/// The catalog with each type's data schema, taken from the OpenAPI document's components
/// (with the components it refers to, under `$defs`), so the two never disagree.
fn event_type_schemas() -> Vec<EventTypeInfo> {
    static ITEMS: std::sync::OnceLock<Vec<(String, String, Value)>> = std::sync::OnceLock::new();
    ITEMS
        .get_or_init(|| {
            let doc: Value =
                serde_json::from_slice(&crate::http::openapi_json()).unwrap_or_default();
            let components = doc
                .pointer("/components/schemas")
                .cloned()
                .unwrap_or_default();
            hirewire_core::event::CATALOG
                .iter()
                .map(|t| {
                    (
                        t.name.to_string(),
                        t.description.to_string(),
                        standalone_schema(&components, t.data_schema),
                    )
                })
                .collect()
        })
        .iter()
        .map(|(t, d, s)| EventTypeInfo {
            event_type: t.clone(),
            description: d.clone(),
            schema: s.clone(),
        })
        .collect()
}

/// `name`'s schema as a self-contained JSON Schema: the components it reaches go under
/// `$defs` and references are rewritten to point there.
fn standalone_schema(components: &Value, name: &str) -> Value {
    fn rewrite(v: &mut Value, found: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("$ref")
                    && let Some(target) = r.strip_prefix("#/components/schemas/")
                {
                    found.push(target.to_string());
                    *r = format!("#/$defs/{target}");
                }
                map.values_mut().for_each(|v| rewrite(v, found));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, found)),
            _ => {}
        }
    }
    let mut defs = serde_json::Map::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if defs.contains_key(&n) {
            continue;
        }
        let mut schema = components.get(&n).cloned().unwrap_or(Value::Bool(true));
        let mut found = Vec::new();
        rewrite(&mut schema, &mut found);
        defs.insert(n, schema);
        todo.extend(found);
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/$defs/{name}"),
        "$defs": defs,
    })
}

//! `Idempotency-Key` on `POST`: the same key and body replay the stored response for 24 h;
//! the same key with another body is 409 `idempotency_key_reused`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hirewire_core::store::{IdempotencyClaim, StoredResponse};
use sha2::{Digest, Sha256};

use crate::http::error::{ApiError, ApiResult, Code};
use crate::http::extract::Auth;
use crate::state::AppState;

/// How long a key is remembered.
pub const TTL_SECS: i64 = 24 * 3600;
const HEADER: &str = "idempotency-key";
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// Top-level fields of a response body that must never be stored for replay (plaintext
/// secrets, which are shown once). A handler marks its response with this extension.
#[derive(Debug, Clone, Copy)]
pub struct SecretFields(pub &'static [&'static str]);

fn redact(body: &[u8], fields: &[&str]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut obj)) => {
            for f in fields {
                obj.remove(*f);
            }
            serde_json::to_vec(&obj).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn key_of(req: &Request) -> ApiResult<Option<String>> {
    let Some(v) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(Some(k.to_string())),
        _ => Err(ApiError::new(
            Code::InvalidRequest,
            "`Idempotency-Key` must be 1 to 255 visible ASCII characters.",
        )
        .with_details(serde_json::json!({ "field": "Idempotency-Key" }))),
    }
}

fn replay(stored: StoredResponse) -> Response {
    let mut res = Response::new(Body::from(stored.body));
    *res.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

/// Applies idempotency to authenticated `POST`s that carry the header.
pub async fn middleware(State(app): State<AppState>, req: Request, next: Next) -> Response {
    match run(app, req, next).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn run(app: AppState, req: Request, next: Next) -> ApiResult<Response> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(key) = key_of(&req)? else {
        return Ok(next.run(req).await);
    };
    let Some(tenant) = req
        .extensions()
        .get::<Auth>()
        .map(|a| a.tenant().to_string())
    else {
        return Ok(next.run(req).await);
    };
    let (parts, body) = req.into_parts();
    // Uploads are larger than JSON bodies; the handler applies the exact limit of its route.
    let limit = app
        .config
        .json_body_limit
        .max(app.config.document_body_limit);
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            Code::PayloadTooLarge,
            "The request body is larger than the server accepts.",
        )
    })?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(b" ");
    hasher.update(parts.uri.to_string());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let fingerprint = hex::encode(hasher.finalize());
    let store = app.store.as_ref();
    match store
        .claim_idempotency_key(
            &tenant,
            &key,
            &fingerprint,
            hirewire_core::time::now(),
            TTL_SECS,
        )
        .await
        .map_err(ApiError::internal)?
    {
        IdempotencyClaim::Replay(stored) => return Ok(replay(stored)),
        IdempotencyClaim::Mismatch => {
            return Err(ApiError::new(
                Code::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request; use a new key for a new request.",
            ));
        }
        IdempotencyClaim::InProgress => {
            return Err(ApiError::new(
                Code::IdempotencyKeyReused,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ));
        }
        IdempotencyClaim::Claimed => {}
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = res.status();
    // Server errors and rate limiting are not outcomes of the request: let the client retry.
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        store
            .release_idempotency_key(&tenant, &key)
            .await
            .map_err(ApiError::internal)?;
        return Ok(res);
    }
    let (parts, body) = res.into_parts();
    let body = to_bytes(body, MAX_RESPONSE)
        .await
        .map_err(ApiError::internal)?;
    let stored = match parts.extensions.get::<SecretFields>() {
        Some(SecretFields(fields)) => redact(&body, fields),
        None => body.to_vec(),
    };
    store
        .complete_idempotency_key(
            &tenant,
            &key,
            &StoredResponse {
                status: status.as_u16(),
                body: stored,
            },
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

//! The API's one error type and its one mapping to HTTP (DESIGN §3): every code, its status,
//! and the envelope `{"code", "message", "request_id", "details"?}`. A 401 has no body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hirewire_core::DomainError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::http::request_id;

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal)),+ $(,)?) => {
        /// A machine-readable error code; each has one HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)+ }

        impl Code {
            /// The HTTP status of this code.
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)+ }
            }

            /// The code's wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)+ }
            }
        }
    };
}

error_codes! {
    InvalidRequest => (BAD_REQUEST, "invalid_request"),
    InvalidQuery => (BAD_REQUEST, "invalid_query"),
    InvalidState => (BAD_REQUEST, "invalid_state"),
    NoCredits => (PAYMENT_REQUIRED, "no_credits"),
    InsufficientScope => (FORBIDDEN, "insufficient_scope"),
    IpNotAllowed => (FORBIDDEN, "ip_not_allowed"),
    NotFound => (NOT_FOUND, "not_found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed"),
    RevisionConflict => (CONFLICT, "revision_conflict"),
    Duplicate => (CONFLICT, "duplicate"),
    IdempotencyKeyReused => (CONFLICT, "idempotency_key_reused"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited"),
    Internal => (INTERNAL_SERVER_ERROR, "internal"),
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable"),
}

/// The error envelope, as documented in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `not_found`.
    pub code: String,
    /// A sentence for humans.
    pub message: String,
    /// The id of the request, as in its `X-Request-Id` header.
    pub request_id: String,
    /// Structured details, e.g. the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// An error answered by the API.
#[derive(Debug)]
pub enum ApiError {
    /// 401 with no body: missing, malformed, unknown, revoked, expired or pending key.
    Unauthorized,
    /// Every other error, in the envelope.
    Coded {
        code: Code,
        message: String,
        details: Option<Value>,
    },
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError::Coded {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(self, details: Value) -> Self {
        match self {
            ApiError::Coded { code, message, .. } => ApiError::Coded {
                code,
                message,
                details: Some(details),
            },
            other => other,
        }
    }

    /// 404 for a kind of object, identical whether it is missing or another tenant's.
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("No such {what}."))
    }

    /// 400 `invalid_query` for a query parameter.
    pub fn invalid_query(param: &str, message: impl Into<String>) -> Self {
        Self::new(Code::InvalidQuery, message).with_details(serde_json::json!({ "param": param }))
    }

    /// 500, logging the cause and telling the client nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            Code::Internal,
            "An internal error occurred; the request id identifies it in the server's logs.",
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => ApiError::not_found(what),
            DomainError::Invalid { field, message } => {
                let err = ApiError::new(Code::InvalidRequest, message);
                match field {
                    Some(f) => err.with_details(serde_json::json!({ "field": f })),
                    None => err,
                }
            }
            DomainError::InvalidState(m) => ApiError::new(Code::InvalidState, m),
            DomainError::RevisionConflict { expected, current } => ApiError::new(
                Code::RevisionConflict,
                format!("Revision {expected} is stale; the current revision is {current}."),
            )
            .with_details(serde_json::json!({ "current_revision": current })),
            DomainError::NoCredits => ApiError::new(
                Code::NoCredits,
                "The tenant has no credits left; nothing was changed.",
            ),
            DomainError::Duplicate {
                message,
                existing_id,
            } => ApiError::new(Code::Duplicate, message)
                .with_details(serde_json::json!({ "existing_id": existing_id })),
            DomainError::InsufficientScope(scope) => insufficient_scope(&scope),
            DomainError::Store(e) => ApiError::internal(e),
        }
    }
}

/// 403 naming the scope that is missing.
pub fn insufficient_scope(scope: &str) -> ApiError {
    ApiError::new(
        Code::InsufficientScope,
        format!("This key lacks the `{scope}` scope."),
    )
    .with_details(serde_json::json!({ "required_scope": scope }))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized => {
                let mut res = StatusCode::UNAUTHORIZED.into_response();
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                res
            }
            ApiError::Coded {
                code,
                message,
                details,
            } => {
                let body = ErrorBody {
                    code: code.as_str().to_string(),
                    message,
                    request_id: request_id::current(),
                    details,
                };
                (code.status(), Json(body)).into_response()
            }
        }
    }
}

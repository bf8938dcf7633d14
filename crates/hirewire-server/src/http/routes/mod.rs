//! The API's handlers, one module per resource. Handlers are thin: parse, check the scope,
//! call the domain, shape the answer.

pub mod applications;
pub mod audit;
pub mod candidates;
pub mod evaluations;
pub mod events;
pub mod health;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod reviews;
pub mod skills;
pub mod tenant;
pub mod webhooks;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The body of an action that takes no parameters: nothing, or `{}`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// A JSON answer with `ETag: "<revision>"`.
pub fn with_etag(status: StatusCode, revision: i64, body: impl Serialize) -> Response {
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{revision}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// Parses a boolean query parameter leniently (`true`/`false`/`1`/`0`).
pub fn flag(param: &str, v: Option<&str>) -> crate::http::error::ApiResult<Option<bool>> {
    match v {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(crate::http::error::ApiError::invalid_query(
            param,
            format!("`{param}` must be `true` or `false`; got `{other}`."),
        )),
    }
}

/// Parses a 0–100 score query parameter.
pub fn score_param(param: &str, v: Option<&str>) -> crate::http::error::ApiResult<Option<u8>> {
    match v {
        None => Ok(None),
        Some(s) => match s.trim().parse::<u8>() {
            Ok(n) if n <= 100 => Ok(Some(n)),
            _ => Err(crate::http::error::ApiError::invalid_query(
                param,
                format!("`{param}` must be a whole number from 0 to 100; got `{s}`."),
            )),
        },
    }
}

/// Parses a query parameter naming one of a closed set (400 listing the set otherwise).
pub fn parse_enum<T: Copy>(
    param: &str,
    v: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(T) -> &'static str,
) -> crate::http::error::ApiResult<T> {
    parse(v).ok_or_else(|| {
        let allowed: Vec<&str> = all.iter().map(|t| name(*t)).collect();
        crate::http::error::ApiError::invalid_query(
            param,
            format!(
                "`{param}` must be one of {}; got `{v}`.",
                allowed.join(", ")
            ),
        )
    })
}

/// [`parse_enum`] for an optional parameter.
pub fn enum_param<T: Copy>(
    param: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    name: fn(T) -> &'static str,
) -> crate::http::error::ApiResult<Option<T>> {
    value
        .map(|v| parse_enum(param, v, parse, all, name))
        .transpose()
}

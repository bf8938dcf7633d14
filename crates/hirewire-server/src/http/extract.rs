//! Extractors that reject in the API's own error format.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use hirewire_core::Actor;
use hirewire_core::scope::{Scope, allows};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::http::error::{ApiError, Code, insufficient_scope};

/// The authenticated caller, put into the request by the auth middleware.
#[derive(Debug, Clone)]
pub struct Auth {
    pub key_id: String,
    pub scopes: Vec<Scope>,
    pub actor: Actor,
}

impl Auth {
    /// The tenant every read and write of this request is confined to.
    pub fn tenant(&self) -> &str {
        &self.actor.tenant_id
    }

    /// Fails with 403 `insufficient_scope` unless the key holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if allows(&self.scopes, scope) {
            Ok(())
        } else {
            Err(insufficient_scope(scope.as_str()))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Auth>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            Code::PayloadTooLarge,
            "The request body is larger than the server accepts.",
        )
    } else {
        ApiError::new(
            Code::InvalidRequest,
            format!("The request body could not be read: {text}"),
        )
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|r| body_error(r.status(), r.body_text()))
}

/// Parses JSON, naming the field (or the position) that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = (inner.line(), inner.column());
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                Code::InvalidRequest,
                format!("The body is not valid JSON: {inner}."),
            )
            .with_details(json!({ "line": line, "column": column }))
        } else {
            let field = if path == "." {
                None
            } else {
                Some(path.clone())
            };
            let msg = match &field {
                Some(f) => format!(
                    "Invalid field `{f}`: {}.",
                    strip_position(&inner.to_string())
                ),
                None => format!("Invalid body: {}.", strip_position(&inner.to_string())),
            };
            ApiError::new(Code::InvalidRequest, msg)
                .with_details(json!({ "field": field, "line": line, "column": column }))
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            Code::InvalidRequest,
            format!("The body is not valid JSON: {e}."),
        )
    })?;
    Ok(value)
}

fn strip_position(s: &str) -> &str {
    s.find(" at line ").map_or(s, |i| &s[..i])
}

/// A JSON body (`Content-Type: application/json` required).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The body of an action: nothing, or a JSON object.
pub struct ActionJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for ActionJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let declared_other =
            req.headers().contains_key(header::CONTENT_TYPE) && !is_json(req.headers());
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ActionJson(T::default()));
        }
        if declared_other {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "Send the body as JSON with `Content-Type: application/json`, or send none.",
            ));
        }
        parse_json(&bytes).map(ActionJson)
    }
}

/// Query parameters; unknown or malformed ones are 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Neither database stores NUL in text; refuse it here rather than fail in the query.
        if parts
            .uri
            .query()
            .is_some_and(|q| q.to_ascii_lowercase().contains("%00"))
        {
            return Err(ApiError::new(
                Code::InvalidQuery,
                "Query parameters must not contain NUL characters.",
            ));
        }
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| {
                ApiError::new(
                    Code::InvalidQuery,
                    format!(
                        "{}.",
                        e.body_text()
                            .trim_start_matches("Failed to deserialize query string: ")
                    ),
                )
            })
    }
}

/// `If-Match: 3` or `If-Match: "3"`: the revision a write is based on.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = raw.to_str().unwrap_or("").trim();
        let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        bare.parse::<i64>().map(|r| IfMatch(Some(r))).map_err(|_| {
            ApiError::new(
                Code::InvalidRequest,
                "`If-Match` must be a revision number, e.g. `3` or `\"3\"`.",
            )
            .with_details(json!({ "field": "If-Match" }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        skills: Option<Vec<Skill>>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Skill {
        weight: f64,
    }

    fn message(e: ApiError) -> String {
        match e {
            ApiError::Coded { message, .. } => message,
            ApiError::Unauthorized => String::new(),
        }
    }

    #[test]
    fn errors_name_the_field_or_position() {
        let m = message(parse_json::<Body>(br#"{"title":"x","colour":1}"#).unwrap_err());
        assert!(m.contains("colour"), "{m}");
        let m = message(
            parse_json::<Body>(br#"{"title":"x","skills":[{"weight":"heavy"}]}"#).unwrap_err(),
        );
        assert!(m.contains("skills[0].weight"), "{m}");
        let m = message(parse_json::<Body>(br#"{"title": "#).unwrap_err());
        assert!(m.contains("line 1"), "{m}");
    }
}

/// A scope as a type, so that handlers can demand it in their signature.
pub trait ScopeMarker: Send + Sync + 'static {
    /// The scope demanded.
    const SCOPE: Scope;
}

/// Marker types for the scopes handlers demand.
pub mod scopes {
    use super::{Scope, ScopeMarker};

    macro_rules! markers {
        ($($name:ident),+) => {$(
            #[doc = concat!("The `", stringify!($name), "` scope.")]
            pub struct $name;
            impl ScopeMarker for $name { const SCOPE: Scope = Scope::$name; }
        )+};
    }
    markers!(
        JobsRead,
        JobsWrite,
        CandidatesRead,
        CandidatesWrite,
        CvSearch,
        ApplicationsRead,
        ApplicationsWrite,
        KeysManage,
        AuditRead,
        ReviewsManage,
        WebhooksManage,
        Admin
    );
}

/// The caller, checked to hold scope `S` before anything else of the request is read.
pub struct Need<S: ScopeMarker>(pub Auth, std::marker::PhantomData<S>);

impl<S: ScopeMarker> std::ops::Deref for Need<S> {
    type Target = Auth;
    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl<St: Send + Sync, S: ScopeMarker> FromRequestParts<St> for Need<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        auth.require(S::SCOPE)?;
        Ok(Need(auth, std::marker::PhantomData))
    }
}

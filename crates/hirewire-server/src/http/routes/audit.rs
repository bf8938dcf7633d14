//! `/api/v1/audit-events`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use hirewire_core::model::{AuditEvent, AuditKind, AuditQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiQuery, Need, scopes};
use crate::http::pagination::{ListBody, page_request};
use crate::http::routes::flag;
use crate::state::AppState;

crate::list_schema!(AuditEventList, AuditEvent);

/// Filters for the audit trail.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<bool>)]
    include_total: Option<String>,
    /// `request` (API calls) or `change`.
    #[param(value_type = Option<AuditKind>)]
    kind: Option<String>,
    /// The id of the key that acted.
    actor: Option<String>,
    /// An entity id (`job_…`) or an entity type (`job`).
    entity: Option<String>,
    /// e.g. `job.published`, `key.revoked`, `request`.
    action: Option<String>,
    /// From this time on (RFC 3339), inclusive.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
}

fn time_param(name: &str, v: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    v.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::invalid_query(
                    name,
                    format!("`{name}` must be an RFC 3339 timestamp; got `{s}`."),
                )
            })
    })
    .transpose()
}

/// Read the audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit-events", tag = "audit", params(AuditParams), responses((status = 200, description = "A page of audit records, newest first.", body = AuditEventList)), security(("api_key" = [])))]
pub async fn list_audit_events(
    State(app): State<AppState>,
    auth: Need<scopes::AuditRead>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<ListBody<AuditEvent>>> {
    let kind = match p.kind.as_deref() {
        None => None,
        Some(k) => Some(AuditKind::parse(k).ok_or_else(|| {
            ApiError::invalid_query(
                "kind",
                format!("`kind` must be `request` or `change`; got `{k}`."),
            )
        })?),
    };
    let query = AuditQuery {
        kind,
        actor_key_id: p.actor,
        entity: p.entity,
        action: p.action,
        since: time_param("since", p.since.as_deref())?,
        until: time_param("until", p.until.as_deref())?,
        page: page_request(
            p.limit.as_deref(),
            p.cursor.as_deref(),
            flag("include_total", p.include_total.as_deref())?,
            "-occurred_at",
        )?,
    };
    let page = app
        .store
        .list_audit_events(auth.tenant(), &query)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(page.into()))
}

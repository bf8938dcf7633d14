//! The audit trail: every API call and every change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::PageRequest;

/// Whether an audit record describes an API call or a change to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Request,
    Change,
}

impl AuditKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Change => "change",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "request" => Some(Self::Request),
            "change" => Some(Self::Change),
            _ => None,
        }
    }
}

/// One audit record. Calls fill the request fields; changes fill the entity fields.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub kind: AuditKind,
    /// `request` for calls; the event type (`job.published`, `key.revoked`…) for changes.
    pub action: String,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<Utc>,
    #[serde(skip)]
    pub tenant_id: String,
    /// The API key that acted; `null` for the system and the CLI.
    pub actor_key_id: Option<String>,
    /// `X-ATS-User-ID` of the call.
    pub attributed_user_id: Option<String>,
    /// `X-ATS-Client-ID` of the call.
    pub client_id: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub method: Option<String>,
    /// The route template, e.g. `/api/v1/jobs/{id}`.
    pub route: Option<String>,
    pub path: Option<String>,
    pub status: Option<i32>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub duration_ms: Option<f64>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub revision_before: Option<i64>,
    pub revision_after: Option<i64>,
}

impl AuditEvent {
    /// An empty record of the given kind and action; callers fill in the rest.
    pub fn new(
        kind: AuditKind,
        action: impl Into<String>,
        tenant_id: impl Into<String>,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        AuditEvent {
            id: crate::ids::new_id(crate::ids::prefix::AUDIT),
            kind,
            action: action.into(),
            occurred_at,
            tenant_id: tenant_id.into(),
            actor_key_id: None,
            attributed_user_id: None,
            client_id: None,
            request_id: None,
            trace_id: None,
            method: None,
            route: None,
            path: None,
            status: None,
            ip: None,
            user_agent: None,
            duration_ms: None,
            entity_type: None,
            entity_id: None,
            revision_before: None,
            revision_after: None,
        }
    }
}

/// Filters for reading the audit trail, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub kind: Option<AuditKind>,
    pub actor_key_id: Option<String>,
    /// Matches the entity id, or the entity type when it has no `_`.
    pub entity: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page: PageRequest,
}

//! Events written to the outbox in the same transaction as the change that causes them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The event types this build can emit, with what each means.
pub const CATALOG: &[(&str, &str)] = &[
    ("job.created", "A job was created as a draft."),
    (
        "job.updated",
        "Fields of a job changed; `changed_fields` names them.",
    ),
    (
        "job.published",
        "A draft job was published and is now active.",
    ),
    ("job.closed", "A job was closed by a person."),
    (
        "job.expired",
        "An active job passed its `expires_at` and was closed automatically.",
    ),
];

/// An event, as stored in the outbox and as delivered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    #[serde(rename = "event_id")]
    pub id: String,
    #[serde(rename = "event")]
    pub event_type: String,
    #[serde(rename = "timestamp", with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    pub tenant_id: String,
    /// The asynchronous operation that caused the event, if any.
    pub reference_id: Option<String>,
    pub data: Value,
}

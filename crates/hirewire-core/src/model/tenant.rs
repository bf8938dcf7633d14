//! Tenants: the agencies or employers sharing one Hirewire installation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A tenant. Everything else belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// Publishing a job spends one credit.
    pub credits: i64,
    /// Keys with the `cv_search` scope start `pending` until an admin approves them.
    pub require_key_approval: bool,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

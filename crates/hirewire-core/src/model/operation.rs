//! Asynchronous operations: work accepted with 202 and a `reference_id` (CV parsing, bulk
//! import), done in the background and readable at `/api/v1/operations/{reference_id}`.
//! The operations table is also the work queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

string_enum! {
    /// Where an operation is.
    OperationStatus { Pending => "pending", Succeeded => "succeeded", Failed => "failed" }
}

string_enum! {
    /// What an operation does.
    OperationKind { ParseDocument => "document.parse", ImportCandidates => "candidates.import", Evaluate => "evaluation.run" }
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OperationError {
    pub code: String,
    pub message: String,
}

/// An asynchronous operation as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Operation {
    pub reference_id: String,
    pub kind: OperationKind,
    pub status: OperationStatus,
    /// What the operation produced, once it succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub error: Option<OperationError>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// An operation with what the workers need to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOperation {
    pub operation: Operation,
    pub tenant_id: String,
    /// What the operation works on (a document id for parsing).
    pub subject_id: Option<String>,
    /// Its input, for operations that carry one.
    pub input: Option<Value>,
    /// How many times a worker has taken it; a worker that dies leaves its lease to run out.
    pub attempts: i64,
    pub lease_until: Option<DateTime<Utc>>,
}

impl StoredOperation {
    /// A new pending operation.
    pub fn new(
        tenant_id: &str,
        kind: OperationKind,
        subject_id: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            operation: Operation {
                reference_id: crate::ids::new_reference_id(),
                kind,
                status: OperationStatus::Pending,
                result: None,
                error: None,
                created_at: now,
                updated_at: now,
                finished_at: None,
            },
            tenant_id: tenant_id.to_string(),
            subject_id,
            input: None,
            attempts: 0,
            lease_until: None,
        }
    }

    /// The operation once it succeeded with `result`.
    pub fn succeeded(&self, result: Value, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.operation.status = OperationStatus::Succeeded;
        next.operation.result = Some(result);
        next.operation.updated_at = now;
        next.operation.finished_at = Some(now);
        next.lease_until = None;
        next
    }

    /// The operation once it failed.
    pub fn failed(&self, code: &str, message: impl Into<String>, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.operation.status = OperationStatus::Failed;
        next.operation.error = Some(OperationError {
            code: code.to_string(),
            message: message.into(),
        });
        next.operation.updated_at = now;
        next.operation.finished_at = Some(now);
        next.lease_until = None;
        next
    }
}

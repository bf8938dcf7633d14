//! The domain's errors. The HTTP layer maps each variant to one status and code, once.

use thiserror::Error;

/// A failure inside a store implementation: the database is unreachable, a query failed.
#[derive(Debug, Error)]
#[error("store error: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// Wraps any displayable error.
    pub fn new(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

/// Everything a domain operation can refuse or fail with.
#[derive(Debug, Error)]
pub enum DomainError {
    /// The object does not exist, or belongs to another tenant (indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is malformed or breaks a rule; `field` names the offending field.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// The object is not in a state that allows the operation.
    #[error("{0}")]
    InvalidState(String),
    /// The caller's revision is stale.
    #[error("revision {expected} is stale; the current revision is {current}")]
    RevisionConflict { expected: i64, current: i64 },
    /// The tenant has no credits left.
    #[error("the tenant has no credits left")]
    NoCredits,
    /// A unique value already exists.
    #[error("{message}")]
    Duplicate {
        message: String,
        existing_id: Option<String>,
    },
    /// The caller lacks a scope the operation needs.
    #[error("this key lacks the `{0}` scope")]
    InsufficientScope(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// An invalid-input error that names its field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// The result of a domain operation.
pub type DomainResult<T> = Result<T, DomainError>;

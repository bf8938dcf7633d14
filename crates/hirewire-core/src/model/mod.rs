//! The domain's models. Their serde shape is the API's JSON shape.

pub mod audit;
pub mod job;
pub mod key;
pub mod tenant;

pub use audit::{AuditEvent, AuditKind, AuditQuery};
pub use job::{
    ApplyMethod, EmploymentType, Job, JobPatch, JobQuery, JobSkill, JobStatus, NewJob, RemoteType,
};
pub use key::{ApiKey, KeyQuery, KeyStatus, NewKey, StoredKey};
pub use tenant::Tenant;

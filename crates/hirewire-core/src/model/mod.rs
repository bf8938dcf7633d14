//! The domain's models. Their serde shape is the API's JSON shape.

pub mod audit;
pub mod job;
pub mod key;
pub mod tenant;
pub mod webhook;

pub use audit::{AuditEvent, AuditKind, AuditQuery};
pub use job::{
    ApplyMethod, EmploymentType, Job, JobPatch, JobQuery, JobSkill, JobStatus, NewJob, RemoteType,
};
pub use key::{ApiKey, KeyQuery, KeyStatus, NewKey, StoredKey};
pub use tenant::Tenant;
pub use webhook::{
    Attempt, AttemptOutcome, Delivery, DeliveryQuery, DeliveryStatus, DisablePolicy,
    NewSubscription, RetryPolicy, StoredDelivery, StoredSubscription, Subscription,
    SubscriptionPatch, SubscriptionQuery, WebhookFilter,
};

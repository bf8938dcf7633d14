//! The domain's models. Their serde shape is the API's JSON shape.

/// A closed set of values with a wire name each, shared by the models.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $wire)] #[schema(rename = $wire)] $variant,)+ }

        impl $name {
            /// Every value, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            /// Parses a wire or storage name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub mod application;
pub mod audit;
pub mod candidate;
pub mod document;
pub mod evaluation;
pub mod import;
pub mod job;
pub mod key;
pub mod operation;
pub mod search;
pub mod tenant;
pub mod webhook;

pub use audit::{AuditEvent, AuditKind, AuditQuery};
pub use candidate::{
    Candidate, CandidateKeys, CandidatePatch, CandidateQuery, CandidateSortField, ExternalId,
    NewCandidate, Profile, Provenance,
};
pub use document::{Document, DocumentFormat, ParseStatus};
pub use job::{
    ApplyMethod, EmploymentType, Job, JobPatch, JobQuery, JobSkill, JobStatus, NewJob, RemoteType,
};
pub use key::{ApiKey, KeyQuery, KeyStatus, NewKey, StoredKey};
pub use operation::{Operation, OperationError, OperationKind, OperationStatus, StoredOperation};
pub use tenant::Tenant;
pub use webhook::{
    Attempt, AttemptOutcome, Delivery, DeliveryQuery, DeliveryStatus, DisablePolicy,
    NewSubscription, RetryPolicy, StoredDelivery, StoredSubscription, Subscription,
    SubscriptionPatch, SubscriptionQuery, WebhookFilter,
};

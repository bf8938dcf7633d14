//! Events written to the outbox in the same transaction as the change that causes them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An event type this build can emit: its name, what it means and the schema of its `data`
/// (a component of the OpenAPI document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    pub data_schema: &'static str,
}

const fn event_type(
    name: &'static str,
    description: &'static str,
    data_schema: &'static str,
) -> EventType {
    EventType {
        name,
        description,
        data_schema,
    }
}

/// The event types this build can emit.
pub const CATALOG: &[EventType] = &[
    event_type(
        "job.created",
        "A job was created as a draft.",
        "JobEventData",
    ),
    event_type(
        "job.updated",
        "Fields of a job changed; `changed_fields` names them.",
        "JobEventData",
    ),
    event_type(
        "job.published",
        "A draft job was published and is now active.",
        "JobEventData",
    ),
    event_type(
        "job.closed",
        "A job was closed by a person.",
        "JobEventData",
    ),
    event_type(
        "job.expired",
        "An active job passed its `expires_at` and was closed automatically.",
        "JobEventData",
    ),
    event_type(
        "candidate.created",
        "A candidate was created, through the API or from an uploaded CV (then nearly empty until `candidate.parsed`).",
        "CandidateEventData",
    ),
    event_type(
        "candidate.updated",
        "Fields of a candidate changed; `changed_fields` names them (provenance paths such as `email`, `profile.work`).",
        "CandidateEventData",
    ),
    event_type(
        "candidate.parsed",
        "A CV was parsed and merged into the candidate; `changed_fields` names what the parse filled or replaced.",
        "CandidateEventData",
    ),
    event_type(
        "candidate.deleted",
        "A candidate was erased (right to erasure): only its id remains.",
        "CandidateDeletedData",
    ),
    event_type(
        "application.created",
        "A candidate applied to a job (or was added to it); the application is `new`.",
        "ApplicationEventData",
    ),
    event_type(
        "application.status_changed",
        "An application moved: `previous_status`, `new_status`, `changed_at`, and the `reason` given.",
        "ApplicationEventData",
    ),
    event_type(
        "application.shortlisted",
        "An application moved to `shortlisted` (also sent as `application.status_changed`).",
        "ApplicationEventData",
    ),
    event_type(
        "application.rejected",
        "An application was rejected, with its reason (also sent as `application.status_changed`).",
        "ApplicationEventData",
    ),
    event_type(
        "application.scored",
        "An application's candidate was evaluated against its job (on creation, after a CV parse, or on request): score, band, skills matched and missing.",
        "ScoredEventData",
    ),
    event_type(
        "candidate.scored",
        "A candidate was evaluated against a job (also sent as `application.scored` when the candidate applied to it).",
        "ScoredEventData",
    ),
    event_type(
        "review.resolved",
        "A person resolved a review item (for example a low-confidence evaluation).",
        "ReviewEventData",
    ),
    event_type(
        "webhook.disabled",
        "A webhook subscription was switched off after repeated failures or a 410 Gone.",
        "WebhookDisabledData",
    ),
    event_type(
        "ping",
        "A test event sent to one subscription by `POST /api/v1/webhooks/{id}/test`.",
        "PingData",
    ),
];

/// Whether `name` is an event type of the catalog that a subscription may ask for.
pub fn is_subscribable(name: &str) -> bool {
    name != "ping" && CATALOG.iter().any(|t| t.name == name)
}

/// The `data` of every `job.*` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobEventData {
    pub job: crate::model::Job,
    /// `job.updated`: the fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_fields: Option<Vec<String>>,
    /// `job.published`, `job.closed`, `job.expired`: the status before the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<crate::model::JobStatus>,
}

/// The `data` of `candidate.created`, `candidate.updated` and `candidate.parsed`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateEventData {
    pub candidate: crate::model::Candidate,
    /// `candidate.updated`, `candidate.parsed`: the fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_fields: Option<Vec<String>>,
    /// `candidate.parsed`: the document that was parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
}

/// The `data` of every `application.*` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationEventData {
    pub application: crate::model::application::Application,
    /// The moves: the status before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<crate::model::application::ApplicationStatus>,
    /// The moves: the status after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_status: Option<crate::model::application::ApplicationStatus>,
    /// The moves: when.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub changed_at: Option<String>,
    /// The moves: the reason given, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The `data` of `application.scored` and `candidate.scored`: the figures of the evaluation;
/// its evidence and rationale (which quote the CV) are at `/api/v1/evaluations/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoredEventData {
    pub evaluation_id: String,
    pub candidate_id: String,
    pub job_id: String,
    pub application_id: Option<String>,
    #[schema(minimum = 0, maximum = 100)]
    pub score: u8,
    pub band: hirewire_scoring::Band,
    pub confidence: f64,
    pub matched_skills: Vec<hirewire_scoring::SkillMatch>,
    pub missing_skills: Vec<hirewire_scoring::MissingSkill>,
    pub evaluator: String,
    pub model_version: String,
    pub trigger: crate::model::evaluation::EvaluationTrigger,
}

impl ScoredEventData {
    /// The event data of an evaluation.
    pub fn of(e: &crate::model::evaluation::Evaluation) -> Self {
        ScoredEventData {
            evaluation_id: e.id.clone(),
            candidate_id: e.candidate_id.clone(),
            job_id: e.job_id.clone(),
            application_id: e.application_id.clone(),
            score: e.score,
            band: e.band,
            confidence: e.confidence,
            matched_skills: e.matched_skills.clone(),
            missing_skills: e.missing_skills.clone(),
            evaluator: e.evaluator.clone(),
            model_version: e.model_version.clone(),
            trigger: e.trigger,
        }
    }
}

/// The `data` of `review.*` events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewEventData {
    pub review: crate::model::evaluation::Review,
}

/// The `data` of `candidate.deleted`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateDeletedData {
    pub candidate_id: String,
}

/// The `data` of `webhook.disabled`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDisabledData {
    pub webhook_id: String,
    pub url: String,
    pub reason: String,
    /// Failed attempts in a row when it was switched off.
    pub consecutive_failures: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub disabled_at: DateTime<Utc>,
}

/// The `data` of `ping`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PingData {
    pub webhook_id: String,
    pub message: String,
}

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
    /// The request (or other event) that caused this one; sent as `X-Causation-Id`.
    #[serde(skip)]
    pub causation_id: Option<String>,
    /// The W3C trace id of the request that caused the event, carried into deliveries'
    /// `traceparent`.
    #[serde(skip)]
    pub trace_id: Option<String>,
    /// Set for an event meant for one subscription only (a `ping`); such events stay out of
    /// the feed.
    #[serde(skip)]
    pub subscription_id: Option<String>,
}

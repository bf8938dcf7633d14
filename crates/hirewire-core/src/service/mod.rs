//! Domain operations: each validates its input, applies the rules of the model and writes the
//! change, its event and its audit record in one unit of work.

pub mod applications;
pub mod candidates;
pub mod documents;
pub mod evaluations;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod reviews;
pub mod tenants;
pub mod webhooks;

use serde_json::Value;

use crate::context::Actor;
use crate::error::DomainResult;
use crate::event::Event;
use crate::ids::{new_id, prefix};
use crate::model::{AuditEvent, AuditKind};
use crate::store::Tx;

/// Leases up to `limit` queued operations of one kind, of any tenant, for `lease_secs`.
pub(crate) async fn lease_operations(
    store: &dyn crate::store::Store,
    kind: crate::model::OperationKind,
    lease_secs: i64,
    limit: i64,
) -> DomainResult<Vec<crate::model::StoredOperation>> {
    let now = crate::time::now();
    let mut tx = store.begin().await?;
    let ops = tx
        .claim_operations(
            kind,
            now,
            now + chrono::Duration::seconds(lease_secs),
            limit,
        )
        .await?;
    tx.commit().await?;
    Ok(ops)
}

/// Refuses a `candidate_id` or `job_id` that is not shaped like one (400 naming the field).
pub(crate) fn check_candidate_and_job_ids(candidate_id: &str, job_id: &str) -> DomainResult<()> {
    use crate::error::DomainError;
    use crate::ids::{has_shape, prefix};
    if !has_shape(prefix::CANDIDATE, candidate_id) {
        return Err(DomainError::invalid(
            "candidate_id",
            format!("`{candidate_id}` is not a candidate id"),
        ));
    }
    if !has_shape(prefix::JOB, job_id) {
        return Err(DomainError::invalid(
            "job_id",
            format!("`{job_id}` is not a job id"),
        ));
    }
    Ok(())
}

/// What changed, for the audit trail and (when `emit` is set) the outbox.
pub(crate) struct Change<'a> {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: &'a str,
    pub revision_before: Option<i64>,
    pub revision_after: Option<i64>,
    /// The outbox event's `data`, for changes that are part of the event catalog.
    pub event_data: Option<Value>,
}

/// Writes a change's audit record and, if it has one, its outbox event into the unit of work.
pub(crate) async fn record(tx: &mut dyn Tx, actor: &Actor, change: Change<'_>) -> DomainResult<()> {
    let (event, audit) = entries(actor, change, crate::time::now());
    if let Some(event) = event {
        tx.append_event(&event).await?;
    }
    tx.record_change(&audit).await?;
    Ok(())
}

/// [`record`] for many changes at once, with a few statements rather than two per change.
pub(crate) async fn record_many(
    tx: &mut dyn Tx,
    actor: &Actor,
    changes: Vec<Change<'_>>,
) -> DomainResult<()> {
    let now = crate::time::now();
    let mut events = Vec::with_capacity(changes.len());
    let mut audits = Vec::with_capacity(changes.len());
    for change in changes {
        let (event, audit) = entries(actor, change, now);
        events.extend(event);
        audits.push(audit);
    }
    tx.append_events(&events).await?;
    tx.record_changes(&audits).await?;
    Ok(())
}

/// A change's outbox event (if it has one) and its audit record.
fn entries(
    actor: &Actor,
    change: Change<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> (Option<Event>, AuditEvent) {
    let event = change.event_data.map(|data| Event {
        id: new_id(prefix::EVENT),
        event_type: change.action.to_string(),
        created_at: now,
        tenant_id: actor.tenant_id.clone(),
        reference_id: actor.reference_id.clone(),
        data,
        // An operation's events carry its reference id as their cause, as DESIGN §3 says.
        causation_id: actor
            .reference_id
            .clone()
            .or_else(|| actor.request_id.clone()),
        trace_id: actor.trace_id.clone(),
        subscription_id: None,
    });
    let mut audit = AuditEvent::new(AuditKind::Change, change.action, &actor.tenant_id, now);
    audit.actor_key_id = actor.key_id.clone();
    audit.attributed_user_id = actor.user_id.clone();
    audit.client_id = actor.client_id.clone();
    audit.request_id = actor.request_id.clone();
    audit.trace_id = actor.trace_id.clone();
    audit.entity_type = Some(change.entity_type.to_string());
    audit.entity_id = Some(change.entity_id.to_string());
    audit.revision_before = change.revision_before;
    audit.revision_after = change.revision_after;
    (event, audit)
}

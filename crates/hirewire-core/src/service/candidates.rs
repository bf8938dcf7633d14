//! Candidate operations: create (with dedupe and upsert), patch, and erasure.

use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::candidate::email_key;
use crate::model::{Candidate, CandidatePatch, NewCandidate, Provenance};
use crate::service::{Change, record};
use crate::store::{Store, Tx, WriteOutcome};

/// What a create did.
#[derive(Debug)]
pub enum Created {
    /// A new candidate.
    New(Candidate),
    /// `upsert`: an existing candidate, merged with the request.
    Merged(Candidate),
    /// `upsert`: an existing candidate that the request would not change.
    Unchanged(Candidate),
}

pub(crate) fn candidate_change<'a>(
    action: &'static str,
    c: &'a Candidate,
    before: Option<i64>,
    data: Option<serde_json::Value>,
) -> Change<'a> {
    Change {
        action,
        entity_type: "candidate",
        entity_id: &c.id,
        revision_before: before,
        revision_after: Some(c.revision),
        event_data: data,
    }
}

fn duplicate(existing_id: String) -> DomainError {
    DomainError::Duplicate {
        message: format!(
            "A candidate with this email or external id already exists: {existing_id}. Use ?upsert=true to merge into it."
        ),
        existing_id: Some(existing_id),
    }
}

/// Creates a candidate; a candidate with the same email or (source, external id) answers
/// `Duplicate`, or with `upsert` is merged with the request instead.
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    input: NewCandidate,
    upsert: bool,
) -> DomainResult<Created> {
    // Two rounds: on PostgreSQL a concurrent create can take the email between our lookup
    // and our insert; the second round then finds it.
    for _ in 0..2 {
        let mut tx = store.begin().await?;
        match create_in(tx.as_mut(), actor, input.clone(), upsert).await {
            Err(DomainError::Duplicate {
                existing_id: None, ..
            }) => continue,
            Err(e) => return Err(e),
            Ok(created) => {
                tx.commit().await?;
                return Ok(created);
            }
        }
    }
    Err(DomainError::Duplicate {
        message: "A candidate with this email or external id was created at the same moment; retry the request.".into(),
        existing_id: None,
    })
}

/// [`create`] inside a unit of work the caller commits. A race lost to a concurrent create
/// is `Duplicate` without an `existing_id`.
pub async fn create_in(
    tx: &mut dyn Tx,
    actor: &Actor,
    input: NewCandidate,
    upsert: bool,
) -> DomainResult<Created> {
    let provenance = Provenance::of(actor);
    let now = crate::time::now();
    let candidate = Candidate::new(new_id(prefix::CANDIDATE), input.clone(), provenance, now)?;
    let keys = candidate.keys();
    let existing = tx
        .find_candidate(
            &actor.tenant_id,
            keys.email.as_deref(),
            &candidate.external_ids,
            None,
        )
        .await?;
    if let Some(existing_id) = existing {
        if !upsert {
            return Err(duplicate(existing_id));
        }
        let current = tx
            .lock_candidate(&actor.tenant_id, &existing_id)
            .await?
            .ok_or(DomainError::NotFound("candidate"))?;
        let (next, changed) = current.upserted(input, provenance, now)?;
        if changed.is_empty() {
            return Ok(Created::Unchanged(current));
        }
        save(tx, actor, &next, current.revision).await?;
        record(
            tx,
            actor,
            candidate_change(
                "candidate.updated",
                &next,
                Some(current.revision),
                Some(json!({ "candidate": next, "changed_fields": changed })),
            ),
        )
        .await?;
        return Ok(Created::Merged(next));
    }
    match tx
        .insert_candidate(&actor.tenant_id, &candidate, &keys)
        .await?
    {
        WriteOutcome::Written => {}
        WriteOutcome::Duplicate | WriteOutcome::Stale => {
            return Err(DomainError::Duplicate {
                message:
                    "A candidate with this email or external id was created at the same moment."
                        .into(),
                existing_id: None,
            });
        }
    }
    record(
        tx,
        actor,
        candidate_change(
            "candidate.created",
            &candidate,
            None,
            Some(json!({ "candidate": candidate })),
        ),
    )
    .await?;
    Ok(Created::New(candidate))
}

/// Writes a changed candidate, turning a lost race or a taken email into the domain's errors.
pub(crate) async fn save(
    tx: &mut dyn Tx,
    actor: &Actor,
    next: &Candidate,
    before: i64,
) -> DomainResult<()> {
    match tx
        .update_candidate(&actor.tenant_id, next, &next.keys(), before)
        .await?
    {
        WriteOutcome::Written => Ok(()),
        WriteOutcome::Stale => Err(DomainError::RevisionConflict {
            expected: before,
            current: before + 1,
        }),
        WriteOutcome::Duplicate => {
            let other = tx
                .find_candidate(
                    &actor.tenant_id,
                    next.email.as_deref().map(email_key).as_deref(),
                    &next.external_ids,
                    Some(&next.id),
                )
                .await?;
            Err(DomainError::Duplicate {
                message: format!(
                    "Another candidate already has this email or external id{}.",
                    other
                        .as_deref()
                        .map(|o| format!(": {o}"))
                        .unwrap_or_default()
                ),
                existing_id: other,
            })
        }
    }
}

/// Applies a patch. `if_match` (the `If-Match` header) wins over a `revision` in the body.
pub async fn update(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    mut patch: CandidatePatch,
    if_match: Option<i64>,
) -> DomainResult<Candidate> {
    let expected = if_match.or(patch.revision.take());
    let mut tx = store.begin().await?;
    let current = tx
        .lock_candidate(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("candidate"))?;
    if let Some(expected) = expected
        && expected != current.revision
    {
        return Err(DomainError::RevisionConflict {
            expected,
            current: current.revision,
        });
    }
    let (next, changed) = current.patched(patch, Provenance::of(actor), crate::time::now())?;
    if changed.is_empty() {
        return Ok(current);
    }
    save(tx.as_mut(), actor, &next, current.revision).await?;
    record(
        tx.as_mut(),
        actor,
        candidate_change(
            "candidate.updated",
            &next,
            Some(current.revision),
            Some(json!({ "candidate": next, "changed_fields": changed })),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Erases a candidate for a right-to-erasure request: personal data, documents and their
/// contents go; an audit record without personal data and a `candidate.deleted` event
/// carrying only the id remain.
pub async fn erase(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Candidate> {
    let mut tx = store.begin().await?;
    let current = tx
        .lock_candidate(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("candidate"))?;
    tx.erase_candidate(&actor.tenant_id, id).await?;
    record(
        tx.as_mut(),
        actor,
        Change {
            action: "candidate.deleted",
            entity_type: "candidate",
            entity_id: id,
            revision_before: Some(current.revision),
            revision_after: None,
            event_data: Some(json!({ "candidate_id": id })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(current)
}

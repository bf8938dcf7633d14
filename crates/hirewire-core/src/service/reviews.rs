//! Review items: resolving one records who decided what, and emits `review.resolved`.

use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::model::evaluation::{ResolveReview, Review, ReviewStatus};
use crate::service::{Change, record};
use crate::store::Store;

/// Longest resolution note kept.
const MAX_NOTE: usize = 2_000;

/// Resolves an open review item. `if_match` (the `If-Match` header) wins over a `revision` in
/// the body; resolving a resolved item is `invalid_state`.
pub async fn resolve(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    input: ResolveReview,
    if_match: Option<i64>,
) -> DomainResult<Review> {
    let note = crate::model::job::clean_text("note", input.note, MAX_NOTE)?;
    let expected = if_match.or(input.revision);
    let mut tx = store.begin().await?;
    let current = tx
        .lock_review(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("review"))?;
    if let Some(expected) = expected
        && expected != current.revision
    {
        return Err(DomainError::RevisionConflict {
            expected,
            current: current.revision,
        });
    }
    if current.status == ReviewStatus::Resolved {
        return Err(DomainError::InvalidState(
            "the review item is already resolved".into(),
        ));
    }
    let now = crate::time::now();
    let mut next = current.clone();
    next.status = ReviewStatus::Resolved;
    next.resolution = Some(input.resolution);
    next.resolution_note = note;
    next.resolved_by_key_id = actor.key_id.clone();
    next.resolved_by_user_id = actor.user_id.clone();
    next.resolved_at = Some(now);
    next.revision += 1;
    next.updated_at = now;
    if !tx
        .update_review(&actor.tenant_id, &next, current.revision)
        .await?
    {
        return Err(DomainError::RevisionConflict {
            expected: current.revision,
            current: current.revision + 1,
        });
    }
    record(
        tx.as_mut(),
        actor,
        Change {
            action: "review.resolved",
            entity_type: "review",
            entity_id: &next.id,
            revision_before: Some(current.revision),
            revision_after: Some(next.revision),
            event_data: Some(json!({ "review": next })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

//! Job operations.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::{Job, JobPatch, JobStatus, NewJob};
use crate::service::{Change, record};
use crate::store::{Store, Tx};

fn job_change<'a>(
    action: &'static str,
    job: &'a Job,
    before: Option<i64>,
    data: serde_json::Value,
) -> Change<'a> {
    Change {
        action,
        entity_type: "job",
        entity_id: &job.id,
        revision_before: before,
        revision_after: Some(job.revision),
        event_data: Some(data),
    }
}

/// Creates a draft.
pub async fn create(store: &dyn Store, actor: &Actor, input: NewJob) -> DomainResult<Job> {
    let job = Job::new_draft(new_id(prefix::JOB), input, crate::time::now())?;
    let mut tx = store.begin().await?;
    tx.insert_job(&actor.tenant_id, &job).await?;
    record(
        tx.as_mut(),
        actor,
        job_change("job.created", &job, None, json!({ "job": job })),
    )
    .await?;
    tx.commit().await?;
    Ok(job)
}

async fn locked(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: &str,
    expected_revision: Option<i64>,
) -> DomainResult<Job> {
    let job = tx
        .lock_job(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("job"))?;
    match expected_revision {
        Some(expected) if expected != job.revision => Err(DomainError::RevisionConflict {
            expected,
            current: job.revision,
        }),
        _ => Ok(job),
    }
}

async fn save(tx: &mut dyn Tx, actor: &Actor, job: &Job, before: i64) -> DomainResult<()> {
    if !tx.update_job(&actor.tenant_id, job, before).await? {
        return Err(DomainError::RevisionConflict {
            expected: before,
            current: before + 1,
        });
    }
    Ok(())
}

/// Applies a patch. `if_match` (the `If-Match` header) wins over a `revision` in the body.
pub async fn update(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    mut patch: JobPatch,
    if_match: Option<i64>,
) -> DomainResult<Job> {
    let expected = if_match.or(patch.revision.take());
    let mut tx = store.begin().await?;
    let job = locked(tx.as_mut(), actor, id, expected).await?;
    let (next, changed) = job.patched(patch, crate::time::now())?;
    if changed.is_empty() {
        return Ok(job);
    }
    save(tx.as_mut(), actor, &next, job.revision).await?;
    record(
        tx.as_mut(),
        actor,
        job_change(
            "job.updated",
            &next,
            Some(job.revision),
            json!({ "job": next, "changed_fields": changed }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Publishes a draft, spending one credit in the same transaction.
pub async fn publish(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    expires_at: Option<DateTime<Utc>>,
) -> DomainResult<Job> {
    let mut tx = store.begin().await?;
    let job = locked(tx.as_mut(), actor, id, None).await?;
    let next = job.published(expires_at, crate::time::now())?;
    if !tx.debit_credit(&actor.tenant_id).await? {
        return Err(DomainError::NoCredits);
    }
    save(tx.as_mut(), actor, &next, job.revision).await?;
    record(
        tx.as_mut(),
        actor,
        job_change(
            "job.published",
            &next,
            Some(job.revision),
            json!({ "job": next, "previous_status": job.status }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Closes a draft or active job.
pub async fn close(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Job> {
    let mut tx = store.begin().await?;
    let job = locked(tx.as_mut(), actor, id, None).await?;
    let next = job.closed(crate::time::now())?;
    save(tx.as_mut(), actor, &next, job.revision).await?;
    record(
        tx.as_mut(),
        actor,
        job_change(
            "job.closed",
            &next,
            Some(job.revision),
            json!({ "job": next, "previous_status": job.status }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// `DELETE`: closes the job if it is open; a closed or expired job is returned as it is.
pub async fn delete(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Job> {
    match close(store, actor, id).await {
        Err(DomainError::InvalidState(_)) => store
            .job(&actor.tenant_id, id)
            .await?
            .ok_or(DomainError::NotFound("job")),
        other => other,
    }
}

/// Expires every active job past its `expires_at`, in batches; safe to run in several
/// processes at once because claims skip rows another process holds. Returns how many.
pub async fn expire_due(store: &dyn Store, batch: i64) -> DomainResult<usize> {
    let mut total = 0;
    loop {
        let now = crate::time::now();
        let mut tx = store.begin().await?;
        let due = tx.claim_due_jobs(now, batch).await?;
        let n = due.len();
        for (tenant_id, job) in &due {
            let Some(next) = job.expired(now) else {
                continue;
            };
            let actor = Actor::system(tenant_id);
            save(tx.as_mut(), &actor, &next, job.revision).await?;
            record(
                tx.as_mut(),
                &actor,
                job_change(
                    "job.expired",
                    &next,
                    Some(job.revision),
                    json!({ "job": next, "previous_status": JobStatus::Active }),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        total += n;
        if (n as i64) < batch {
            return Ok(total);
        }
    }
}

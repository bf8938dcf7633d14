//! Application operations: create (one per candidate and job, open jobs only) and moves
//! through the pipeline, each with its events.

use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::JobStatus;
use crate::model::application::{
    Application, ApplicationStatus, Mover, NewApplication, StatusMove,
};
use crate::service::{Change, record};
use crate::store::{Store, WriteOutcome};

fn mover(actor: &Actor) -> Mover {
    Mover {
        key_id: actor.key_id.clone(),
        user_id: actor.user_id.clone(),
    }
}

fn change<'a>(
    action: &'static str,
    a: &'a Application,
    before: Option<i64>,
    data: serde_json::Value,
) -> Change<'a> {
    Change {
        action,
        entity_type: "application",
        entity_id: &a.id,
        revision_before: before,
        revision_after: Some(a.revision),
        event_data: Some(data),
    }
}

/// Creates an application of a candidate to a job that is not closed or expired, and queues
/// its evaluation (the application's `evaluation_reference_id`).
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    input: NewApplication,
) -> DomainResult<Application> {
    crate::service::check_candidate_and_job_ids(&input.candidate_id, &input.job_id)?;
    let mut tx = store.begin().await?;
    let job = tx
        .lock_job(&actor.tenant_id, &input.job_id)
        .await?
        .ok_or_else(|| DomainError::invalid("job_id", "no such job"))?;
    if matches!(job.status, JobStatus::Closed | JobStatus::Expired) {
        return Err(DomainError::InvalidState(format!(
            "the job is {}; applications are taken while it is a draft or active",
            job.status.as_str()
        )));
    }
    tx.lock_candidate(&actor.tenant_id, &input.candidate_id)
        .await?
        .ok_or_else(|| DomainError::invalid("candidate_id", "no such candidate"))?;
    if let Some(existing) = tx
        .find_application(&actor.tenant_id, &input.candidate_id, &input.job_id)
        .await?
    {
        return Err(DomainError::Duplicate {
            message: format!("The candidate has already applied to this job: {existing}."),
            existing_id: Some(existing),
        });
    }
    let now = crate::time::now();
    let mut app = Application::new(new_id(prefix::APPLICATION), &input, &mover(actor), now);
    let scoring =
        crate::service::evaluations::queue_for_application(&mut app, &actor.tenant_id, now);
    if tx.insert_application(&actor.tenant_id, &app).await? != WriteOutcome::Written {
        return Err(DomainError::Duplicate {
            message: "The candidate applied to this job at the same moment; retry the request."
                .into(),
            existing_id: None,
        });
    }
    record(
        tx.as_mut(),
        actor,
        change(
            "application.created",
            &app,
            None,
            json!({ "application": app }),
        ),
    )
    .await?;
    tx.insert_operation(&scoring).await?;
    tx.commit().await?;
    Ok(app)
}

/// Moves an application to another status. `if_match` (the `If-Match` header) wins over a
/// `revision` in the body.
pub async fn move_status(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    m: StatusMove,
    if_match: Option<i64>,
) -> DomainResult<Application> {
    let expected = if_match.or(m.revision);
    let mut tx = store.begin().await?;
    let current = tx
        .lock_application(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("application"))?;
    if let Some(expected) = expected
        && expected != current.revision
    {
        return Err(DomainError::RevisionConflict {
            expected,
            current: current.revision,
        });
    }
    let now = crate::time::now();
    let next = current.moved(&m, &mover(actor), now)?;
    if !tx
        .update_application(&actor.tenant_id, &next, current.revision)
        .await?
    {
        return Err(DomainError::RevisionConflict {
            expected: current.revision,
            current: current.revision + 1,
        });
    }
    let data = json!({
        "application": next,
        "previous_status": current.status,
        "new_status": next.status,
        "changed_at": crate::time::format(&now),
        "reason": m.reason,
    });
    record(
        tx.as_mut(),
        actor,
        change(
            "application.status_changed",
            &next,
            Some(current.revision),
            data.clone(),
        ),
    )
    .await?;
    let specific = match next.status {
        ApplicationStatus::Shortlisted => Some("application.shortlisted"),
        ApplicationStatus::Rejected => Some("application.rejected"),
        _ => None,
    };
    if let Some(action) = specific {
        record(
            tx.as_mut(),
            actor,
            change(action, &next, Some(current.revision), data),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(next)
}

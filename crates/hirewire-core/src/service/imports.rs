//! Bulk imports of candidates. The body is stored in chunks as it arrives; a worker then
//! applies one chunk per transaction, together with the import's progress, so that a restarted
//! worker resumes after the last chunk it finished and never applies one twice.

use chrono::Duration;
use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use std::collections::HashSet;

use crate::ids::{new_id, prefix};
use crate::model::import::{ImportFormat, ImportProgress, RowError, parse_chunk};
use crate::model::{
    Candidate, CandidateKeys, ExternalId, NewCandidate, OperationKind, Provenance, StoredOperation,
};
use crate::service::candidates::{Created, candidate_change, create_in};
use crate::service::{Change, record, record_many};
use crate::store::{Store, WriteOutcome};

/// How long the upload of an import may take before the import counts as abandoned.
const UPLOAD_LEASE_HOURS: i64 = 24;

/// The progress kept in an import's operation.
pub fn progress(op: &StoredOperation) -> DomainResult<ImportProgress> {
    op.input
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| DomainError::InvalidState("the import has no progress record".into()))
}

fn with_progress(op: &StoredOperation, p: &ImportProgress) -> StoredOperation {
    let mut next = op.clone();
    next.input = serde_json::to_value(p).ok();
    next.operation.updated_at = crate::time::now();
    next
}

/// Starts an import: its operation exists (pending, held until the upload ends) before the
/// first chunk is stored.
pub async fn begin(
    store: &dyn Store,
    actor: &Actor,
    format: ImportFormat,
    upsert: bool,
) -> DomainResult<StoredOperation> {
    let now = crate::time::now();
    let mut op = StoredOperation::new(&actor.tenant_id, OperationKind::ImportCandidates, None, now);
    let mut p = ImportProgress::new(format, upsert);
    p.key_id = actor.key_id.clone();
    p.user_id = actor.user_id.clone();
    op.input = serde_json::to_value(&p).ok();
    op.lease_until = Some(now + Duration::hours(UPLOAD_LEASE_HOURS));
    let mut tx = store.begin().await?;
    tx.insert_operation(&op).await?;
    record(
        tx.as_mut(),
        actor,
        Change {
            action: "import.started",
            entity_type: "operation",
            entity_id: &op.operation.reference_id,
            revision_before: None,
            revision_after: None,
            event_data: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(op)
}

/// Stores one chunk of an import's body.
pub async fn add_chunk(
    store: &dyn Store,
    op: &StoredOperation,
    seq: i64,
    first_row: i64,
    data: &[u8],
) -> DomainResult<()> {
    let mut tx = store.begin().await?;
    tx.insert_import_chunk(&op.operation.reference_id, seq, first_row, data)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the upload: the import is queued for the workers.
pub async fn finish_upload(
    store: &dyn Store,
    op: &StoredOperation,
    mut p: ImportProgress,
) -> DomainResult<StoredOperation> {
    p.uploading = false;
    let mut next = with_progress(op, &p);
    next.lease_until = None;
    let mut tx = store.begin().await?;
    tx.update_operation(&next).await?;
    tx.commit().await?;
    Ok(next)
}

/// Fails an import whose upload did not complete, and drops what was stored of it.
pub async fn abandon(store: &dyn Store, op: &StoredOperation, message: &str) -> DomainResult<()> {
    let mut tx = store.begin().await?;
    tx.delete_import_chunks(&op.operation.reference_id).await?;
    tx.update_operation(&op.failed("upload_incomplete", message, crate::time::now()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Leases imports that are due, of any tenant.
pub async fn claim(
    store: &dyn Store,
    lease_secs: i64,
    limit: i64,
) -> DomainResult<Vec<StoredOperation>> {
    crate::service::lease_operations(store, OperationKind::ImportCandidates, lease_secs, limit)
        .await
}

fn actor_of(op: &StoredOperation, p: &ImportProgress) -> Actor {
    let mut actor = Actor::system(&op.tenant_id);
    actor.key_id = p.key_id.clone();
    actor.user_id = p.user_id.clone();
    actor.reference_id = Some(op.operation.reference_id.clone());
    actor
}

fn count(p: &mut ImportProgress, row: i64, outcome: DomainResult<Created>) -> DomainResult<()> {
    match outcome {
        Ok(Created::New(_)) => p.created += 1,
        Ok(Created::Merged(_)) => p.updated += 1,
        Ok(Created::Unchanged(_)) => p.unchanged += 1,
        Err(DomainError::Invalid { field, message }) => {
            p.fail(RowError::invalid(row, field, message))
        }
        Err(DomainError::Duplicate {
            message,
            existing_id,
        }) => p.fail(RowError {
            row,
            code: "duplicate".into(),
            field: None,
            message,
            existing_id,
        }),
        Err(e @ (DomainError::Store(_) | DomainError::NotFound(_))) => return Err(e),
        Err(other) => p.fail(RowError::invalid(row, None, other.to_string())),
    }
    Ok(())
}

/// Applies the next chunk of an import and records the progress, in one transaction. Returns
/// the operation as updated, or `None` when every chunk is done. A record that is wrong is
/// counted as failed; a database failure fails the whole chunk, for [`apply_chunk_by_row`].
///
/// Records whose email and external ids are new to the tenant and to the chunk are inserted
/// together, with a few statements for the whole chunk; the others (updates, repeats within
/// the chunk) go one by one after them, in their order.
pub async fn apply_chunk(
    store: &dyn Store,
    op: &StoredOperation,
    lease_secs: i64,
) -> DomainResult<Option<StoredOperation>> {
    let mut p = progress(op)?;
    if p.done_chunks >= p.chunks {
        return Ok(None);
    }
    let actor = actor_of(op, &p);
    let provenance = Provenance::of(&actor);
    let now = crate::time::now();
    let mut tx = store.begin().await?;
    let (first_row, data) = tx
        .import_chunk(&op.operation.reference_id, p.done_chunks)
        .await?
        .ok_or_else(|| DomainError::InvalidState("a chunk of the import is missing".into()))?;
    let mut fresh: Vec<(i64, NewCandidate, Candidate, CandidateKeys)> = Vec::new();
    let mut one_by_one: Vec<(i64, NewCandidate)> = Vec::new();
    let mut emails: HashSet<String> = HashSet::new();
    let mut ids: HashSet<ExternalId> = HashSet::new();
    for (row, parsed) in parse_chunk(p.format, &p.header, first_row, &data) {
        p.rows += 1;
        let input = match parsed {
            Err(e) => {
                p.fail(e);
                continue;
            }
            Ok(input) => input,
        };
        let candidate =
            match Candidate::new(new_id(prefix::CANDIDATE), input.clone(), provenance, now) {
                Ok(c) => c,
                Err(DomainError::Invalid { field, message }) => {
                    p.fail(RowError::invalid(row, field, message));
                    continue;
                }
                Err(e) => return Err(e),
            };
        let keys = candidate.keys();
        let repeat = keys.email.as_ref().is_some_and(|e| emails.contains(e))
            || candidate.external_ids.iter().any(|x| ids.contains(x));
        if repeat {
            one_by_one.push((row, input));
            continue;
        }
        emails.extend(keys.email.clone());
        ids.extend(candidate.external_ids.iter().cloned());
        fresh.push((row, input, candidate, keys));
    }
    let (taken_emails, taken_ids) = tx
        .taken_identities(
            &op.tenant_id,
            &emails.into_iter().collect::<Vec<_>>(),
            &ids.into_iter().collect::<Vec<_>>(),
        )
        .await?;
    let taken_emails: HashSet<String> = taken_emails.into_iter().collect();
    let taken_ids: HashSet<ExternalId> = taken_ids.into_iter().collect();
    let mut new_rows: Vec<(Candidate, CandidateKeys)> = Vec::with_capacity(fresh.len());
    for (row, input, candidate, keys) in fresh {
        let known = keys
            .email
            .as_ref()
            .is_some_and(|e| taken_emails.contains(e))
            || candidate.external_ids.iter().any(|x| taken_ids.contains(x));
        if known {
            one_by_one.push((row, input));
        } else {
            new_rows.push((candidate, keys));
        }
    }
    if !new_rows.is_empty() {
        if tx.insert_candidates(&op.tenant_id, &new_rows).await? != WriteOutcome::Written {
            return Err(DomainError::Store(crate::StoreError(
                "a record's email or external id was taken by a concurrent write".into(),
            )));
        }
        let changes = new_rows
            .iter()
            .map(|(c, _)| {
                candidate_change(
                    "candidate.created",
                    c,
                    None,
                    Some(json!({ "candidate": c })),
                )
            })
            .collect();
        record_many(tx.as_mut(), &actor, changes).await?;
        p.created += new_rows.len() as i64;
    }
    one_by_one.sort_by_key(|(row, _)| *row);
    for (row, input) in one_by_one {
        let outcome = create_in(tx.as_mut(), &actor, input, p.upsert).await;
        count(&mut p, row, outcome)?;
    }
    p.done_chunks += 1;
    let mut next = with_progress(op, &p);
    next.lease_until = Some(crate::time::now() + Duration::seconds(lease_secs));
    tx.update_operation(&next).await?;
    tx.commit().await?;
    Ok(Some(next))
}

/// Applies the next chunk one record per transaction, after [`apply_chunk`] failed: the
/// record that breaks is failed alone.
pub async fn apply_chunk_by_row(
    store: &dyn Store,
    op: &StoredOperation,
) -> DomainResult<StoredOperation> {
    let mut p = progress(op)?;
    let actor = actor_of(op, &p);
    let (first_row, data) = {
        let mut tx = store.begin().await?;
        tx.import_chunk(&op.operation.reference_id, p.done_chunks)
            .await?
            .ok_or_else(|| DomainError::InvalidState("a chunk of the import is missing".into()))?
    };
    for (row, parsed) in parse_chunk(p.format, &p.header, first_row, &data) {
        p.rows += 1;
        let input = match parsed {
            Err(e) => {
                p.fail(e);
                continue;
            }
            Ok(input) => input,
        };
        let mut tx = store.begin().await?;
        match create_in(tx.as_mut(), &actor, input, p.upsert).await {
            Err(e @ (DomainError::Store(_) | DomainError::NotFound(_))) => {
                p.fail(RowError::invalid(
                    row,
                    None,
                    format!("the record could not be stored: {e}"),
                ));
            }
            outcome => {
                let committed = tx.commit().await;
                match committed {
                    Ok(()) => count(&mut p, row, outcome)?,
                    Err(e) => p.fail(RowError::invalid(
                        row,
                        None,
                        format!("the record could not be stored: {e}"),
                    )),
                }
            }
        }
    }
    p.done_chunks += 1;
    let next = with_progress(op, &p);
    let mut tx = store.begin().await?;
    tx.update_operation(&next).await?;
    tx.commit().await?;
    Ok(next)
}

/// Ends an import: its operation succeeds with the counts and the row errors, and its chunks
/// are dropped.
pub async fn complete(store: &dyn Store, op: &StoredOperation) -> DomainResult<()> {
    let p = progress(op)?;
    let now = crate::time::now();
    let result = json!({
        "rows": p.rows,
        "created": p.created,
        "updated": p.updated,
        "unchanged": p.unchanged,
        "failed": p.failed,
        "errors": p.errors,
        "errors_truncated": (p.failed as usize) > p.errors.len(),
        "ignored_columns": p.ignored_columns,
    });
    let mut tx = store.begin().await?;
    tx.delete_import_chunks(&op.operation.reference_id).await?;
    tx.update_operation(&op.succeeded(result, now)).await?;
    tx.commit().await?;
    Ok(())
}

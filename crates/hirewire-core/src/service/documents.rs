//! Documents: upload (stored as sent, parsed in the background) and the end of a parse, which
//! merges the parsed profile into the candidate under the provenance rules.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{new_id, prefix};
use crate::model::candidate::email_key;
use crate::model::{
    Candidate, Document, DocumentFormat, OperationKind, ParseStatus, Profile, StoredOperation,
};
use crate::service::candidates::{candidate_change, save};
use crate::service::{Change, record};
use crate::store::{Store, WriteOutcome};

/// A file as received, its format already told from its content.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub filename: Option<String>,
    pub format: DocumentFormat,
}

/// What an upload was turned into.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub document: Document,
    pub operation: StoredOperation,
    /// The candidate the document belongs to (new when the upload created it).
    pub candidate_id: String,
}

/// A successful parse.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub profile: Profile,
    pub text: String,
    pub warnings: Vec<String>,
}

/// A failed parse: a stable code and a message a recruiter can read.
#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub code: &'static str,
    pub message: String,
}

/// Stores a document for a candidate (or for a new candidate when `candidate_id` is `None`)
/// and queues its parsing, in one transaction.
pub async fn upload(
    store: &dyn Store,
    actor: &Actor,
    candidate_id: Option<&str>,
    upload: Upload,
) -> DomainResult<Accepted> {
    let now = crate::time::now();
    let mut tx = store.begin().await?;
    let candidate_id = match candidate_id {
        Some(id) => {
            tx.lock_candidate(&actor.tenant_id, id)
                .await?
                .ok_or(DomainError::NotFound("candidate"))?
                .id
        }
        None => {
            let candidate = Candidate::awaiting_cv(new_id(prefix::CANDIDATE), now);
            if tx
                .insert_candidate(&actor.tenant_id, &candidate, &candidate.keys())
                .await?
                != WriteOutcome::Written
            {
                return Err(DomainError::InvalidState(
                    "the candidate could not be created".into(),
                ));
            }
            record(
                tx.as_mut(),
                actor,
                candidate_change(
                    "candidate.created",
                    &candidate,
                    None,
                    Some(json!({ "candidate": candidate })),
                ),
            )
            .await?;
            candidate.id
        }
    };
    let document_id = new_id(prefix::DOCUMENT);
    let operation = StoredOperation::new(
        &actor.tenant_id,
        OperationKind::ParseDocument,
        Some(document_id.clone()),
        now,
    );
    let document = Document {
        id: document_id,
        candidate_id: candidate_id.clone(),
        filename: upload.filename,
        content_type: upload.format.content_type().to_string(),
        format: upload.format,
        size_bytes: upload.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&upload.bytes)),
        parse_status: ParseStatus::Pending,
        parse_error: None,
        reference_id: operation.operation.reference_id.clone(),
        created_at: now,
        updated_at: now,
    };
    tx.insert_document(&actor.tenant_id, &document, &upload.bytes)
        .await?;
    tx.insert_operation(&operation).await?;
    record(
        tx.as_mut(),
        actor,
        Change {
            action: "document.uploaded",
            entity_type: "document",
            entity_id: &document.id,
            revision_before: None,
            revision_after: None,
            event_data: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        document,
        operation,
        candidate_id,
    })
}

/// Leases parse operations that are due, of any tenant.
pub async fn claim_parses(
    store: &dyn Store,
    lease_secs: i64,
    limit: i64,
) -> DomainResult<Vec<StoredOperation>> {
    crate::service::lease_operations(store, OperationKind::ParseDocument, lease_secs, limit).await
}

/// Ends a parse: on success the profile is merged into the candidate (the parser fills what
/// is empty or parsed before, never what a person set) and `candidate.parsed` is emitted; on
/// failure the document and the operation say why and the candidate is untouched. Either way
/// in one transaction.
pub async fn finish_parse(
    store: &dyn Store,
    op: &StoredOperation,
    outcome: Result<Parsed, ParseFailure>,
) -> DomainResult<()> {
    let now = crate::time::now();
    let mut actor = Actor::system(&op.tenant_id);
    actor.reference_id = Some(op.operation.reference_id.clone());
    let mut tx = store.begin().await?;
    let document_id = op.subject_id.as_deref().unwrap_or_default();
    let Some(mut document) = tx.lock_document(&op.tenant_id, document_id).await? else {
        tx.update_operation(&op.failed(
            "not_found",
            "The document was deleted before it could be parsed.",
            now,
        ))
        .await?;
        tx.commit().await?;
        return Ok(());
    };
    let candidate = tx
        .lock_candidate(&op.tenant_id, &document.candidate_id)
        .await?;
    let (parsed, candidate) = match (outcome, candidate) {
        (Ok(parsed), Some(candidate)) => (parsed, candidate),
        (Err(failure), _) => {
            document.parse_status = ParseStatus::Failed;
            document.parse_error = Some(failure.message.clone());
            document.updated_at = now;
            tx.update_document(&op.tenant_id, &document, None).await?;
            tx.update_operation(&op.failed(failure.code, failure.message, now))
                .await?;
            record(
                tx.as_mut(),
                &actor,
                Change {
                    action: "document.parse_failed",
                    entity_type: "document",
                    entity_id: &document.id,
                    revision_before: None,
                    revision_after: None,
                    event_data: None,
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        (Ok(_), None) => {
            tx.update_operation(&op.failed(
                "not_found",
                "The candidate was deleted before the document was parsed.",
                now,
            ))
            .await?;
            tx.commit().await?;
            return Ok(());
        }
    };
    // Text from files may hold control characters (NUL among them) that no database stores.
    let profile = crate::model::candidate::without_control_characters(&parsed.profile);
    let text: String = parsed
        .text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect();
    let (mut next, mut changed) = candidate.with_parsed(&profile, now);
    // A parsed email that another candidate already has is left out: the two may be one
    // person, which is for a recruiter to decide, so the operation names the other one.
    let mut duplicate_of = None;
    if changed.contains(&"email")
        && let Some(email) = next.email.as_deref()
        && let Some(other) = tx
            .find_candidate(&op.tenant_id, Some(&email_key(email)), &[], Some(&next.id))
            .await?
    {
        next.email = candidate.email.clone();
        match candidate.provenance.get("email") {
            Some(p) => next.provenance.insert("email".into(), *p),
            None => next.provenance.remove("email"),
        };
        changed.retain(|f| *f != "email");
        duplicate_of = Some(other);
    }
    if changed.is_empty() {
        next = candidate.clone();
    } else {
        save(tx.as_mut(), &actor, &next, candidate.revision).await?;
    }
    document.parse_status = ParseStatus::Parsed;
    document.parse_error = None;
    document.updated_at = now;
    let tokens = crate::model::search::document_tokens(&text);
    tx.update_document(&op.tenant_id, &document, Some((&text, &tokens)))
        .await?;
    tx.reindex_candidate(&op.tenant_id, &next.id, &next.keys())
        .await?;
    record(
        tx.as_mut(),
        &actor,
        candidate_change(
            "candidate.parsed",
            &next,
            Some(candidate.revision),
            Some(json!({
                "candidate": next,
                "document_id": document.id,
                "changed_fields": changed,
            })),
        ),
    )
    .await?;
    let evaluation_reference_id = crate::service::evaluations::queue_for_candidate(
        tx.as_mut(),
        &op.tenant_id,
        &next.id,
        &op.operation.reference_id,
        now,
    )
    .await?;
    tx.update_operation(&op.succeeded(
        json!({
            "candidate_id": next.id,
            "document_id": document.id,
            "changed_fields": changed,
            "evaluation_reference_id": evaluation_reference_id,
            "duplicate_of": duplicate_of,
            "warnings": parsed.warnings,
        }),
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

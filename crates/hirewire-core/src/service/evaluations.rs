//! Evaluations: scoring a candidate against a job, in the background (when an application is
//! created, when a CV finishes parsing) or on request; each result is kept (the history),
//! becomes the application's latest score, emits `application.scored` / `candidate.scored`,
//! and opens a review item when its confidence is low. Also the ranking of a job's candidates.

use std::collections::{HashMap, HashSet};

use hirewire_scoring::Evaluator;
use serde_json::json;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::event::ScoredEventData;
use crate::ids::{new_id, prefix};
use crate::model::application::{Application, ApplicationQuery, ApplicationStatus};
use crate::model::evaluation::{
    self, Evaluation, EvaluationTrigger, NewEvaluation, RankedCandidate, Ranking, RankingPool,
    RankingRequest, Review, ReviewKind, ReviewStatus, Subject,
};
use crate::model::{Candidate, OperationKind, StoredOperation};
use crate::page::PageRequest;
use crate::service::{Change, record};
use crate::store::{Store, Tx};

/// A talent pool larger than this is prescreened on indexed skills before full evaluation.
pub const PRESCREEN_LIMIT: usize = 2_000;
/// Candidates loaded per query while ranking.
const LOAD_BATCH: usize = 500;

/// What the domain needs to know to act on an evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Evaluations whose confidence is below this open a review item.
    pub review_below_confidence: f64,
}

/// A background evaluation queued for a new application: the application carries its
/// `evaluation_reference_id` before it is inserted.
pub(crate) fn queue_for_application(
    app: &mut Application,
    tenant_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> StoredOperation {
    let mut op = StoredOperation::new(
        tenant_id,
        OperationKind::Evaluate,
        Some(app.id.clone()),
        now,
    );
    op.input = Some(json!({
        "trigger": EvaluationTrigger::ApplicationCreated.as_str(),
        "application_id": app.id,
    }));
    app.evaluation_reference_id = Some(op.operation.reference_id.clone());
    op
}

/// Queues the re-evaluation of a candidate's applications to open jobs after a CV parse;
/// the events it causes carry `cause` (the parse's reference id). Returns the new
/// operation's reference id.
pub(crate) async fn queue_for_candidate(
    tx: &mut dyn Tx,
    tenant_id: &str,
    candidate_id: &str,
    cause: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> DomainResult<String> {
    let mut op = StoredOperation::new(
        tenant_id,
        OperationKind::Evaluate,
        Some(candidate_id.to_string()),
        now,
    );
    op.input = Some(json!({
        "trigger": EvaluationTrigger::CvParsed.as_str(),
        "candidate_id": candidate_id,
        "cause_reference_id": cause,
    }));
    let reference = op.operation.reference_id.clone();
    tx.mark_applications_for_evaluation(tenant_id, candidate_id, &reference)
        .await?;
    tx.insert_operation(&op).await?;
    Ok(reference)
}

/// Leases queued evaluation operations.
pub async fn claim(
    store: &dyn Store,
    lease_secs: i64,
    limit: i64,
) -> DomainResult<Vec<StoredOperation>> {
    crate::service::lease_operations(store, OperationKind::Evaluate, lease_secs, limit).await
}

/// A candidate as the evaluator reads it: the record and its latest parsed CV text.
struct Reading {
    candidate: Candidate,
    cv_text: Option<String>,
}

async fn read_candidate(
    store: &dyn Store,
    tenant_id: &str,
    id: &str,
) -> DomainResult<Option<Reading>> {
    let Some(candidate) = store.candidate(tenant_id, id).await? else {
        return Ok(None);
    };
    let cv_text = store
        .latest_document_texts(tenant_id, &[id.to_string()])
        .await?
        .into_iter()
        .next()
        .map(|(_, text)| text);
    Ok(Some(Reading { candidate, cv_text }))
}

fn score(
    evaluator: &dyn Evaluator,
    job: &crate::model::Job,
    reading: &Reading,
) -> hirewire_scoring::Evaluation {
    evaluation::evaluate(
        evaluator,
        &evaluation::job_spec(job),
        &reading.candidate.profile,
        reading.cv_text.as_deref(),
    )
}

/// Runs a queued evaluation operation and records its outcome; the operation fails with a
/// reason when its subject is gone.
pub async fn run(
    store: &dyn Store,
    evaluator: &dyn Evaluator,
    policy: Policy,
    op: &StoredOperation,
) -> DomainResult<()> {
    let input = op.input.clone().unwrap_or_default();
    let trigger = input
        .get("trigger")
        .and_then(|t| t.as_str())
        .and_then(EvaluationTrigger::parse)
        .unwrap_or(EvaluationTrigger::ApplicationCreated);
    let reference = op.operation.reference_id.clone();
    let tenant = op.tenant_id.as_str();
    let subject_id = op.subject_id.clone().unwrap_or_default();

    // Which applications this operation scores.
    let (candidate_id, applications) =
        match trigger {
            EvaluationTrigger::CvParsed => {
                let mut mine = Vec::new();
                let mut page = PageRequest {
                    limit: crate::page::MAX_LIMIT,
                    ..PageRequest::default()
                };
                loop {
                    let query = ApplicationQuery {
                        candidate_id: Some(subject_id.clone()),
                        page: page.clone(),
                        ..ApplicationQuery::default()
                    };
                    let found = store.list_applications(tenant, &query).await?;
                    mine.extend(found.items.into_iter().filter(|a| {
                        a.evaluation_reference_id.as_deref() == Some(reference.as_str())
                    }));
                    match found
                        .next_cursor
                        .as_deref()
                        .and_then(crate::page::Cursor::decode)
                    {
                        Some(c) => page.after = Some(c),
                        None => break,
                    }
                }
                (subject_id.clone(), mine)
            }
            _ => match store.application(tenant, &subject_id).await? {
                Some(a) => (a.candidate_id.clone(), vec![a]),
                None => {
                    return fail(
                        store,
                        op,
                        "The application was deleted before it was scored.",
                    )
                    .await;
                }
            },
        };
    let Some(reading) = read_candidate(store, tenant, &candidate_id).await? else {
        return fail(store, op, "The candidate was deleted before it was scored.").await;
    };
    let now = crate::time::now();
    let mut results = Vec::with_capacity(applications.len());
    for app in &applications {
        let Some(job) = store.job(tenant, &app.job_id).await? else {
            continue;
        };
        let subject = Subject {
            candidate_id: candidate_id.clone(),
            job_id: job.id.clone(),
            application_id: Some(app.id.clone()),
        };
        results.push(Evaluation::from_result(
            new_id(prefix::EVALUATION),
            &subject,
            score(evaluator, &job, &reading),
            trigger,
            Some(reference.clone()),
            now,
        ));
    }
    let mut actor = Actor::system(tenant);
    // Events carry the reference of the operation that caused the scoring (the CV upload),
    // so that an integrator follows one id from upload to score.
    actor.reference_id = Some(
        input
            .get("cause_reference_id")
            .and_then(|c| c.as_str())
            .map_or_else(|| reference.clone(), str::to_string),
    );
    let mut tx = store.begin().await?;
    for e in &results {
        save(tx.as_mut(), &actor, e, policy).await?;
    }
    let summary: Vec<_> = results
        .iter()
        .map(|e| {
            json!({
                "evaluation_id": e.id,
                "application_id": e.application_id,
                "job_id": e.job_id,
                "score": e.score,
                "band": e.band,
                "confidence": e.confidence,
            })
        })
        .collect();
    tx.update_operation(&op.succeeded(
        json!({ "candidate_id": candidate_id, "evaluations": summary }),
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn fail(store: &dyn Store, op: &StoredOperation, message: &str) -> DomainResult<()> {
    give_up(store, op, "not_found", message).await
}

/// Ends an operation as failed, with a code and a readable message (a subject that is gone,
/// or one that failed every attempt).
pub async fn give_up(
    store: &dyn Store,
    op: &StoredOperation,
    code: &str,
    message: &str,
) -> DomainResult<()> {
    let mut tx = store.begin().await?;
    tx.update_operation(&op.failed(code, message, crate::time::now()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Evaluates a candidate against a job now; the evaluation joins the application's history
/// when the candidate applied to the job.
pub async fn evaluate_now(
    store: &dyn Store,
    evaluator: &dyn Evaluator,
    policy: Policy,
    actor: &Actor,
    input: NewEvaluation,
) -> DomainResult<Evaluation> {
    crate::service::check_candidate_and_job_ids(&input.candidate_id, &input.job_id)?;
    let tenant = actor.tenant_id.as_str();
    let job = store
        .job(tenant, &input.job_id)
        .await?
        .ok_or_else(|| DomainError::invalid("job_id", "no such job"))?;
    let reading = read_candidate(store, tenant, &input.candidate_id)
        .await?
        .ok_or_else(|| DomainError::invalid("candidate_id", "no such candidate"))?;
    let result = score(evaluator, &job, &reading);
    let mut tx = store.begin().await?;
    // Erased meanwhile: the evaluation must not outlive the candidate.
    tx.lock_candidate(tenant, &input.candidate_id)
        .await?
        .ok_or_else(|| DomainError::invalid("candidate_id", "no such candidate"))?;
    let application_id = tx
        .find_application(tenant, &input.candidate_id, &input.job_id)
        .await?;
    let subject = Subject {
        candidate_id: input.candidate_id,
        job_id: input.job_id,
        application_id,
    };
    let e = Evaluation::from_result(
        new_id(prefix::EVALUATION),
        &subject,
        result,
        EvaluationTrigger::Api,
        actor.reference_id.clone(),
        crate::time::now(),
    );
    save(tx.as_mut(), actor, &e, policy).await?;
    tx.commit().await?;
    Ok(e)
}

/// Writes an evaluation, makes it its application's latest, emits its events and opens (or
/// refreshes) a review item when it is unsure.
async fn save(tx: &mut dyn Tx, actor: &Actor, e: &Evaluation, policy: Policy) -> DomainResult<()> {
    let tenant = actor.tenant_id.as_str();
    tx.insert_evaluation(tenant, e).await?;
    let data = serde_json::to_value(ScoredEventData::of(e)).unwrap_or_default();
    let mut changes = Vec::with_capacity(2);
    if let Some(app_id) = &e.application_id {
        tx.set_application_evaluation(tenant, app_id, &e.summary())
            .await?;
        changes.push(scored("application.scored", "application", app_id, &data));
    }
    changes.push(scored(
        "candidate.scored",
        "candidate",
        &e.candidate_id,
        &data,
    ));
    crate::service::record_many(tx, actor, changes).await?;
    if e.confidence < policy.review_below_confidence {
        open_review(tx, actor, e, policy).await?;
    }
    Ok(())
}

fn scored<'a>(
    action: &'static str,
    entity_type: &'static str,
    entity_id: &'a str,
    data: &serde_json::Value,
) -> Change<'a> {
    Change {
        action,
        entity_type,
        entity_id,
        revision_before: None,
        revision_after: None,
        event_data: Some(data.clone()),
    }
}

async fn open_review(
    tx: &mut dyn Tx,
    actor: &Actor,
    e: &Evaluation,
    policy: Policy,
) -> DomainResult<()> {
    let tenant = actor.tenant_id.as_str();
    let now = crate::time::now();
    let reason = format!(
        "The evaluation's confidence ({:.2}) is below the review threshold ({:.2}): it rests on little evidence, such as a thin profile or a CV that was not parsed. Check the candidate against the job by hand.",
        e.confidence, policy.review_below_confidence
    );
    let details = json!({
        "evaluation_id": e.id,
        "score": e.score,
        "band": e.band,
        "confidence": e.confidence,
        "threshold": policy.review_below_confidence,
    });
    let existing = tx
        .lock_open_review(
            tenant,
            ReviewKind::LowConfidenceEvaluation,
            &e.candidate_id,
            &e.job_id,
        )
        .await?;
    let (review, before, action) = match existing {
        Some(old) => {
            let mut next = old.clone();
            next.subject_id = e.id.clone();
            next.application_id = e.application_id.clone().or(old.application_id.clone());
            next.reason = reason;
            next.details = details;
            next.revision += 1;
            next.updated_at = now;
            if !tx.update_review(tenant, &next, old.revision).await? {
                return Err(DomainError::RevisionConflict {
                    expected: old.revision,
                    current: old.revision + 1,
                });
            }
            (next, Some(old.revision), "review.updated")
        }
        None => {
            let review = Review {
                id: new_id(prefix::REVIEW),
                kind: ReviewKind::LowConfidenceEvaluation,
                status: ReviewStatus::Open,
                subject_type: "evaluation".into(),
                subject_id: e.id.clone(),
                candidate_id: Some(e.candidate_id.clone()),
                job_id: Some(e.job_id.clone()),
                application_id: e.application_id.clone(),
                reason,
                details,
                resolution: None,
                resolution_note: None,
                resolved_by_key_id: None,
                resolved_by_user_id: None,
                resolved_at: None,
                revision: 1,
                created_at: now,
                updated_at: now,
            };
            tx.insert_review(tenant, &review).await?;
            (review, None, "review.opened")
        }
    };
    record(
        tx,
        actor,
        Change {
            action,
            entity_type: "review",
            entity_id: &review.id,
            revision_before: before,
            revision_after: Some(review.revision),
            event_data: None,
        },
    )
    .await
}

/// What a ranking evaluates: the job, the pool's candidates with their CV texts, and who
/// applied. Gathered from the store by [`gather`], ranked by [`rank`] (pure, CPU-bound:
/// callers run it off the async threads).
pub struct RankingInput {
    job: crate::model::Job,
    pool_size: u64,
    prescreened: bool,
    candidates: Vec<(Candidate, Option<String>)>,
    applicants: HashMap<String, (String, ApplicationStatus)>,
}

/// Reads what a ranking needs. A talent pool larger than [`PRESCREEN_LIMIT`] is first
/// narrowed to the candidates whose indexed skills best match the job's.
pub async fn gather(
    store: &dyn Store,
    tenant_id: &str,
    job_id: &str,
    req: &RankingRequest,
) -> DomainResult<RankingInput> {
    let job = store
        .job(tenant_id, job_id)
        .await?
        .ok_or(DomainError::NotFound("job"))?;
    let applicants = store.job_applicants(tenant_id, job_id).await?;
    let (pool_size, ids, prescreened) = match req.pool {
        RankingPool::Applicants => {
            let ids: Vec<String> = applicants
                .iter()
                .filter(|(_, _, s)| req.include_rejected || !s.is_out())
                .map(|(c, _, _)| c.clone())
                .collect();
            (ids.len() as u64, ids, false)
        }
        RankingPool::All => {
            let size = store.count_candidates(tenant_id).await?;
            let limit = PRESCREEN_LIMIT as u32;
            if size as usize <= PRESCREEN_LIMIT {
                (
                    size,
                    store.recent_candidates(tenant_id, limit).await?,
                    false,
                )
            } else {
                let keys = evaluation::prescreen_keys(&job);
                let mut ids = if keys.is_empty() {
                    Vec::new()
                } else {
                    store.candidates_by_skills(tenant_id, &keys, limit).await?
                };
                // Room left (few candidates share a skill with the job) goes to the most
                // recently updated others.
                if ids.len() < PRESCREEN_LIMIT {
                    let mut seen: HashSet<String> = ids.iter().cloned().collect();
                    for id in store.recent_candidates(tenant_id, limit).await? {
                        if ids.len() >= PRESCREEN_LIMIT {
                            break;
                        }
                        if seen.insert(id.clone()) {
                            ids.push(id);
                        }
                    }
                }
                (size, ids, true)
            }
        }
    };
    let mut candidates = Vec::with_capacity(ids.len());
    for batch in ids.chunks(LOAD_BATCH) {
        let mut texts: HashMap<String, String> = store
            .latest_document_texts(tenant_id, batch)
            .await?
            .into_iter()
            .collect();
        for c in store.candidates_by_ids(tenant_id, batch).await? {
            let text = texts.remove(&c.id);
            candidates.push((c, text));
        }
    }
    let applicants = applicants
        .into_iter()
        .map(|(c, a, s)| (c, (a, s)))
        .collect();
    Ok(RankingInput {
        job,
        pool_size,
        prescreened,
        candidates,
        applicants,
    })
}

/// Evaluates the gathered candidates and keeps the best `limit` at or above `min_score`.
/// Nothing is stored: a ranking is a view.
pub fn rank(evaluator: &dyn Evaluator, input: RankingInput, req: &RankingRequest) -> Ranking {
    let spec = evaluation::job_spec(&input.job);
    let evaluated = input.candidates.len() as u64;
    let mut scored: Vec<(Candidate, hirewire_scoring::Evaluation)> = input
        .candidates
        .into_iter()
        .map(|(c, text)| {
            let r = evaluation::evaluate(evaluator, &spec, &c.profile, text.as_deref());
            (c, r)
        })
        .filter(|(_, r)| req.min_score.is_none_or(|m| r.score >= m))
        .collect();
    // Best first; equal scores: the more confident first, then the newest candidate.
    scored.sort_by(|(ca, a), (cb, b)| {
        b.score
            .cmp(&a.score)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(cb.id.cmp(&ca.id))
    });
    scored.truncate(req.limit);
    let items = scored
        .into_iter()
        .enumerate()
        .map(|(i, (c, r))| {
            let application = input.applicants.get(&c.id);
            RankedCandidate {
                rank: i as u32 + 1,
                name: display_name(&c),
                application_id: application.map(|(a, _)| a.clone()),
                application_status: application.map(|(_, s)| *s),
                candidate_id: c.id,
                score: r.score,
                band: r.band,
                confidence: r.confidence,
                dimensions: r.dimensions,
                matched_skills: r.matched_skills,
                missing_skills: r.missing_skills,
                rationale: r.rationale,
            }
        })
        .collect();
    Ranking {
        job_id: input.job.id,
        pool: req.pool,
        pool_size: input.pool_size,
        evaluated,
        prescreened: input.prescreened,
        evaluator: evaluator.name().to_string(),
        model_version: evaluator.model_version().to_string(),
        items,
    }
}

fn display_name(c: &Candidate) -> Option<String> {
    match (&c.first_name, &c.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        (None, None) => c.profile.basics.name.clone(),
    }
}

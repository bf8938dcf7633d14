//! The persistence contract. Each backend (SQLite, PostgreSQL) implements every trait here and
//! passes the same tests. Reads go straight to the store; writes go through a [`Tx`] so that
//! a change, its outbox event and its audit record commit together or not at all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::event::Event;
use crate::model::application::{Application, ApplicationQuery, ApplicationStatus};
use crate::model::evaluation::{
    Evaluation, EvaluationQuery, EvaluationSummary, Review, ReviewKind, ReviewQuery,
};
use crate::model::search::SearchQuery;
use crate::model::{
    Attempt, AuditEvent, AuditQuery, Candidate, CandidateKeys, CandidateQuery, Delivery,
    DeliveryQuery, Document, ExternalId, Job, JobQuery, KeyQuery, OperationKind, StoredDelivery,
    StoredKey, StoredOperation, StoredSubscription, SubscriptionQuery, Tenant,
};
use crate::page::Page;

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// What a guarded write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The row was written.
    Written,
    /// The stored revision was not the one expected; nothing was written.
    Stale,
    /// A unique value (an email, an external id) belongs to another row; nothing was written.
    Duplicate,
}

/// A unit of work: one database transaction. Dropping it without [`Tx::commit`] rolls back.
#[async_trait]
pub trait Tx: Send {
    /// Inserts a tenant.
    async fn insert_tenant(&mut self, tenant: &Tenant) -> StoreResult<()>;
    /// Spends one credit of the tenant; `false` (and nothing spent) when none is left.
    async fn debit_credit(&mut self, tenant_id: &str) -> StoreResult<bool>;

    /// Inserts a key.
    async fn insert_key(&mut self, key: &StoredKey) -> StoreResult<()>;
    /// Reads a key of the tenant and locks it until the transaction ends.
    async fn lock_key(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredKey>>;
    /// Writes back a key read with [`Tx::lock_key`].
    async fn update_key(&mut self, key: &StoredKey) -> StoreResult<()>;

    /// Inserts a job.
    async fn insert_job(&mut self, tenant_id: &str, job: &Job) -> StoreResult<()>;
    /// Reads a job of the tenant and locks it until the transaction ends.
    async fn lock_job(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>>;
    /// Writes back a job whose stored revision is `previous_revision`; `false` if it was not.
    async fn update_job(
        &mut self,
        tenant_id: &str,
        job: &Job,
        previous_revision: i64,
    ) -> StoreResult<bool>;
    /// Claims up to `limit` active jobs past their expiry, of any tenant, locking them so that
    /// concurrent claimers in other processes skip them. Returns (tenant id, job) pairs.
    async fn claim_due_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, Job)>>;

    /// Inserts a candidate with its lookup keys; `Duplicate` when its email or one of its
    /// external ids is already taken in the tenant.
    async fn insert_candidate(
        &mut self,
        tenant_id: &str,
        candidate: &Candidate,
        keys: &CandidateKeys,
    ) -> StoreResult<WriteOutcome>;
    /// Inserts many new candidates at once (a bulk import). `Duplicate` when an email or an
    /// external id is taken; the caller must then roll back, as part may have been written.
    async fn insert_candidates(
        &mut self,
        tenant_id: &str,
        rows: &[(Candidate, CandidateKeys)],
    ) -> StoreResult<WriteOutcome> {
        for (c, keys) in rows {
            if self.insert_candidate(tenant_id, c, keys).await? != WriteOutcome::Written {
                return Ok(WriteOutcome::Duplicate);
            }
        }
        Ok(WriteOutcome::Written)
    }
    /// Which of these email keys and external ids already belong to candidates of the tenant.
    async fn taken_identities(
        &mut self,
        tenant_id: &str,
        email_keys: &[String],
        external_ids: &[ExternalId],
    ) -> StoreResult<(Vec<String>, Vec<ExternalId>)>;
    /// Reads a candidate of the tenant and locks it until the transaction ends.
    async fn lock_candidate(&mut self, tenant_id: &str, id: &str)
    -> StoreResult<Option<Candidate>>;
    /// Writes back a candidate whose stored revision is `previous_revision`.
    async fn update_candidate(
        &mut self,
        tenant_id: &str,
        candidate: &Candidate,
        keys: &CandidateKeys,
        previous_revision: i64,
    ) -> StoreResult<WriteOutcome>;
    /// The id of a candidate of the tenant, other than `except_id`, with this email key or one
    /// of these external ids.
    async fn find_candidate(
        &mut self,
        tenant_id: &str,
        email_key: Option<&str>,
        external_ids: &[ExternalId],
        except_id: Option<&str>,
    ) -> StoreResult<Option<String>>;
    /// Erases a candidate: the row, its documents and their contents, its lookup keys, and
    /// the personal data in its outbox events (replaced by the bare id).
    async fn erase_candidate(&mut self, tenant_id: &str, id: &str) -> StoreResult<()>;

    /// Inserts an application; `Duplicate` when the candidate already applied to the job.
    async fn insert_application(
        &mut self,
        tenant_id: &str,
        application: &Application,
    ) -> StoreResult<WriteOutcome>;
    /// Reads an application of the tenant and locks it until the transaction ends.
    async fn lock_application(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Application>>;
    /// Writes back an application whose stored revision is `previous_revision`.
    async fn update_application(
        &mut self,
        tenant_id: &str,
        application: &Application,
        previous_revision: i64,
    ) -> StoreResult<bool>;
    /// The id of the tenant's application of this candidate to this job.
    async fn find_application(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<String>>;

    /// Records an application's latest evaluation (its `revision` stays: scoring is not an
    /// edit).
    async fn set_application_evaluation(
        &mut self,
        tenant_id: &str,
        application_id: &str,
        summary: &EvaluationSummary,
    ) -> StoreResult<()>;
    /// Marks the candidate's applications to draft or active jobs as being scored by this
    /// operation.
    async fn mark_applications_for_evaluation(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        reference_id: &str,
    ) -> StoreResult<u64>;
    /// Inserts an evaluation.
    async fn insert_evaluation(
        &mut self,
        tenant_id: &str,
        evaluation: &Evaluation,
    ) -> StoreResult<()>;
    /// The open review item of this kind about this candidate and job, locked.
    async fn lock_open_review(
        &mut self,
        tenant_id: &str,
        kind: ReviewKind,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<Review>>;
    /// A review item of the tenant, locked.
    async fn lock_review(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Review>>;
    /// Inserts a review item.
    async fn insert_review(&mut self, tenant_id: &str, review: &Review) -> StoreResult<()>;
    /// Writes back a review item whose stored revision is `previous_revision`.
    async fn update_review(
        &mut self,
        tenant_id: &str,
        review: &Review,
        previous_revision: i64,
    ) -> StoreResult<bool>;

    /// Inserts a document and its content.
    async fn insert_document(
        &mut self,
        tenant_id: &str,
        document: &Document,
        content: &[u8],
    ) -> StoreResult<()>;
    /// Reads a document of the tenant and locks it until the transaction ends.
    async fn lock_document(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Document>>;
    /// Writes back a document's parse status, and the text extracted from it with its search
    /// tokens.
    async fn update_document(
        &mut self,
        tenant_id: &str,
        document: &Document,
        text: Option<(&str, &str)>,
    ) -> StoreResult<()>;
    /// Rewrites a candidate's search entry: its record's tokens and its latest parsed
    /// document's.
    async fn reindex_candidate(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        keys: &CandidateKeys,
    ) -> StoreResult<()>;

    /// Inserts an operation.
    async fn insert_operation(&mut self, operation: &StoredOperation) -> StoreResult<()>;
    /// Leases up to `limit` pending operations of this kind, of any tenant, whose lease is
    /// free, oldest first, until `lease_until`, counting an attempt on each.
    async fn claim_operations(
        &mut self,
        kind: OperationKind,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<StoredOperation>>;
    /// Writes back an operation's status, input (progress), result or error and lease.
    async fn update_operation(&mut self, operation: &StoredOperation) -> StoreResult<()>;
    /// Stores a chunk of an import's body.
    async fn insert_import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
        first_row: i64,
        data: &[u8],
    ) -> StoreResult<()>;
    /// A chunk of an import's body: the number of its first row, and its bytes.
    async fn import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
    ) -> StoreResult<Option<(i64, Vec<u8>)>>;
    /// Drops the chunks of an import.
    async fn delete_import_chunks(&mut self, reference_id: &str) -> StoreResult<()>;

    /// Appends an event to the outbox.
    async fn append_event(&mut self, event: &Event) -> StoreResult<()>;
    /// Records a change in the audit trail.
    async fn record_change(&mut self, change: &AuditEvent) -> StoreResult<()>;
    /// Appends many events to the outbox, in order.
    async fn append_events(&mut self, events: &[Event]) -> StoreResult<()> {
        for e in events {
            self.append_event(e).await?;
        }
        Ok(())
    }
    /// Records many changes in the audit trail.
    async fn record_changes(&mut self, changes: &[AuditEvent]) -> StoreResult<()> {
        for c in changes {
            self.record_change(c).await?;
        }
        Ok(())
    }

    /// Inserts a webhook subscription.
    async fn insert_subscription(&mut self, sub: &StoredSubscription) -> StoreResult<()>;
    /// Reads a subscription of the tenant and locks it until the transaction ends.
    async fn lock_subscription(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// Writes back a subscription read with [`Tx::lock_subscription`].
    async fn update_subscription(&mut self, sub: &StoredSubscription) -> StoreResult<()>;
    /// Deletes a subscription with its deliveries and their attempts.
    async fn delete_subscription(&mut self, tenant_id: &str, id: &str) -> StoreResult<()>;

    /// Takes the dispatcher's lock until the transaction ends, so that one dispatcher at a
    /// time hands out feed positions and they follow commit order.
    async fn lock_dispatch(&mut self) -> StoreResult<()>;
    /// The oldest events not yet dispatched.
    async fn undispatched_events(&mut self, limit: i64) -> StoreResult<Vec<Event>>;
    /// The active subscriptions of these tenants.
    async fn active_subscriptions(
        &mut self,
        tenant_ids: &[String],
    ) -> StoreResult<Vec<StoredSubscription>>;
    /// Marks events dispatched and gives them the next feed positions, in the order given.
    async fn mark_dispatched(
        &mut self,
        event_ids: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Inserts deliveries.
    async fn insert_deliveries(&mut self, deliveries: &[StoredDelivery]) -> StoreResult<()>;

    /// Active subscriptions with deliveries due at `now` that nobody holds, as
    /// (tenant id, subscription id).
    async fn due_subscriptions(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Locks a subscription for claiming its deliveries; `None` when another claimer holds it
    /// (or it is gone).
    async fn lock_subscription_for_claim(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// How many of the subscription's deliveries other claimers hold at `now`.
    async fn count_leased_by_others(
        &mut self,
        subscription_id: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Leases up to `limit` due deliveries of the subscription to `owner` until `lease_until`,
    /// earliest due first, and returns them with their events.
    async fn lease_deliveries(
        &mut self,
        subscription_id: &str,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(StoredDelivery, Event)>>;
    /// Records attempts.
    async fn insert_attempts(&mut self, attempts: &[Attempt]) -> StoreResult<()>;
    /// Writes deliveries' new states and releases their leases.
    async fn update_deliveries(&mut self, deliveries: &[Delivery]) -> StoreResult<()>;
    /// Reads a delivery of the tenant and locks it until the transaction ends.
    async fn lock_delivery(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredDelivery>>;
    /// Schedules for `now` every dead or failed delivery of the subscription whose last
    /// attempt was at or after `since`; returns how many.
    async fn recover_deliveries(
        &mut self,
        subscription_id: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Makes every write of the unit durable.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Tenants.
#[async_trait]
pub trait TenantStore {
    /// A tenant by id.
    async fn tenant(&self, id: &str) -> StoreResult<Option<Tenant>>;
    /// A tenant by its unique name.
    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>>;
    /// How many tenants exist; zero means the database is new.
    async fn count_tenants(&self) -> StoreResult<i64>;
}

/// API keys.
#[async_trait]
pub trait KeyStore {
    /// The key whose current secret, or previous secret still in its grace period, has this hash.
    async fn key_by_hash(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StoredKey>>;
    /// A key by id, tenant-scoped; `tenant_id: None` is for the CLI, which acts on any tenant.
    async fn key(&self, tenant_id: Option<&str>, id: &str) -> StoreResult<Option<StoredKey>>;
    /// A page of the tenant's keys, newest first.
    async fn list_keys(&self, tenant_id: &str, query: &KeyQuery) -> StoreResult<Page<StoredKey>>;
    /// Records when keys were last used, in one batch.
    async fn touch_keys(&self, uses: &[(String, DateTime<Utc>)]) -> StoreResult<()>;
}

/// Jobs.
#[async_trait]
pub trait JobStore {
    /// A job of the tenant.
    async fn job(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>>;
    /// A page of the tenant's jobs.
    async fn list_jobs(&self, tenant_id: &str, query: &JobQuery) -> StoreResult<Page<Job>>;
}

/// Candidates and their documents.
#[async_trait]
pub trait CandidateStore {
    /// A candidate of the tenant.
    async fn candidate(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Candidate>>;
    /// A page of the tenant's candidates.
    async fn list_candidates(
        &self,
        tenant_id: &str,
        query: &CandidateQuery,
    ) -> StoreResult<Page<Candidate>>;
    /// A document of the tenant.
    async fn document(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Document>>;
    /// Every document of a candidate, newest first.
    async fn list_documents(
        &self,
        tenant_id: &str,
        candidate_id: &str,
    ) -> StoreResult<Vec<Document>>;
    /// The bytes of a document of the tenant.
    async fn document_content(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// A page of the tenant's candidates matching a search, best first, with their scores.
    async fn search_candidates(
        &self,
        tenant_id: &str,
        query: &SearchQuery,
    ) -> StoreResult<Page<(Candidate, i64)>>;
    /// The text of each candidate's latest parsed document, for highlights.
    async fn latest_document_texts(
        &self,
        tenant_id: &str,
        candidate_ids: &[String],
    ) -> StoreResult<Vec<(String, String)>>;
}

/// Applications.
#[async_trait]
pub trait ApplicationStore {
    /// An application of the tenant.
    async fn application(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Application>>;
    /// A page of the tenant's applications.
    async fn list_applications(
        &self,
        tenant_id: &str,
        query: &ApplicationQuery,
    ) -> StoreResult<Page<Application>>;
}

/// Evaluations, the data rankings need, and review items.
#[async_trait]
pub trait EvaluationStore {
    /// An evaluation of the tenant.
    async fn evaluation(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Evaluation>>;
    /// A page of the tenant's evaluations, newest first.
    async fn list_evaluations(
        &self,
        tenant_id: &str,
        query: &EvaluationQuery,
    ) -> StoreResult<Page<Evaluation>>;
    /// The tenant's candidates with these ids (in no particular order; missing ids skipped).
    async fn candidates_by_ids(
        &self,
        tenant_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Candidate>>;
    /// Every application to the job: candidate id, application id, status.
    async fn job_applicants(
        &self,
        tenant_id: &str,
        job_id: &str,
    ) -> StoreResult<Vec<(String, String, ApplicationStatus)>>;
    /// How many candidates the tenant has.
    async fn count_candidates(&self, tenant_id: &str) -> StoreResult<u64>;
    /// The ids of up to `limit` candidates holding the most of these skill keys, weighted,
    /// best first (ties: the newest candidate first).
    async fn candidates_by_skills(
        &self,
        tenant_id: &str,
        keys: &[(String, f64)],
        limit: u32,
    ) -> StoreResult<Vec<String>>;
    /// The ids of the `limit` most recently updated candidates.
    async fn recent_candidates(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<String>>;
    /// A review item of the tenant.
    async fn review(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Review>>;
    /// A page of the tenant's review items, newest first.
    async fn list_reviews(&self, tenant_id: &str, query: &ReviewQuery)
    -> StoreResult<Page<Review>>;
}

/// Asynchronous operations.
#[async_trait]
pub trait OperationStore {
    /// An operation of the tenant.
    async fn operation(
        &self,
        tenant_id: &str,
        reference_id: &str,
    ) -> StoreResult<Option<StoredOperation>>;
}

/// The outbox of events.
#[async_trait]
pub trait EventStore {
    /// The tenant's dispatched events after the given feed position, in commit order, with
    /// their positions; events meant for one subscription (pings) are left out.
    async fn list_events(
        &self,
        tenant_id: &str,
        after_position: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>>;
    /// How many events wait to be dispatched.
    async fn outbox_depth(&self) -> StoreResult<i64>;
}

/// Webhook subscriptions and their deliveries.
#[async_trait]
pub trait WebhookStore {
    /// A subscription of the tenant.
    async fn subscription(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// A page of the tenant's subscriptions, newest first.
    async fn list_subscriptions(
        &self,
        tenant_id: &str,
        query: &SubscriptionQuery,
    ) -> StoreResult<Page<StoredSubscription>>;
    /// A delivery of the tenant.
    async fn delivery(&self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredDelivery>>;
    /// A page of a subscription's deliveries, newest first.
    async fn list_deliveries(
        &self,
        tenant_id: &str,
        subscription_id: &str,
        query: &DeliveryQuery,
    ) -> StoreResult<Page<Delivery>>;
    /// Every attempt of a delivery, first first.
    async fn attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore {
    /// Writes a batch of API call records, all or none. Taken by value, so that a store may
    /// write them away from the async worker threads.
    async fn insert_audit_events(&self, events: Vec<AuditEvent>) -> StoreResult<()>;
    /// A page of the tenant's audit records, newest first.
    async fn list_audit_events(
        &self,
        tenant_id: &str,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditEvent>>;
}

/// A stored response to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What the store knows of an idempotency key when a request arrives with it.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// First use: the caller runs the request and then completes or releases the key.
    Claimed,
    /// Seen with the same request: replay this response.
    Replay(StoredResponse),
    /// Seen with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Idempotency keys, kept for 24 hours.
#[async_trait]
pub trait IdempotencyStore {
    /// Claims a key for a request with this fingerprint, or says why not.
    async fn claim_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> StoreResult<IdempotencyClaim>;
    /// Stores the response of a claimed key.
    async fn complete_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a claimed key whose request failed, so the client may retry.
    async fn release_idempotency_key(&self, tenant_id: &str, key: &str) -> StoreResult<()>;
    /// Deletes keys older than the cutoff; returns how many.
    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A whole backend.
#[async_trait]
pub trait Store:
    TenantStore
    + KeyStore
    + JobStore
    + CandidateStore
    + ApplicationStore
    + EvaluationStore
    + OperationStore
    + EventStore
    + WebhookStore
    + AuditStore
    + IdempotencyStore
    + Send
    + Sync
    + 'static
{
    /// Starts a unit of work.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Housekeeping of the work-queue tables, run every few seconds by each process.
    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }
    /// The backend's name, for logs and metrics.
    fn backend(&self) -> &'static str;
}

//! Write transactions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hirewire_core::StoreError;
use hirewire_core::event::Event;
use hirewire_core::model::application::Application;
use hirewire_core::model::evaluation::{Evaluation, EvaluationSummary, Review, ReviewKind};
use hirewire_core::model::{
    Attempt, AuditEvent, Candidate, CandidateKeys, Delivery, Document, ExternalId, Job,
    OperationKind, StoredDelivery, StoredKey, StoredOperation, StoredSubscription, Tenant,
};
use hirewire_core::store::{StoreResult, Tx, WriteOutcome};
use sqlx::types::Json;
use sqlx::{Postgres, QueryBuilder, Transaction};

use crate::candidates::{self, candidate_from_row};
use crate::evaluations;
use crate::events::event_from_row;
use crate::jobs::job_from_row;
use crate::keys::key_from_row;
use crate::rows::{OrStore, RowExt};
use crate::webhooks::{delivery_from_row, subscription_from_row};

/// A READ COMMITTED transaction on a pooled connection. Rows read in order to be changed are
/// locked with `SELECT … FOR UPDATE` until commit or rollback.
pub(crate) struct PostgresTx {
    pub(crate) tx: Transaction<'static, Postgres>,
}

/// The first half of the dispatcher's advisory lock key (`hwdp` in ASCII). The second half is
/// a hash of the current schema, so that deployments (and tests) sharing a database in
/// different schemas do not hold up each other's dispatchers.
const DISPATCH_LOCK: i32 = 0x6877_6470;

/// The first half of a claimer's advisory lock key on one subscription (`hwcl`); the second is
/// a hash of the subscription id.
const CLAIM_LOCK: i32 = 0x6877_636c;

type JobQuery<'q> = sqlx::query::Query<'q, Postgres, <Postgres as sqlx::Database>::Arguments>;

/// Binds `title` … `revision` ($3 to $19), the columns that inserts and updates share.
fn bind_job_fields<'q>(q: JobQuery<'q>, j: &'q Job) -> JobQuery<'q> {
    q.bind(&j.title)
        .bind(&j.reference)
        .bind(&j.description)
        .bind(&j.city)
        .bind(&j.country)
        .bind(j.employment_type.map(|v| v.as_str()))
        .bind(j.remote_type.map(|v| v.as_str()))
        .bind(j.apply_method.map(|v| v.as_str()))
        .bind(&j.apply_email)
        .bind(&j.apply_url)
        .bind(Json(&j.skills))
        .bind(j.min_experience_years)
        .bind(j.status.as_str())
        .bind(j.posted_at)
        .bind(j.expires_at)
        .bind(j.closed_at)
        .bind(j.revision)
}

#[async_trait]
impl Tx for PostgresTx {
    async fn insert_tenant(&mut self, t: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (id, name, credits, require_key_approval, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.id)
            .bind(&t.name)
            .bind(t.credits)
            .bind(t.require_key_approval)
            .bind(t.created_at)
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn debit_credit(&mut self, tenant_id: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE tenants SET credits = credits - 1 WHERE id = $1 AND credits > 0")
                .bind(tenant_id)
                .execute(&mut *self.tx)
                .await
                .or_store()?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_key(&mut self, s: &StoredKey) -> StoreResult<()> {
        let k = &s.key;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, scopes, status, expires_at, allowed_ips, last_used_at, previous_secret_expires_at, \
             revoked_at, revision, created_at, updated_at, hash, previous_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&k.id)
        .bind(&s.tenant_id)
        .bind(&k.name)
        .bind(&k.prefix)
        .bind(Json(&k.scopes))
        .bind(k.status.as_str())
        .bind(k.expires_at)
        .bind(Json(&k.allowed_ips))
        .bind(k.last_used_at)
        .bind(k.previous_secret_expires_at)
        .bind(k.revoked_at)
        .bind(k.revision)
        .bind(k.created_at)
        .bind(k.updated_at)
        .bind(&s.hash)
        .bind(&s.previous_hash)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn lock_key(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&mut *self.tx)
            .await
            .or_store()?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn update_key(&mut self, s: &StoredKey) -> StoreResult<()> {
        let k = &s.key;
        sqlx::query(
            "UPDATE api_keys SET name = $2, prefix = $3, status = $4, expires_at = $5, previous_secret_expires_at = $6, revoked_at = $7, \
             revision = $8, updated_at = $9, hash = $10, previous_hash = $11 WHERE id = $1",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.prefix)
        .bind(k.status.as_str())
        .bind(k.expires_at)
        .bind(k.previous_secret_expires_at)
        .bind(k.revoked_at)
        .bind(k.revision)
        .bind(k.updated_at)
        .bind(&s.hash)
        .bind(&s.previous_hash)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn insert_job(&mut self, tenant_id: &str, j: &Job) -> StoreResult<()> {
        let q = sqlx::query(
            "INSERT INTO jobs (id, tenant_id, title, reference, description, city, country, employment_type, remote_type, apply_method, apply_email, \
             apply_url, skills, min_experience_years, status, posted_at, expires_at, closed_at, revision, created_at, updated_at, scoring_weights) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        )
        .bind(&j.id)
        .bind(tenant_id);
        bind_job_fields(q, j)
            .bind(j.created_at)
            .bind(j.updated_at)
            .bind(j.scoring_weights.as_ref().map(Json))
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn lock_job(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&mut *self.tx)
            .await
            .or_store()?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn update_job(
        &mut self,
        tenant_id: &str,
        j: &Job,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        let q = sqlx::query(
            "UPDATE jobs SET title = $3, reference = $4, description = $5, city = $6, country = $7, employment_type = $8, remote_type = $9, \
             apply_method = $10, apply_email = $11, apply_url = $12, skills = $13, min_experience_years = $14, status = $15, posted_at = $16, \
             expires_at = $17, closed_at = $18, revision = $19, updated_at = $20, scoring_weights = $22 WHERE id = $1 AND tenant_id = $2 AND revision = $21",
        )
        .bind(&j.id)
        .bind(tenant_id);
        let done = bind_job_fields(q, j)
            .bind(j.updated_at)
            .bind(previous_revision)
            .bind(j.scoring_weights.as_ref().map(Json))
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_due_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, Job)>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED")
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await
            .or_store()?;
        rows.iter()
            .map(|r| Ok((r.text("tenant_id")?, job_from_row(r)?)))
            .collect()
    }

    async fn insert_candidate(
        &mut self,
        tenant_id: &str,
        c: &Candidate,
        keys: &CandidateKeys,
    ) -> StoreResult<WriteOutcome> {
        candidates::insert(&mut self.tx, tenant_id, c, keys).await
    }

    async fn insert_candidates(
        &mut self,
        tenant_id: &str,
        rows: &[(Candidate, CandidateKeys)],
    ) -> StoreResult<WriteOutcome> {
        candidates::insert_many(&mut self.tx, tenant_id, rows).await
    }

    async fn taken_identities(
        &mut self,
        tenant_id: &str,
        email_keys: &[String],
        external_ids: &[ExternalId],
    ) -> StoreResult<(Vec<String>, Vec<ExternalId>)> {
        candidates::taken_identities(&mut self.tx, tenant_id, email_keys, external_ids).await
    }

    async fn append_events(&mut self, events: &[Event]) -> StoreResult<()> {
        // Many rows per statement: a bulk import writes an event per candidate.
        for part in events.chunks(500) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO events (id, tenant_id, event_type, reference_id, data, created_at, causation_id, trace_id, subscription_id) ",
            );
            qb.push_values(part, |mut row, e| {
                row.push_bind(e.id.clone())
                    .push_bind(e.tenant_id.clone())
                    .push_bind(e.event_type.clone())
                    .push_bind(e.reference_id.clone())
                    .push_bind(Json(e.data.clone()))
                    .push_bind(e.created_at)
                    .push_bind(e.causation_id.clone())
                    .push_bind(e.trace_id.clone())
                    .push_bind(e.subscription_id.clone());
            });
            qb.build().execute(&mut *self.tx).await.or_store()?;
        }
        Ok(())
    }

    async fn record_changes(&mut self, changes: &[AuditEvent]) -> StoreResult<()> {
        crate::audit::insert_many(&mut *self.tx, changes).await
    }

    async fn lock_candidate(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Candidate>> {
        let row =
            sqlx::query("SELECT * FROM candidates WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
                .bind(id)
                .bind(tenant_id)
                .fetch_optional(&mut *self.tx)
                .await
                .or_store()?;
        row.as_ref().map(candidate_from_row).transpose()
    }

    async fn update_candidate(
        &mut self,
        tenant_id: &str,
        c: &Candidate,
        keys: &CandidateKeys,
        previous_revision: i64,
    ) -> StoreResult<WriteOutcome> {
        candidates::update(&mut self.tx, tenant_id, c, keys, previous_revision).await
    }

    async fn find_candidate(
        &mut self,
        tenant_id: &str,
        email_key: Option<&str>,
        external_ids: &[ExternalId],
        except_id: Option<&str>,
    ) -> StoreResult<Option<String>> {
        candidates::find(&mut self.tx, tenant_id, email_key, external_ids, except_id).await
    }

    async fn erase_candidate(&mut self, tenant_id: &str, id: &str) -> StoreResult<()> {
        candidates::erase(&mut self.tx, tenant_id, id).await
    }

    async fn insert_application(
        &mut self,
        tenant_id: &str,
        a: &Application,
    ) -> StoreResult<WriteOutcome> {
        crate::applications::insert(&mut self.tx, tenant_id, a).await
    }

    async fn lock_application(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Application>> {
        crate::applications::lock(&mut self.tx, tenant_id, id).await
    }

    async fn update_application(
        &mut self,
        tenant_id: &str,
        a: &Application,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        crate::applications::update(&mut self.tx, tenant_id, a, previous_revision).await
    }

    async fn find_application(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<String>> {
        crate::applications::find(&mut self.tx, tenant_id, candidate_id, job_id).await
    }

    async fn set_application_evaluation(
        &mut self,
        tenant_id: &str,
        application_id: &str,
        summary: &EvaluationSummary,
    ) -> StoreResult<()> {
        evaluations::set_application_evaluation(&mut self.tx, tenant_id, application_id, summary)
            .await
    }

    async fn mark_applications_for_evaluation(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        reference_id: &str,
    ) -> StoreResult<u64> {
        evaluations::mark_applications_for_evaluation(
            &mut self.tx,
            tenant_id,
            candidate_id,
            reference_id,
        )
        .await
    }

    async fn insert_evaluation(&mut self, tenant_id: &str, e: &Evaluation) -> StoreResult<()> {
        evaluations::insert_evaluation(&mut self.tx, tenant_id, e).await
    }

    async fn lock_open_review(
        &mut self,
        tenant_id: &str,
        kind: ReviewKind,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<Review>> {
        evaluations::lock_open_review(&mut self.tx, tenant_id, kind, candidate_id, job_id).await
    }

    async fn lock_review(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Review>> {
        evaluations::lock_review(&mut self.tx, tenant_id, id).await
    }

    async fn insert_review(&mut self, tenant_id: &str, review: &Review) -> StoreResult<()> {
        evaluations::insert_review(&mut self.tx, tenant_id, review).await
    }

    async fn update_review(
        &mut self,
        tenant_id: &str,
        review: &Review,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        evaluations::update_review(&mut self.tx, tenant_id, review, previous_revision).await
    }

    async fn insert_document(
        &mut self,
        tenant_id: &str,
        d: &Document,
        content: &[u8],
    ) -> StoreResult<()> {
        candidates::insert_document(&mut self.tx, tenant_id, d, content).await
    }

    async fn lock_document(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Document>> {
        candidates::lock_document(&mut self.tx, tenant_id, id).await
    }

    async fn update_document(
        &mut self,
        tenant_id: &str,
        d: &Document,
        text: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        candidates::update_document(&mut self.tx, tenant_id, d, text).await
    }

    async fn reindex_candidate(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        keys: &CandidateKeys,
    ) -> StoreResult<()> {
        candidates::write_search(&mut self.tx, tenant_id, candidate_id, keys)
            .await
            .or_store()
    }

    async fn insert_operation(&mut self, o: &StoredOperation) -> StoreResult<()> {
        candidates::insert_operation(&mut self.tx, o).await
    }

    async fn claim_operations(
        &mut self,
        kind: OperationKind,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<StoredOperation>> {
        candidates::claim_operations(&mut self.tx, kind, now, lease_until, limit).await
    }

    async fn update_operation(&mut self, o: &StoredOperation) -> StoreResult<()> {
        candidates::update_operation(&mut self.tx, o).await
    }

    async fn insert_import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
        first_row: i64,
        data: &[u8],
    ) -> StoreResult<()> {
        candidates::insert_import_chunk(&mut self.tx, reference_id, seq, first_row, data).await
    }

    async fn import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
    ) -> StoreResult<Option<(i64, Vec<u8>)>> {
        candidates::import_chunk(&mut self.tx, reference_id, seq).await
    }

    async fn delete_import_chunks(&mut self, reference_id: &str) -> StoreResult<()> {
        candidates::delete_import_chunks(&mut self.tx, reference_id).await
    }

    async fn append_event(&mut self, e: &Event) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO events (id, tenant_id, event_type, reference_id, data, created_at, causation_id, trace_id, subscription_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
            .bind(&e.id)
            .bind(&e.tenant_id)
            .bind(&e.event_type)
            .bind(&e.reference_id)
            .bind(Json(&e.data))
            .bind(e.created_at)
            .bind(&e.causation_id)
            .bind(&e.trace_id)
            .bind(&e.subscription_id)
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn record_change(&mut self, change: &AuditEvent) -> StoreResult<()> {
        crate::audit::insert(&mut *self.tx, change).await
    }

    async fn insert_subscription(&mut self, s: &StoredSubscription) -> StoreResult<()> {
        let w = &s.subscription;
        sqlx::query(
            "INSERT INTO webhook_subscriptions (id, tenant_id, url, events, description, is_active, filter, include_pii, secret, previous_secret, \
             previous_secret_expires_at, consecutive_failures, failing_since, disabled_at, disabled_reason, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&w.id)
        .bind(&s.tenant_id)
        .bind(&w.url)
        .bind(Json(&w.events))
        .bind(&w.description)
        .bind(w.is_active)
        .bind(Json(&w.filter))
        .bind(w.include_pii)
        .bind(&s.secret)
        .bind(&s.previous_secret)
        .bind(w.previous_secret_expires_at)
        .bind(s.consecutive_failures)
        .bind(s.failing_since)
        .bind(w.disabled_at)
        .bind(&w.disabled_reason)
        .bind(w.revision)
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn lock_subscription(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>> {
        let row = sqlx::query(
            "SELECT * FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *self.tx)
        .await
        .or_store()?;
        row.as_ref().map(subscription_from_row).transpose()
    }

    async fn update_subscription(&mut self, s: &StoredSubscription) -> StoreResult<()> {
        let w = &s.subscription;
        sqlx::query(
            "UPDATE webhook_subscriptions SET url = $2, events = $3, description = $4, is_active = $5, filter = $6, include_pii = $7, \
             secret = $8, previous_secret = $9, previous_secret_expires_at = $10, consecutive_failures = $11, failing_since = $12, \
             disabled_at = $13, disabled_reason = $14, revision = $15, updated_at = $16 WHERE id = $1",
        )
        .bind(&w.id)
        .bind(&w.url)
        .bind(Json(&w.events))
        .bind(&w.description)
        .bind(w.is_active)
        .bind(Json(&w.filter))
        .bind(w.include_pii)
        .bind(&s.secret)
        .bind(&s.previous_secret)
        .bind(w.previous_secret_expires_at)
        .bind(s.consecutive_failures)
        .bind(s.failing_since)
        .bind(w.disabled_at)
        .bind(&w.disabled_reason)
        .bind(w.revision)
        .bind(w.updated_at)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn delete_subscription(&mut self, tenant_id: &str, id: &str) -> StoreResult<()> {
        // Deliveries and their attempts go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn lock_dispatch(&mut self) -> StoreResult<()> {
        // Held until commit or rollback. Every later statement of this READ COMMITTED
        // transaction takes a fresh snapshot, so it sees the positions the previous holder
        // committed.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
            .bind(DISPATCH_LOCK)
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn undispatched_events(&mut self, limit: i64) -> StoreResult<Vec<Event>> {
        let rows =
            sqlx::query("SELECT * FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1")
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await
                .or_store()?;
        rows.iter().map(event_from_row).collect()
    }

    async fn active_subscriptions(
        &mut self,
        tenant_ids: &[String],
    ) -> StoreResult<Vec<StoredSubscription>> {
        // FOR KEY SHARE keeps the subscriptions from being deleted until the deliveries made
        // for them are in (it is the lock their foreign keys take anyway), and skips one a
        // concurrent transaction deletes rather than failing the insert on its foreign key.
        // It does not conflict with updates of non-key columns.
        let rows = sqlx::query(
            "SELECT * FROM webhook_subscriptions WHERE is_active AND tenant_id = ANY($1) \
             ORDER BY created_at, id FOR KEY SHARE",
        )
        .bind(tenant_ids)
        .fetch_all(&mut *self.tx)
        .await
        .or_store()?;
        rows.iter().map(subscription_from_row).collect()
    }

    async fn mark_dispatched(
        &mut self,
        event_ids: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Positions continue from the highest one given out, in the order of `event_ids`; the
        // dispatch lock keeps anyone else from handing out positions meanwhile.
        sqlx::query(
            "UPDATE events AS e SET position = m.last + t.ord, dispatched_at = $2 \
             FROM (SELECT COALESCE(MAX(position), 0) AS last FROM events) AS m, \
             unnest($1::text[]) WITH ORDINALITY AS t(id, ord) WHERE e.id = t.id",
        )
        .bind(event_ids)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn insert_deliveries(&mut self, deliveries: &[StoredDelivery]) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        // One statement with a column per array, whatever the number of rows: no limit of
        // bound parameters to mind, and one prepared statement for every batch size.
        let d = deliveries.iter().map(|s| &s.delivery);
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempts, next_attempt_at, \
             last_attempt_at, last_status_code, last_error, created_at, updated_at) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], \
             $8::timestamptz[], $9::timestamptz[], $10::integer[], $11::text[], $12::timestamptz[], $13::timestamptz[])",
        )
        .bind(d.clone().map(|d| d.id.as_str()).collect::<Vec<_>>())
        .bind(deliveries.iter().map(|s| s.tenant_id.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.subscription_id.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.event_id.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.event_type.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.status.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.attempts).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.next_attempt_at).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_attempt_at).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_status_code.map(i32::from)).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_error.as_deref()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.created_at).collect::<Vec<_>>())
        .bind(d.map(|d| d.updated_at).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn due_subscriptions(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT s.tenant_id, s.id FROM webhook_subscriptions s WHERE s.is_active AND EXISTS (\
             SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status IN ('pending', 'failed') \
             AND d.next_attempt_at <= $1 AND (d.leased_until IS NULL OR d.leased_until < $1)) LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await
        .or_store()?;
        rows.iter()
            .map(|r| Ok((r.text("tenant_id")?, r.text("id")?)))
            .collect()
    }

    async fn lock_subscription_for_claim(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>> {
        // Claimers of one subscription exclude each other with an advisory lock, not the row
        // lock: the recorder holds the row while it writes a batch of outcomes, and a claimer
        // that skipped the subscription for that would leave its in-flight slots idle. A
        // subscription another claimer holds is left for the next round, not waited for.
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, hashtext($2))")
            .bind(CLAIM_LOCK)
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await
            .or_store()?;
        if !mine {
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM webhook_subscriptions WHERE id = $1 AND is_active")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .or_store()?;
        row.as_ref().map(subscription_from_row).transpose()
    }

    async fn count_leased_by_others(
        &mut self,
        subscription_id: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = $1 AND leased_until IS NOT NULL \
             AND leased_until >= $3 AND lease_owner <> $2",
        )
        .bind(subscription_id)
        .bind(owner)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await
        .or_store()
    }

    async fn lease_deliveries(
        &mut self,
        subscription_id: &str,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(StoredDelivery, Event)>> {
        let rows = sqlx::query(
            "UPDATE webhook_deliveries SET leased_until = $3, lease_owner = $4 WHERE id IN (\
             SELECT id FROM webhook_deliveries WHERE subscription_id = $1 AND status IN ('pending', 'failed') \
             AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until < $2) \
             ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind(subscription_id)
        .bind(now)
        .bind(lease_until)
        .bind(owner)
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await
        .or_store()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // RETURNING gives no order; ids sort byte-wise both here and in the "C" collation.
        let mut deliveries = rows
            .iter()
            .map(delivery_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        deliveries.sort_by(|a, b| {
            (a.delivery.next_attempt_at, &a.delivery.id)
                .cmp(&(b.delivery.next_attempt_at, &b.delivery.id))
        });
        let ids: Vec<&str> = deliveries
            .iter()
            .map(|d| d.delivery.event_id.as_str())
            .collect();
        let events = sqlx::query("SELECT * FROM events WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await
            .or_store()?;
        let mut by_id = std::collections::HashMap::with_capacity(events.len());
        for r in &events {
            let e = event_from_row(r)?;
            by_id.insert(e.id.clone(), e);
        }
        deliveries
            .into_iter()
            .map(|d| {
                let e = by_id.get(&d.delivery.event_id).cloned().ok_or_else(|| {
                    StoreError(format!(
                        "event {} of a delivery is missing",
                        d.delivery.event_id
                    ))
                })?;
                Ok((d, e))
            })
            .collect()
    }

    async fn insert_attempts(&mut self, attempts: &[Attempt]) -> StoreResult<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let a = attempts.iter();
        sqlx::query(
            "INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, \
             response_body, error, succeeded) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::bigint[], $6::integer[], \
             $7::jsonb[], $8::text[], $9::text[], $10::boolean[])",
        )
        .bind(a.clone().map(|a| a.id.as_str()).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.delivery_id.as_str()).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.attempt).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.started_at).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.duration_ms).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.status_code.map(i32::from)).collect::<Vec<_>>())
        .bind(a.clone().map(|a| Json(&a.response_headers)).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.response_body.as_deref()).collect::<Vec<_>>())
        .bind(a.clone().map(|a| a.error.as_deref()).collect::<Vec<_>>())
        .bind(a.map(|a| a.succeeded).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn update_deliveries(&mut self, deliveries: &[Delivery]) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        // One statement for the whole batch: the recorder writes hundreds of outcomes at once.
        let d = deliveries.iter();
        sqlx::query(
            "UPDATE webhook_deliveries AS w SET status = u.status, attempts = u.attempts, next_attempt_at = u.next_attempt_at, \
             leased_until = NULL, lease_owner = NULL, last_attempt_at = u.last_attempt_at, last_status_code = u.last_status_code, \
             last_error = u.last_error, updated_at = u.updated_at \
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::text[], \
             $8::timestamptz[]) AS u (id, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, updated_at) \
             WHERE w.id = u.id",
        )
        .bind(d.clone().map(|d| d.id.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.status.as_str()).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.attempts).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.next_attempt_at).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_attempt_at).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_status_code.map(i32::from)).collect::<Vec<_>>())
        .bind(d.clone().map(|d| d.last_error.as_deref()).collect::<Vec<_>>())
        .bind(d.map(|d| d.updated_at).collect::<Vec<_>>())
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(())
    }

    async fn lock_delivery(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredDelivery>> {
        let row = sqlx::query(
            "SELECT * FROM webhook_deliveries WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *self.tx)
        .await
        .or_store()?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    async fn recover_deliveries(
        &mut self,
        subscription_id: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = $3, updated_at = $3 \
             WHERE subscription_id = $1 AND status IN ('failed', 'dead') AND last_attempt_at >= $2",
        )
        .bind(subscription_id)
        .bind(since)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .or_store()?;
        Ok(done.rows_affected())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.or_store()
    }
}

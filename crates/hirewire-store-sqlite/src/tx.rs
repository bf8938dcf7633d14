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
use sqlx::{QueryBuilder, SqliteConnection};
use tokio::sync::OwnedMutexGuard;

use crate::candidates::{self, candidate_from_row};
use crate::evaluations;
use crate::events::event_from_row;
use crate::inline::{all, exec, one};
use crate::jobs::job_from_row;
use crate::keys::key_from_row;
use crate::rows::{OrStore, RowExt, ts, ts_opt};
use crate::webhooks::{delivery_from_row, subscription_from_row};
use crate::writer::{RELEASE, ROLLBACK_TO, Writer, WriterConn, await_commit};

/// A `BEGIN IMMEDIATE` transaction on the writer connection. SQLite admits one writer, so
/// every row read here stays as read until commit: no row locks are needed.
///
/// The hot statements (beginning, committing, the writes every change makes: its row, its
/// outbox event, its audit record; and the dispatcher's) run inline (see `inline`); the others
/// go through sqlx on the same connection, in the same transaction.
pub(crate) struct SqliteTx {
    writer: Writer,
    /// Present until commit, or until `Drop` hands it to the rollback.
    w: Option<OwnedMutexGuard<WriterConn>>,
}

impl SqliteTx {
    /// Takes the writer connection and begins (in the open group, if there is one).
    pub(crate) async fn begin(writer: &Writer) -> StoreResult<Self> {
        let mut w = writer.take_for_tx().await;
        if let Err(e) = w.begin().await {
            w.settle(writer.contended()).await;
            return Err(e);
        }
        Ok(SqliteTx {
            writer: writer.clone(),
            w: Some(w),
        })
    }

    fn writer(&mut self) -> StoreResult<&mut WriterConn> {
        self.w
            .as_deref_mut()
            .ok_or_else(|| StoreError("the transaction has ended".into()))
    }

    fn sqlx(&mut self) -> StoreResult<&mut SqliteConnection> {
        self.writer()?.sqlx()
    }

    async fn inline(&mut self) -> StoreResult<&rusqlite::Connection> {
        self.writer()?.inline().await
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Still here: the transaction was not committed.
        let Some(mut w) = self.w.take() else {
            return;
        };
        let contended = self.writer.contended();
        if let Some(db) = w.inline_now() {
            let _ = db.execute_batch(ROLLBACK_TO);
            if w.settle_now(contended) {
                return;
            }
        }
        // The handle is with sqlx's thread: finish on the runtime, holding the writer until
        // then so that no one else finds this transaction's savepoint open.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Ok(db) = w.inline().await {
                        let _ = db.execute_batch(ROLLBACK_TO);
                    }
                    w.settle(contended).await;
                });
            }
            Err(_) => w.abandon(),
        }
    }
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A job's columns in the order of `INSERT INTO jobs` below: `?1` id … `?22` scoring
/// weights. The update binds the same values and adds `?23`, the revision it replaces.
fn job_values(tenant_id: &str, j: &Job) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let text = |v: Option<String>| v.map_or(Value::Null, Value::Text);
    vec![
        Value::Text(j.id.clone()),
        Value::Text(tenant_id.to_string()),
        Value::Text(j.title.clone()),
        text(j.reference.clone()),
        text(j.description.clone()),
        text(j.city.clone()),
        text(j.country.clone()),
        text(j.employment_type.map(|v| v.as_str().to_string())),
        text(j.remote_type.map(|v| v.as_str().to_string())),
        text(j.apply_method.map(|v| v.as_str().to_string())),
        text(j.apply_email.clone()),
        text(j.apply_url.clone()),
        Value::Text(json(&j.skills)),
        j.min_experience_years.map_or(Value::Null, Value::Real),
        Value::Text(j.status.as_str().to_string()),
        text(ts_opt(&j.posted_at)),
        text(ts_opt(&j.expires_at)),
        text(ts_opt(&j.closed_at)),
        Value::Integer(j.revision),
        Value::Text(ts(&j.created_at)),
        Value::Text(ts(&j.updated_at)),
        text(j.scoring_weights.as_ref().map(json)),
    ]
}

#[async_trait]
impl Tx for SqliteTx {
    async fn insert_tenant(&mut self, t: &Tenant) -> StoreResult<()> {
        sqlx::query("INSERT INTO tenants (id, name, credits, require_key_approval, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.id)
            .bind(&t.name)
            .bind(t.credits)
            .bind(i64::from(t.require_key_approval))
            .bind(ts(&t.created_at))
            .execute(self.sqlx()?)
            .await
            .or_store()?;
        Ok(())
    }

    async fn debit_credit(&mut self, tenant_id: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE tenants SET credits = credits - 1 WHERE id = $1 AND credits > 0")
                .bind(tenant_id)
                .execute(self.sqlx()?)
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
        .bind(json(&k.scopes))
        .bind(k.status.as_str())
        .bind(ts_opt(&k.expires_at))
        .bind(json(&k.allowed_ips))
        .bind(ts_opt(&k.last_used_at))
        .bind(ts_opt(&k.previous_secret_expires_at))
        .bind(ts_opt(&k.revoked_at))
        .bind(k.revision)
        .bind(ts(&k.created_at))
        .bind(ts(&k.updated_at))
        .bind(&s.hash)
        .bind(&s.previous_hash)
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        Ok(())
    }

    async fn lock_key(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.sqlx()?)
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
        .bind(ts_opt(&k.expires_at))
        .bind(ts_opt(&k.previous_secret_expires_at))
        .bind(ts_opt(&k.revoked_at))
        .bind(k.revision)
        .bind(ts(&k.updated_at))
        .bind(&s.hash)
        .bind(&s.previous_hash)
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        Ok(())
    }

    async fn insert_job(&mut self, tenant_id: &str, j: &Job) -> StoreResult<()> {
        let db = self.inline().await?;
        exec(
            db,
            "INSERT INTO jobs (id, tenant_id, title, reference, description, city, country, employment_type, remote_type, apply_method, apply_email, \
             apply_url, skills, min_experience_years, status, posted_at, expires_at, closed_at, revision, created_at, updated_at, scoring_weights) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            rusqlite::params_from_iter(job_values(tenant_id, j)),
        )?;
        Ok(())
    }

    async fn lock_job(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>> {
        let db = self.inline().await?;
        one(
            db,
            "SELECT * FROM jobs WHERE id = ?1 AND tenant_id = ?2",
            (id, tenant_id),
            |r| job_from_row(r),
        )
    }

    async fn update_job(
        &mut self,
        tenant_id: &str,
        j: &Job,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        let mut values = job_values(tenant_id, j);
        values.push(rusqlite::types::Value::Integer(previous_revision));
        let db = self.inline().await?;
        let changed = exec(
            db,
            "UPDATE jobs SET title = ?3, reference = ?4, description = ?5, city = ?6, country = ?7, employment_type = ?8, remote_type = ?9, \
             apply_method = ?10, apply_email = ?11, apply_url = ?12, skills = ?13, min_experience_years = ?14, status = ?15, posted_at = ?16, \
             expires_at = ?17, closed_at = ?18, revision = ?19, updated_at = ?21, scoring_weights = ?22 \
             WHERE id = ?1 AND tenant_id = ?2 AND revision = ?23",
            rusqlite::params_from_iter(values),
        )?;
        Ok(changed == 1)
    }

    async fn claim_due_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, Job)>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2")
            .bind(ts(&now))
            .bind(limit)
            .fetch_all(self.sqlx()?)
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
        candidates::insert(self.sqlx()?, tenant_id, c, keys).await
    }

    async fn insert_candidates(
        &mut self,
        tenant_id: &str,
        rows: &[(Candidate, CandidateKeys)],
    ) -> StoreResult<WriteOutcome> {
        candidates::insert_many(self.sqlx()?, tenant_id, rows).await
    }

    async fn taken_identities(
        &mut self,
        tenant_id: &str,
        email_keys: &[String],
        external_ids: &[ExternalId],
    ) -> StoreResult<(Vec<String>, Vec<ExternalId>)> {
        candidates::taken_identities(self.sqlx()?, tenant_id, email_keys, external_ids).await
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
                    .push_bind(json(&e.data))
                    .push_bind(ts(&e.created_at))
                    .push_bind(e.causation_id.clone())
                    .push_bind(e.trace_id.clone())
                    .push_bind(e.subscription_id.clone());
            });
            qb.build().execute(self.sqlx()?).await.or_store()?;
        }
        Ok(())
    }

    async fn record_changes(&mut self, changes: &[AuditEvent]) -> StoreResult<()> {
        let db = self.inline().await?;
        changes.iter().try_for_each(|c| crate::audit::insert(db, c))
    }

    async fn lock_candidate(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Candidate>> {
        let row = sqlx::query("SELECT * FROM candidates WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.sqlx()?)
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
        candidates::update(self.sqlx()?, tenant_id, c, keys, previous_revision).await
    }

    async fn find_candidate(
        &mut self,
        tenant_id: &str,
        email_key: Option<&str>,
        external_ids: &[ExternalId],
        except_id: Option<&str>,
    ) -> StoreResult<Option<String>> {
        candidates::find(self.sqlx()?, tenant_id, email_key, external_ids, except_id).await
    }

    async fn erase_candidate(&mut self, tenant_id: &str, id: &str) -> StoreResult<()> {
        candidates::erase(self.sqlx()?, tenant_id, id).await
    }

    async fn insert_application(
        &mut self,
        tenant_id: &str,
        a: &Application,
    ) -> StoreResult<WriteOutcome> {
        crate::applications::insert(self.sqlx()?, tenant_id, a).await
    }

    async fn lock_application(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<Application>> {
        crate::applications::lock(self.sqlx()?, tenant_id, id).await
    }

    async fn update_application(
        &mut self,
        tenant_id: &str,
        a: &Application,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        crate::applications::update(self.sqlx()?, tenant_id, a, previous_revision).await
    }

    async fn find_application(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<String>> {
        crate::applications::find(self.sqlx()?, tenant_id, candidate_id, job_id).await
    }

    async fn set_application_evaluation(
        &mut self,
        tenant_id: &str,
        application_id: &str,
        summary: &EvaluationSummary,
    ) -> StoreResult<()> {
        evaluations::set_application_evaluation(self.sqlx()?, tenant_id, application_id, summary)
            .await
    }

    async fn mark_applications_for_evaluation(
        &mut self,
        tenant_id: &str,
        candidate_id: &str,
        reference_id: &str,
    ) -> StoreResult<u64> {
        evaluations::mark_applications_for_evaluation(
            self.sqlx()?,
            tenant_id,
            candidate_id,
            reference_id,
        )
        .await
    }

    async fn insert_evaluation(&mut self, tenant_id: &str, e: &Evaluation) -> StoreResult<()> {
        evaluations::insert_evaluation(self.sqlx()?, tenant_id, e).await
    }

    async fn lock_open_review(
        &mut self,
        tenant_id: &str,
        kind: ReviewKind,
        candidate_id: &str,
        job_id: &str,
    ) -> StoreResult<Option<Review>> {
        evaluations::lock_open_review(self.sqlx()?, tenant_id, kind, candidate_id, job_id).await
    }

    async fn lock_review(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Review>> {
        evaluations::lock_review(self.sqlx()?, tenant_id, id).await
    }

    async fn insert_review(&mut self, tenant_id: &str, review: &Review) -> StoreResult<()> {
        evaluations::insert_review(self.sqlx()?, tenant_id, review).await
    }

    async fn update_review(
        &mut self,
        tenant_id: &str,
        review: &Review,
        previous_revision: i64,
    ) -> StoreResult<bool> {
        evaluations::update_review(self.sqlx()?, tenant_id, review, previous_revision).await
    }

    async fn insert_document(
        &mut self,
        tenant_id: &str,
        d: &Document,
        content: &[u8],
    ) -> StoreResult<()> {
        candidates::insert_document(self.sqlx()?, tenant_id, d, content).await
    }

    async fn lock_document(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Document>> {
        candidates::lock_document(self.sqlx()?, tenant_id, id).await
    }

    async fn update_document(
        &mut self,
        tenant_id: &str,
        d: &Document,
        text: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        candidates::update_document(self.sqlx()?, tenant_id, d, text).await
    }

    async fn reindex_candidate(
        &mut self,
        _tenant_id: &str,
        candidate_id: &str,
        keys: &CandidateKeys,
    ) -> StoreResult<()> {
        candidates::write_search(self.sqlx()?, candidate_id, keys)
            .await
            .or_store()
    }

    async fn insert_operation(&mut self, o: &StoredOperation) -> StoreResult<()> {
        candidates::insert_operation(self.sqlx()?, o).await
    }

    async fn claim_operations(
        &mut self,
        kind: OperationKind,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<StoredOperation>> {
        candidates::claim_operations(self.sqlx()?, kind, now, lease_until, limit).await
    }

    async fn update_operation(&mut self, o: &StoredOperation) -> StoreResult<()> {
        candidates::update_operation(self.sqlx()?, o).await
    }

    async fn insert_import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
        first_row: i64,
        data: &[u8],
    ) -> StoreResult<()> {
        candidates::insert_import_chunk(self.sqlx()?, reference_id, seq, first_row, data).await
    }

    async fn import_chunk(
        &mut self,
        reference_id: &str,
        seq: i64,
    ) -> StoreResult<Option<(i64, Vec<u8>)>> {
        candidates::import_chunk(self.sqlx()?, reference_id, seq).await
    }

    async fn delete_import_chunks(&mut self, reference_id: &str) -> StoreResult<()> {
        candidates::delete_import_chunks(self.sqlx()?, reference_id).await
    }

    async fn append_event(&mut self, e: &Event) -> StoreResult<()> {
        let db = self.inline().await?;
        exec(
            db,
            "INSERT INTO events (id, tenant_id, event_type, reference_id, data, created_at, causation_id, trace_id, subscription_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                e.id,
                e.tenant_id,
                e.event_type,
                e.reference_id,
                json(&e.data),
                ts(&e.created_at),
                e.causation_id,
                e.trace_id,
                e.subscription_id,
            ],
        )?;
        Ok(())
    }

    async fn record_change(&mut self, change: &AuditEvent) -> StoreResult<()> {
        crate::audit::insert(self.inline().await?, change)
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
        .bind(json(&w.events))
        .bind(&w.description)
        .bind(i64::from(w.is_active))
        .bind(json(&w.filter))
        .bind(i64::from(w.include_pii))
        .bind(&s.secret)
        .bind(&s.previous_secret)
        .bind(ts_opt(&w.previous_secret_expires_at))
        .bind(s.consecutive_failures)
        .bind(ts_opt(&s.failing_since))
        .bind(ts_opt(&w.disabled_at))
        .bind(&w.disabled_reason)
        .bind(w.revision)
        .bind(ts(&w.created_at))
        .bind(ts(&w.updated_at))
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        Ok(())
    }

    async fn lock_subscription(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>> {
        let row =
            sqlx::query("SELECT * FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .fetch_optional(self.sqlx()?)
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
        .bind(json(&w.events))
        .bind(&w.description)
        .bind(i64::from(w.is_active))
        .bind(json(&w.filter))
        .bind(i64::from(w.include_pii))
        .bind(&s.secret)
        .bind(&s.previous_secret)
        .bind(ts_opt(&w.previous_secret_expires_at))
        .bind(s.consecutive_failures)
        .bind(ts_opt(&s.failing_since))
        .bind(ts_opt(&w.disabled_at))
        .bind(&w.disabled_reason)
        .bind(w.revision)
        .bind(ts(&w.updated_at))
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        Ok(())
    }

    async fn delete_subscription(&mut self, tenant_id: &str, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .execute(self.sqlx()?)
            .await
            .or_store()?;
        Ok(())
    }

    async fn lock_dispatch(&mut self) -> StoreResult<()> {
        // `BEGIN IMMEDIATE` already made this the only writer.
        Ok(())
    }

    async fn undispatched_events(&mut self, limit: i64) -> StoreResult<Vec<Event>> {
        let db = self.inline().await?;
        all(
            db,
            // Named: with statistics gathered while the table was small, the planner scans it.
            "SELECT * FROM events INDEXED BY events_undispatched WHERE dispatched_at IS NULL ORDER BY seq LIMIT ?1",
            [limit],
            |r| event_from_row(r),
        )
    }

    async fn active_subscriptions(
        &mut self,
        tenant_ids: &[String],
    ) -> StoreResult<Vec<StoredSubscription>> {
        if tenant_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; tenant_ids.len()].join(", ");
        let db = self.inline().await?;
        all(
            db,
            &format!(
                "SELECT * FROM webhook_subscriptions WHERE is_active = 1 AND tenant_id IN ({marks}) ORDER BY created_at, id"
            ),
            rusqlite::params_from_iter(tenant_ids),
            |r| subscription_from_row(r),
        )
    }

    async fn mark_dispatched(
        &mut self,
        event_ids: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let db = self.inline().await?;
        let last: i64 = one(
            db,
            "SELECT COALESCE(MAX(position), 0) AS last FROM events",
            [],
            |r| r.int("last"),
        )?
        .unwrap_or(0);
        let now = ts(&now);
        for (i, id) in event_ids.iter().enumerate() {
            exec(
                db,
                "UPDATE events SET position = ?2, dispatched_at = ?3 WHERE id = ?1",
                rusqlite::params![id, last + 1 + i as i64, now],
            )?;
        }
        Ok(())
    }

    async fn insert_deliveries(&mut self, deliveries: &[StoredDelivery]) -> StoreResult<()> {
        let db = self.inline().await?;
        for s in deliveries {
            let d = &s.delivery;
            exec(
                db,
                "INSERT INTO webhook_deliveries (id, tenant_id, subscription_id, event_id, event_type, status, attempts, next_attempt_at, \
                 leased_until, lease_owner, last_attempt_at, last_status_code, last_error, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9, ?10, ?11, ?12, ?13)",
                rusqlite::params![
                    d.id,
                    s.tenant_id,
                    d.subscription_id,
                    d.event_id,
                    d.event_type,
                    d.status.as_str(),
                    d.attempts,
                    ts_opt(&d.next_attempt_at),
                    ts_opt(&d.last_attempt_at),
                    d.last_status_code.map(i64::from),
                    d.last_error,
                    ts(&d.created_at),
                    ts(&d.updated_at),
                ],
            )?;
        }
        Ok(())
    }

    async fn due_subscriptions(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT s.tenant_id, s.id FROM webhook_subscriptions s WHERE s.is_active = 1 AND EXISTS (\
             SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.status IN ('pending', 'failed') \
             AND d.next_attempt_at <= $1 AND (d.leased_until IS NULL OR d.leased_until < $1)) LIMIT $2",
        )
        .bind(ts(&now))
        .bind(limit)
        .fetch_all(self.sqlx()?)
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
        let row =
            sqlx::query("SELECT * FROM webhook_subscriptions WHERE id = $1 AND is_active = 1")
                .bind(id)
                .fetch_optional(self.sqlx()?)
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
        .bind(ts(&now))
        .fetch_one(self.sqlx()?)
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
             AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until < $2) ORDER BY next_attempt_at, id LIMIT $5) \
             RETURNING *",
        )
        .bind(subscription_id)
        .bind(ts(&now))
        .bind(ts(&lease_until))
        .bind(owner)
        .bind(limit)
        .fetch_all(self.sqlx()?)
        .await
        .or_store()?;
        let mut deliveries = rows
            .iter()
            .map(delivery_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        deliveries.sort_by(|a, b| {
            (a.delivery.next_attempt_at, &a.delivery.id)
                .cmp(&(b.delivery.next_attempt_at, &b.delivery.id))
        });
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::new("SELECT * FROM events WHERE id IN (");
        let mut list = qb.separated(", ");
        for d in &deliveries {
            list.push_bind(d.delivery.event_id.clone());
        }
        qb.push(")");
        let events = qb.build().fetch_all(self.sqlx()?).await.or_store()?;
        let mut by_id = std::collections::HashMap::new();
        for r in &events {
            let e = event_from_row(r)?;
            by_id.insert(e.id.clone(), e);
        }
        deliveries
            .into_iter()
            .map(|d| {
                let e = by_id.get(&d.delivery.event_id).cloned().ok_or_else(|| {
                    hirewire_core::StoreError(format!(
                        "event {} of a delivery is missing",
                        d.delivery.event_id
                    ))
                })?;
                Ok((d, e))
            })
            .collect()
    }

    async fn insert_attempts(&mut self, attempts: &[Attempt]) -> StoreResult<()> {
        for chunk in attempts.chunks(500) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, response_headers, response_body, error, succeeded) ",
            );
            qb.push_values(chunk, |mut b, a| {
                b.push_bind(a.id.clone())
                    .push_bind(a.delivery_id.clone())
                    .push_bind(a.attempt)
                    .push_bind(ts(&a.started_at))
                    .push_bind(a.duration_ms)
                    .push_bind(a.status_code.map(i64::from))
                    .push_bind(json(&a.response_headers))
                    .push_bind(a.response_body.clone())
                    .push_bind(a.error.clone())
                    .push_bind(i64::from(a.succeeded));
            });
            qb.build().execute(self.sqlx()?).await.or_store()?;
        }
        Ok(())
    }

    async fn update_deliveries(&mut self, deliveries: &[Delivery]) -> StoreResult<()> {
        // One prepared statement, run per row: SQLite statements are in-process calls.
        for d in deliveries {
            sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, leased_until = NULL, lease_owner = NULL, \
             last_attempt_at = $5, last_status_code = $6, last_error = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(&d.id)
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(ts_opt(&d.next_attempt_at))
        .bind(ts_opt(&d.last_attempt_at))
        .bind(d.last_status_code.map(i64::from))
        .bind(&d.last_error)
        .bind(ts(&d.updated_at))
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        }
        Ok(())
    }

    async fn lock_delivery(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredDelivery>> {
        let row = sqlx::query("SELECT * FROM webhook_deliveries WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(self.sqlx()?)
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
        .bind(ts(&since))
        .bind(ts(&now))
        .execute(self.sqlx()?)
        .await
        .or_store()?;
        Ok(done.rows_affected())
    }

    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        let contended = self.writer.contended();
        // Released while the writer is still ours: should this fail, or the commit be
        // abandoned while waiting for the handle, `Drop` rolls the savepoint back.
        self.inline().await?.execute_batch(RELEASE).or_store()?;
        let mut w = self
            .w
            .take()
            .ok_or_else(|| StoreError("the transaction has ended".into()))?;
        let (group, outcome) = w.join()?;
        w.settle(contended).await;
        drop(w);
        await_commit(&self.writer, group, outcome).await
    }
}

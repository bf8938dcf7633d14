//! Write transactions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hirewire_core::event::Event;
use hirewire_core::model::{AuditEvent, Job, StoredKey, Tenant};
use hirewire_core::store::{StoreResult, Tx};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

use crate::jobs::job_from_row;
use crate::keys::key_from_row;
use crate::rows::{OrStore, RowExt};

/// A READ COMMITTED transaction on a pooled connection. Rows read in order to be changed are
/// locked with `SELECT … FOR UPDATE` until commit or rollback.
pub(crate) struct PostgresTx {
    pub(crate) tx: Transaction<'static, Postgres>,
}

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
             apply_url, skills, min_experience_years, status, posted_at, expires_at, closed_at, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(&j.id)
        .bind(tenant_id);
        bind_job_fields(q, j)
            .bind(j.created_at)
            .bind(j.updated_at)
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
             expires_at = $17, closed_at = $18, revision = $19, updated_at = $20 WHERE id = $1 AND tenant_id = $2 AND revision = $21",
        )
        .bind(&j.id)
        .bind(tenant_id);
        let done = bind_job_fields(q, j)
            .bind(j.updated_at)
            .bind(previous_revision)
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

    async fn append_event(&mut self, e: &Event) -> StoreResult<()> {
        sqlx::query("INSERT INTO events (id, tenant_id, event_type, reference_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&e.id)
            .bind(&e.tenant_id)
            .bind(&e.event_type)
            .bind(&e.reference_id)
            .bind(Json(&e.data))
            .bind(e.created_at)
            .execute(&mut *self.tx)
            .await
            .or_store()?;
        Ok(())
    }

    async fn record_change(&mut self, change: &AuditEvent) -> StoreResult<()> {
        crate::audit::insert(&mut *self.tx, change).await
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await.or_store()
    }
}

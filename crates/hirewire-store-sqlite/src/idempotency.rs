//! Idempotency keys.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use hirewire_core::store::{IdempotencyClaim, IdempotencyStore, StoreResult, StoredResponse};
use sqlx::Row;

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt, ts};

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> StoreResult<IdempotencyClaim> {
        let mut w = self.write.take().await;
        let mut tx = sqlx::Connection::begin_with(w.sqlx()?, "BEGIN IMMEDIATE")
            .await
            .or_store()?;
        let row =
            sqlx::query("SELECT * FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2")
                .bind(tenant_id)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .or_store()?;
        let claim = match row {
            Some(r) if r.time("created_at")? > now - Duration::seconds(ttl_secs) => {
                let status: Option<i64> = r.try_get("status_code").or_store()?;
                if r.text("fingerprint")? != fingerprint {
                    IdempotencyClaim::Mismatch
                } else if let Some(status) = status {
                    IdempotencyClaim::Replay(StoredResponse {
                        status: status as u16,
                        body: r.try_get("body").or_store()?,
                    })
                } else {
                    IdempotencyClaim::InProgress
                }
            }
            _ => {
                sqlx::query(
                    "INSERT INTO idempotency_keys (tenant_id, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, status_code = NULL, body = NULL",
                )
                .bind(tenant_id)
                .bind(key)
                .bind(fingerprint)
                .bind(ts(&now))
                .execute(&mut *tx)
                .await
                .or_store()?;
                IdempotencyClaim::Claimed
            }
        };
        tx.commit().await.or_store()?;
        Ok(claim)
    }

    async fn complete_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE idempotency_keys SET status_code = $3, body = $4 WHERE tenant_id = $1 AND idem_key = $2")
            .bind(tenant_id)
            .bind(key)
            .bind(i64::from(response.status))
            .bind(&response.body)
            .execute(self.write.take().await.sqlx()?)
            .await
            .or_store()?;
        Ok(())
    }

    async fn release_idempotency_key(&self, tenant_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idem_key = $2 AND status_code IS NULL").bind(tenant_id).bind(key).execute(self.write.take().await.sqlx()?).await.or_store()?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(ts(&before))
            .execute(self.write.take().await.sqlx()?)
            .await
            .or_store()?;
        Ok(done.rows_affected())
    }
}

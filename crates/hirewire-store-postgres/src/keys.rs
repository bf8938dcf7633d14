//! API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hirewire_core::model::{ApiKey, KeyQuery, KeyStatus, StoredKey};
use hirewire_core::page::{Cursor, Page, SortValue};
use hirewire_core::store::{KeyStore, StoreResult};
use sqlx::QueryBuilder;
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) fn key_from_row(r: &PgRow) -> StoreResult<StoredKey> {
    Ok(StoredKey {
        tenant_id: r.text("tenant_id")?,
        hash: r.text("hash")?,
        previous_hash: r.text_opt("previous_hash")?,
        key: ApiKey {
            id: r.text("id")?,
            name: r.text("name")?,
            prefix: r.text("prefix")?,
            scopes: r.json("scopes")?,
            status: r.parsed("status", KeyStatus::parse)?,
            expires_at: r.time_opt("expires_at")?,
            allowed_ips: r.json("allowed_ips")?,
            last_used_at: r.time_opt("last_used_at")?,
            previous_secret_expires_at: r.time_opt("previous_secret_expires_at")?,
            revoked_at: r.time_opt("revoked_at")?,
            revision: r.int("revision")?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        },
    })
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn key_by_hash(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StoredKey>> {
        let query = sqlx::query("SELECT * FROM api_keys WHERE hash = $1 OR (previous_hash = $1 AND previous_secret_expires_at > $2) LIMIT 1")
            .bind(hash)
            .bind(now);
        let row = self.direct.fetch_optional(query).await?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn key(&self, tenant_id: Option<&str>, id: &str) -> StoreResult<Option<StoredKey>> {
        let row = sqlx::query(
            "SELECT * FROM api_keys WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2)",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await
        .or_store()?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_keys(&self, tenant_id: &str, query: &KeyQuery) -> StoreResult<Page<StoredKey>> {
        let mut qb = QueryBuilder::new("SELECT * FROM api_keys WHERE tenant_id = ");
        qb.push_bind(tenant_id.to_string());
        push_keyset(
            &mut qb,
            "created_at",
            true,
            query.page.after.as_ref(),
            query.page.limit,
        );
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
        let keys = rows
            .iter()
            .map(key_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if query.page.include_total {
            Some(
                sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1")
                    .bind(tenant_id)
                    .fetch_one(&self.pool)
                    .await
                    .or_store()?,
            )
        } else {
            None
        };
        Ok(Page::from_rows(keys, query.page.limit, total, |k| Cursor {
            sort: "-created_at".into(),
            value: SortValue::Time(k.key.created_at),
            id: k.key.id.clone(),
        }))
    }

    async fn touch_keys(&self, uses: &[(String, DateTime<Utc>)]) -> StoreResult<()> {
        // Rows are updated in id order, so that two concurrent batches lock them in the same
        // order and cannot deadlock.
        let mut ordered: Vec<&(String, DateTime<Utc>)> = uses.iter().collect();
        ordered.sort_by(|a, b| a.0.cmp(&b.0));
        let mut tx = self.pool.begin().await.or_store()?;
        for (id, at) in ordered {
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)")
                .bind(id)
                .bind(*at)
                .execute(&mut *tx)
                .await
                .or_store()?;
        }
        tx.commit().await.or_store()
    }
}

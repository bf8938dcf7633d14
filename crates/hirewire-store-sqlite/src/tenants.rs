//! Tenants.

use async_trait::async_trait;
use hirewire_core::model::Tenant;
use hirewire_core::store::{StoreResult, TenantStore};
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt};

pub(crate) fn tenant_from_row(r: &SqliteRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: r.text("id")?,
        name: r.text("name")?,
        credits: r.int("credits")?,
        require_key_approval: r.int("require_key_approval")? != 0,
        created_at: r.time("created_at")?,
    })
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn tenant(&self, id: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let row = sqlx::query("SELECT * FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn count_tenants(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&self.read)
            .await
            .or_store()
    }
}

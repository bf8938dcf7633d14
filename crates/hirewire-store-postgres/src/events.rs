//! The outbox.

use async_trait::async_trait;
use hirewire_core::event::Event;
use hirewire_core::store::{EventStore, StoreResult};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt};

fn event_from_row(r: &PgRow) -> StoreResult<(i64, Event)> {
    let event = Event {
        id: r.text("id")?,
        event_type: r.text("event_type")?,
        created_at: r.time("created_at")?,
        tenant_id: r.text("tenant_id")?,
        reference_id: r.text_opt("reference_id")?,
        data: r.json("data")?,
    };
    Ok((r.int("seq")?, event))
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn list_events(
        &self,
        tenant_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .or_store()?;
        rows.iter().map(event_from_row).collect()
    }

    async fn outbox_depth(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE dispatched_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .or_store()
    }
}

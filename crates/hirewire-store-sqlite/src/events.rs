//! The outbox.

use async_trait::async_trait;
use hirewire_core::event::Event;
use hirewire_core::store::{EventStore, StoreResult};

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt};

pub(crate) fn event_from_row(r: &impl RowExt) -> StoreResult<Event> {
    let event = Event {
        id: r.text("id")?,
        event_type: r.text("event_type")?,
        created_at: r.time("created_at")?,
        tenant_id: r.text("tenant_id")?,
        reference_id: r.text_opt("reference_id")?,
        data: r.json("data")?,
        causation_id: r.text_opt("causation_id")?,
        trace_id: r.text_opt("trace_id")?,
        subscription_id: r.text_opt("subscription_id")?,
    };
    Ok(event)
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn list_events(
        &self,
        tenant_id: &str,
        after_position: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>> {
        let rows = sqlx::query(
            "SELECT * FROM events WHERE tenant_id = $1 AND position > $2 AND subscription_id IS NULL ORDER BY position LIMIT $3",
        )
        .bind(tenant_id)
        .bind(after_position)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .or_store()?;
        rows.iter()
            .map(|r| Ok((r.int("position")?, event_from_row(r)?)))
            .collect()
    }

    async fn outbox_depth(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE dispatched_at IS NULL")
            .fetch_one(&self.read)
            .await
            .or_store()
    }
}

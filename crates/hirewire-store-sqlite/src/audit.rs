//! The audit trail.

use async_trait::async_trait;
use hirewire_core::StoreError;
use hirewire_core::model::{AuditEvent, AuditKind, AuditQuery};
use hirewire_core::page::{Cursor, Page, SortValue};
use hirewire_core::store::{AuditStore, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt, push_keyset, ts};

/// Writes one audit record, inline (see `inline`).
pub(crate) fn insert(db: &rusqlite::Connection, e: &AuditEvent) -> StoreResult<()> {
    crate::inline::exec(
        db,
        "INSERT INTO audit_events (id, tenant_id, kind, action, occurred_at, actor_key_id, attributed_user_id, client_id, request_id, trace_id, \
         method, route, path, status, ip, user_agent, duration_ms, entity_type, entity_id, revision_before, revision_after) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        rusqlite::params![
            e.id,
            e.tenant_id,
            e.kind.as_str(),
            e.action,
            ts(&e.occurred_at),
            e.actor_key_id,
            e.attributed_user_id,
            e.client_id,
            e.request_id,
            e.trace_id,
            e.method,
            e.route,
            e.path,
            e.status,
            e.ip,
            e.user_agent,
            e.duration_ms,
            e.entity_type,
            e.entity_id,
            e.revision_before,
            e.revision_after,
        ],
    )?;
    Ok(())
}

/// Writes `events` in one transaction with one prepared statement; nothing is written if
/// any fails.
fn insert_batch(db: &rusqlite::Connection, events: &[AuditEvent]) -> StoreResult<()> {
    db.execute_batch("BEGIN IMMEDIATE").or_store()?;
    events
        .iter()
        .try_for_each(|e| insert(db, e))
        .and_then(|()| db.execute_batch("COMMIT").or_store())
        .inspect_err(|_| crate::inline::rollback(db))
}

fn audit_from_row(r: &SqliteRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: r.text("id")?,
        kind: r.parsed("kind", AuditKind::parse)?,
        action: r.text("action")?,
        occurred_at: r.time("occurred_at")?,
        tenant_id: r.text("tenant_id")?,
        actor_key_id: r.text_opt("actor_key_id")?,
        attributed_user_id: r.text_opt("attributed_user_id")?,
        client_id: r.text_opt("client_id")?,
        request_id: r.text_opt("request_id")?,
        trace_id: r.text_opt("trace_id")?,
        method: r.text_opt("method")?,
        route: r.text_opt("route")?,
        path: r.text_opt("path")?,
        status: r.try_get("status").or_store()?,
        ip: r.text_opt("ip")?,
        user_agent: r.text_opt("user_agent")?,
        duration_ms: r.try_get("duration_ms").or_store()?,
        entity_type: r.text_opt("entity_type")?,
        entity_id: r.text_opt("entity_id")?,
        revision_before: r.try_get("revision_before").or_store()?,
        revision_after: r.try_get("revision_after").or_store()?,
    })
}

fn push_filters(qb: &mut QueryBuilder<Sqlite>, tenant_id: &str, q: &AuditQuery) {
    qb.push(" WHERE tenant_id = ")
        .push_bind(tenant_id.to_string());
    if let Some(k) = q.kind {
        qb.push(" AND kind = ").push_bind(k.as_str());
    }
    if let Some(a) = &q.actor_key_id {
        qb.push(" AND actor_key_id = ").push_bind(a.clone());
    }
    if let Some(e) = &q.entity {
        let col = if e.contains('_') {
            "entity_id"
        } else {
            "entity_type"
        };
        qb.push(format!(" AND {col} = ")).push_bind(e.clone());
    }
    if let Some(a) = &q.action {
        qb.push(" AND action = ").push_bind(a.clone());
    }
    if let Some(t) = &q.since {
        qb.push(" AND occurred_at >= ").push_bind(ts(t));
    }
    if let Some(t) = &q.until {
        qb.push(" AND occurred_at < ").push_bind(ts(t));
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn insert_audit_events(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut w = self.write.take().await;
        w.inline().await?;
        // Up to a thousand rows in one transaction, sometimes ending in a WAL checkpoint:
        // milliseconds that would stall one of the runtime's few worker threads, so they run
        // on a blocking thread, which holds the writer until done even if the caller goes.
        tokio::task::spawn_blocking(move || {
            let db = w
                .inline_now()
                .ok_or_else(|| StoreError("the writer connection is not at hand".into()))?;
            insert_batch(db, &events)
        })
        .await
        .map_err(|e| StoreError(format!("the audit batch did not finish: {e}")))?
    }

    async fn list_audit_events(
        &self,
        tenant_id: &str,
        q: &AuditQuery,
    ) -> StoreResult<Page<AuditEvent>> {
        let mut qb = QueryBuilder::new("SELECT * FROM audit_events");
        push_filters(&mut qb, tenant_id, q);
        push_keyset(
            &mut qb,
            "occurred_at",
            true,
            q.page.after.as_ref(),
            q.page.limit,
        );
        let rows = qb.build().fetch_all(&self.read).await.or_store()?;
        let items = rows
            .iter()
            .map(audit_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if q.page.include_total {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM audit_events");
            push_filters(&mut count, tenant_id, q);
            Some(
                count
                    .build_query_scalar()
                    .fetch_one(&self.read)
                    .await
                    .or_store()?,
            )
        } else {
            None
        };
        Ok(Page::from_rows(items, q.page.limit, total, |e| Cursor {
            sort: "-occurred_at".into(),
            value: SortValue::Time(e.occurred_at),
            id: e.id.clone(),
        }))
    }
}

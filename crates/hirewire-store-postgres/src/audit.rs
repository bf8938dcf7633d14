//! The audit trail.

use async_trait::async_trait;
use hirewire_core::model::{AuditEvent, AuditKind, AuditQuery};
use hirewire_core::page::{Cursor, Page, SortValue};
use hirewire_core::store::{AuditStore, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{Executor, Postgres, QueryBuilder, Row};

use crate::PostgresStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) async fn insert<'e, E: Executor<'e, Database = Postgres>>(
    exec: E,
    e: &AuditEvent,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, kind, action, occurred_at, actor_key_id, attributed_user_id, client_id, request_id, trace_id, \
         method, route, path, status, ip, user_agent, duration_ms, entity_type, entity_id, revision_before, revision_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(&e.id)
    .bind(&e.tenant_id)
    .bind(e.kind.as_str())
    .bind(&e.action)
    .bind(e.occurred_at)
    .bind(&e.actor_key_id)
    .bind(&e.attributed_user_id)
    .bind(&e.client_id)
    .bind(&e.request_id)
    .bind(&e.trace_id)
    .bind(&e.method)
    .bind(&e.route)
    .bind(&e.path)
    .bind(e.status.map(i64::from))
    .bind(&e.ip)
    .bind(&e.user_agent)
    .bind(e.duration_ms)
    .bind(&e.entity_type)
    .bind(&e.entity_id)
    .bind(e.revision_before)
    .bind(e.revision_after)
    .execute(exec)
    .await
    .or_store()?;
    Ok(())
}

/// Writes audit records in one statement: a column array per field, so the statement text
/// (and its prepared plan) is the same whatever the number of rows.
pub(crate) async fn insert_many<'e, E: Executor<'e, Database = Postgres>>(
    exec: E,
    events: &[AuditEvent],
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    fn col<'a, T>(events: &'a [AuditEvent], f: impl Fn(&'a AuditEvent) -> T) -> Vec<T> {
        events.iter().map(f).collect()
    }
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, kind, action, occurred_at, actor_key_id, attributed_user_id, client_id, request_id, trace_id, \
         method, route, path, status, ip, user_agent, duration_ms, entity_type, entity_id, revision_before, revision_after) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], \
         $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::float8[], \
         $18::text[], $19::text[], $20::bigint[], $21::bigint[])",
    )
    .bind(col(events, |e| e.id.as_str()))
    .bind(col(events, |e| e.tenant_id.as_str()))
    .bind(col(events, |e| e.kind.as_str()))
    .bind(col(events, |e| e.action.as_str()))
    .bind(col(events, |e| e.occurred_at))
    .bind(col(events, |e| e.actor_key_id.as_deref()))
    .bind(col(events, |e| e.attributed_user_id.as_deref()))
    .bind(col(events, |e| e.client_id.as_deref()))
    .bind(col(events, |e| e.request_id.as_deref()))
    .bind(col(events, |e| e.trace_id.as_deref()))
    .bind(col(events, |e| e.method.as_deref()))
    .bind(col(events, |e| e.route.as_deref()))
    .bind(col(events, |e| e.path.as_deref()))
    .bind(col(events, |e| e.status.map(i64::from)))
    .bind(col(events, |e| e.ip.as_deref()))
    .bind(col(events, |e| e.user_agent.as_deref()))
    .bind(col(events, |e| e.duration_ms))
    .bind(col(events, |e| e.entity_type.as_deref()))
    .bind(col(events, |e| e.entity_id.as_deref()))
    .bind(col(events, |e| e.revision_before))
    .bind(col(events, |e| e.revision_after))
    .execute(exec)
    .await
    .or_store()?;
    Ok(())
}

fn audit_from_row(r: &PgRow) -> StoreResult<AuditEvent> {
    let status: Option<i64> = r.try_get("status").or_store()?;
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
        status: status.map(i32::try_from).transpose().or_store()?,
        ip: r.text_opt("ip")?,
        user_agent: r.text_opt("user_agent")?,
        duration_ms: r.try_get("duration_ms").or_store()?,
        entity_type: r.text_opt("entity_type")?,
        entity_id: r.text_opt("entity_id")?,
        revision_before: r.try_get("revision_before").or_store()?,
        revision_after: r.try_get("revision_after").or_store()?,
    })
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, tenant_id: &str, q: &AuditQuery) {
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
        qb.push(" AND occurred_at >= ").push_bind(*t);
    }
    if let Some(t) = &q.until {
        qb.push(" AND occurred_at < ").push_bind(*t);
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn insert_audit_events(&self, events: Vec<AuditEvent>) -> StoreResult<()> {
        // Call records arrive by the thousand under load; one statement is atomic on its own.
        insert_many(&self.pool, &events).await
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
        let rows = qb.build().fetch_all(&self.pool).await.or_store()?;
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
                    .fetch_one(&self.pool)
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

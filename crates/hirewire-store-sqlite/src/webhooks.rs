//! Webhook subscriptions, deliveries and attempts.

use async_trait::async_trait;
use hirewire_core::model::{
    Attempt, Delivery, DeliveryQuery, DeliveryStatus, StoredDelivery, StoredSubscription,
    Subscription, SubscriptionQuery,
};
use hirewire_core::page::{Cursor, Page, SortValue};
use hirewire_core::store::{StoreResult, WebhookStore};
use sqlx::QueryBuilder;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::rows::{OrStore, RowExt, push_keyset};

pub(crate) fn subscription_from_row(r: &impl RowExt) -> StoreResult<StoredSubscription> {
    Ok(StoredSubscription {
        tenant_id: r.text("tenant_id")?,
        secret: r.text("secret")?,
        previous_secret: r.text_opt("previous_secret")?,
        consecutive_failures: r.int("consecutive_failures")?,
        failing_since: r.time_opt("failing_since")?,
        subscription: Subscription {
            id: r.text("id")?,
            url: r.text("url")?,
            events: r.json("events")?,
            description: r.text_opt("description")?,
            is_active: r.int("is_active")? != 0,
            filter: r.json("filter")?,
            include_pii: r.int("include_pii")? != 0,
            disabled_reason: r.text_opt("disabled_reason")?,
            disabled_at: r.time_opt("disabled_at")?,
            previous_secret_expires_at: r.time_opt("previous_secret_expires_at")?,
            revision: r.int("revision")?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        },
    })
}

pub(crate) fn delivery_from_row(r: &SqliteRow) -> StoreResult<StoredDelivery> {
    let status: Option<i64> = sqlx::Row::try_get(r, "last_status_code").or_store()?;
    Ok(StoredDelivery {
        tenant_id: r.text("tenant_id")?,
        delivery: Delivery {
            id: r.text("id")?,
            subscription_id: r.text("subscription_id")?,
            event_id: r.text("event_id")?,
            event_type: r.text("event_type")?,
            status: r.parsed("status", DeliveryStatus::parse)?,
            attempts: r.int("attempts")?,
            next_attempt_at: r.time_opt("next_attempt_at")?,
            last_attempt_at: r.time_opt("last_attempt_at")?,
            last_status_code: status.and_then(|s| u16::try_from(s).ok()),
            last_error: r.text_opt("last_error")?,
            created_at: r.time("created_at")?,
            updated_at: r.time("updated_at")?,
        },
    })
}

fn attempt_from_row(r: &SqliteRow) -> StoreResult<Attempt> {
    let status: Option<i64> = sqlx::Row::try_get(r, "status_code").or_store()?;
    Ok(Attempt {
        id: r.text("id")?,
        delivery_id: r.text("delivery_id")?,
        attempt: r.int("attempt")?,
        started_at: r.time("started_at")?,
        duration_ms: r.int("duration_ms")?,
        status_code: status.and_then(|s| u16::try_from(s).ok()),
        response_headers: r.json("response_headers")?,
        response_body: r.text_opt("response_body")?,
        error: r.text_opt("error")?,
        succeeded: r.int("succeeded")? != 0,
    })
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn subscription(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>> {
        let row =
            sqlx::query("SELECT * FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(tenant_id)
                .fetch_optional(&self.read)
                .await
                .or_store()?;
        row.as_ref().map(subscription_from_row).transpose()
    }

    async fn list_subscriptions(
        &self,
        tenant_id: &str,
        query: &SubscriptionQuery,
    ) -> StoreResult<Page<StoredSubscription>> {
        let mut qb = QueryBuilder::new("SELECT * FROM webhook_subscriptions WHERE tenant_id = ");
        qb.push_bind(tenant_id.to_string());
        push_keyset(
            &mut qb,
            "created_at",
            true,
            query.page.after.as_ref(),
            query.page.limit,
        );
        let rows = qb.build().fetch_all(&self.read).await.or_store()?;
        let subs = rows
            .iter()
            .map(subscription_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if query.page.include_total {
            Some(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_subscriptions WHERE tenant_id = $1",
                )
                .bind(tenant_id)
                .fetch_one(&self.read)
                .await
                .or_store()?,
            )
        } else {
            None
        };
        Ok(Page::from_rows(subs, query.page.limit, total, |s| Cursor {
            sort: "-created_at".into(),
            value: SortValue::Time(s.subscription.created_at),
            id: s.subscription.id.clone(),
        }))
    }

    async fn delivery(&self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredDelivery>> {
        let row = sqlx::query("SELECT * FROM webhook_deliveries WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.read)
            .await
            .or_store()?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    async fn list_deliveries(
        &self,
        tenant_id: &str,
        subscription_id: &str,
        query: &DeliveryQuery,
    ) -> StoreResult<Page<Delivery>> {
        let mut qb = QueryBuilder::new("SELECT * FROM webhook_deliveries WHERE tenant_id = ");
        qb.push_bind(tenant_id.to_string());
        qb.push(" AND subscription_id = ")
            .push_bind(subscription_id.to_string());
        if let Some(status) = query.status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        push_keyset(
            &mut qb,
            "created_at",
            true,
            query.page.after.as_ref(),
            query.page.limit,
        );
        let rows = qb.build().fetch_all(&self.read).await.or_store()?;
        let items = rows
            .iter()
            .map(|r| delivery_from_row(r).map(|d| d.delivery))
            .collect::<StoreResult<Vec<_>>>()?;
        let total = if query.page.include_total {
            Some(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = $1 AND subscription_id = $2 AND ($3 IS NULL OR status = $3)",
                )
                .bind(tenant_id)
                .bind(subscription_id)
                .bind(query.status.map(DeliveryStatus::as_str))
                .fetch_one(&self.read)
                .await
                .or_store()?,
            )
        } else {
            None
        };
        Ok(Page::from_rows(items, query.page.limit, total, |d| {
            Cursor {
                sort: "-created_at".into(),
                value: SortValue::Time(d.created_at),
                id: d.id.clone(),
            }
        }))
    }

    async fn attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
        let rows = sqlx::query("SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt, started_at, id")
            .bind(delivery_id)
            .fetch_all(&self.read)
            .await
            .or_store()?;
        rows.iter().map(attempt_from_row).collect()
    }
}

//! The persistence contract. Each backend (SQLite, PostgreSQL) implements every trait here and
//! passes the same tests. Reads go straight to the store; writes go through a [`Tx`] so that
//! a change, its outbox event and its audit record commit together or not at all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::event::Event;
use crate::model::{
    Attempt, AuditEvent, AuditQuery, Delivery, DeliveryQuery, Job, JobQuery, KeyQuery,
    StoredDelivery, StoredKey, StoredSubscription, SubscriptionQuery, Tenant,
};
use crate::page::Page;

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A unit of work: one database transaction. Dropping it without [`Tx::commit`] rolls back.
#[async_trait]
pub trait Tx: Send {
    /// Inserts a tenant.
    async fn insert_tenant(&mut self, tenant: &Tenant) -> StoreResult<()>;
    /// Spends one credit of the tenant; `false` (and nothing spent) when none is left.
    async fn debit_credit(&mut self, tenant_id: &str) -> StoreResult<bool>;

    /// Inserts a key.
    async fn insert_key(&mut self, key: &StoredKey) -> StoreResult<()>;
    /// Reads a key of the tenant and locks it until the transaction ends.
    async fn lock_key(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredKey>>;
    /// Writes back a key read with [`Tx::lock_key`].
    async fn update_key(&mut self, key: &StoredKey) -> StoreResult<()>;

    /// Inserts a job.
    async fn insert_job(&mut self, tenant_id: &str, job: &Job) -> StoreResult<()>;
    /// Reads a job of the tenant and locks it until the transaction ends.
    async fn lock_job(&mut self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>>;
    /// Writes back a job whose stored revision is `previous_revision`; `false` if it was not.
    async fn update_job(
        &mut self,
        tenant_id: &str,
        job: &Job,
        previous_revision: i64,
    ) -> StoreResult<bool>;
    /// Claims up to `limit` active jobs past their expiry, of any tenant, locking them so that
    /// concurrent claimers in other processes skip them. Returns (tenant id, job) pairs.
    async fn claim_due_jobs(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, Job)>>;

    /// Appends an event to the outbox.
    async fn append_event(&mut self, event: &Event) -> StoreResult<()>;
    /// Records a change in the audit trail.
    async fn record_change(&mut self, change: &AuditEvent) -> StoreResult<()>;

    /// Inserts a webhook subscription.
    async fn insert_subscription(&mut self, sub: &StoredSubscription) -> StoreResult<()>;
    /// Reads a subscription of the tenant and locks it until the transaction ends.
    async fn lock_subscription(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// Writes back a subscription read with [`Tx::lock_subscription`].
    async fn update_subscription(&mut self, sub: &StoredSubscription) -> StoreResult<()>;
    /// Deletes a subscription with its deliveries and their attempts.
    async fn delete_subscription(&mut self, tenant_id: &str, id: &str) -> StoreResult<()>;

    /// Takes the dispatcher's lock until the transaction ends, so that one dispatcher at a
    /// time hands out feed positions and they follow commit order.
    async fn lock_dispatch(&mut self) -> StoreResult<()>;
    /// The oldest events not yet dispatched.
    async fn undispatched_events(&mut self, limit: i64) -> StoreResult<Vec<Event>>;
    /// The active subscriptions of these tenants.
    async fn active_subscriptions(
        &mut self,
        tenant_ids: &[String],
    ) -> StoreResult<Vec<StoredSubscription>>;
    /// Marks events dispatched and gives them the next feed positions, in the order given.
    async fn mark_dispatched(
        &mut self,
        event_ids: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Inserts deliveries.
    async fn insert_deliveries(&mut self, deliveries: &[StoredDelivery]) -> StoreResult<()>;

    /// Active subscriptions with deliveries due at `now` that nobody holds, as
    /// (tenant id, subscription id).
    async fn due_subscriptions(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Locks a subscription for claiming its deliveries; `None` when another claimer holds it
    /// (or it is gone).
    async fn lock_subscription_for_claim(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// How many of the subscription's deliveries other claimers hold at `now`.
    async fn count_leased_by_others(
        &mut self,
        subscription_id: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Leases up to `limit` due deliveries of the subscription to `owner` until `lease_until`,
    /// earliest due first, and returns them with their events.
    async fn lease_deliveries(
        &mut self,
        subscription_id: &str,
        now: DateTime<Utc>,
        owner: &str,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<(StoredDelivery, Event)>>;
    /// Records attempts.
    async fn insert_attempts(&mut self, attempts: &[Attempt]) -> StoreResult<()>;
    /// Writes deliveries' new states and releases their leases.
    async fn update_deliveries(&mut self, deliveries: &[Delivery]) -> StoreResult<()>;
    /// Reads a delivery of the tenant and locks it until the transaction ends.
    async fn lock_delivery(
        &mut self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredDelivery>>;
    /// Schedules for `now` every dead or failed delivery of the subscription whose last
    /// attempt was at or after `since`; returns how many.
    async fn recover_deliveries(
        &mut self,
        subscription_id: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// Makes every write of the unit durable.
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// Tenants.
#[async_trait]
pub trait TenantStore {
    /// A tenant by id.
    async fn tenant(&self, id: &str) -> StoreResult<Option<Tenant>>;
    /// A tenant by its unique name.
    async fn tenant_by_name(&self, name: &str) -> StoreResult<Option<Tenant>>;
    /// How many tenants exist; zero means the database is new.
    async fn count_tenants(&self) -> StoreResult<i64>;
}

/// API keys.
#[async_trait]
pub trait KeyStore {
    /// The key whose current secret, or previous secret still in its grace period, has this hash.
    async fn key_by_hash(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<StoredKey>>;
    /// A key by id, tenant-scoped; `tenant_id: None` is for the CLI, which acts on any tenant.
    async fn key(&self, tenant_id: Option<&str>, id: &str) -> StoreResult<Option<StoredKey>>;
    /// A page of the tenant's keys, newest first.
    async fn list_keys(&self, tenant_id: &str, query: &KeyQuery) -> StoreResult<Page<StoredKey>>;
    /// Records when keys were last used, in one batch.
    async fn touch_keys(&self, uses: &[(String, DateTime<Utc>)]) -> StoreResult<()>;
}

/// Jobs.
#[async_trait]
pub trait JobStore {
    /// A job of the tenant.
    async fn job(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Job>>;
    /// A page of the tenant's jobs.
    async fn list_jobs(&self, tenant_id: &str, query: &JobQuery) -> StoreResult<Page<Job>>;
}

/// The outbox of events.
#[async_trait]
pub trait EventStore {
    /// The tenant's dispatched events after the given feed position, in commit order, with
    /// their positions; events meant for one subscription (pings) are left out.
    async fn list_events(
        &self,
        tenant_id: &str,
        after_position: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>>;
    /// How many events wait to be dispatched.
    async fn outbox_depth(&self) -> StoreResult<i64>;
}

/// Webhook subscriptions and their deliveries.
#[async_trait]
pub trait WebhookStore {
    /// A subscription of the tenant.
    async fn subscription(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> StoreResult<Option<StoredSubscription>>;
    /// A page of the tenant's subscriptions, newest first.
    async fn list_subscriptions(
        &self,
        tenant_id: &str,
        query: &SubscriptionQuery,
    ) -> StoreResult<Page<StoredSubscription>>;
    /// A delivery of the tenant.
    async fn delivery(&self, tenant_id: &str, id: &str) -> StoreResult<Option<StoredDelivery>>;
    /// A page of a subscription's deliveries, newest first.
    async fn list_deliveries(
        &self,
        tenant_id: &str,
        subscription_id: &str,
        query: &DeliveryQuery,
    ) -> StoreResult<Page<Delivery>>;
    /// Every attempt of a delivery, first first.
    async fn attempts(&self, delivery_id: &str) -> StoreResult<Vec<Attempt>>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore {
    /// Writes a batch of API call records.
    async fn insert_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// A page of the tenant's audit records, newest first.
    async fn list_audit_events(
        &self,
        tenant_id: &str,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditEvent>>;
}

/// A stored response to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What the store knows of an idempotency key when a request arrives with it.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// First use: the caller runs the request and then completes or releases the key.
    Claimed,
    /// Seen with the same request: replay this response.
    Replay(StoredResponse),
    /// Seen with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Idempotency keys, kept for 24 hours.
#[async_trait]
pub trait IdempotencyStore {
    /// Claims a key for a request with this fingerprint, or says why not.
    async fn claim_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
        ttl_secs: i64,
    ) -> StoreResult<IdempotencyClaim>;
    /// Stores the response of a claimed key.
    async fn complete_idempotency_key(
        &self,
        tenant_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a claimed key whose request failed, so the client may retry.
    async fn release_idempotency_key(&self, tenant_id: &str, key: &str) -> StoreResult<()>;
    /// Deletes keys older than the cutoff; returns how many.
    async fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// A whole backend.
#[async_trait]
pub trait Store:
    TenantStore
    + KeyStore
    + JobStore
    + EventStore
    + WebhookStore
    + AuditStore
    + IdempotencyStore
    + Send
    + Sync
    + 'static
{
    /// Starts a unit of work.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Housekeeping of the work-queue tables, run every few seconds by each process.
    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }
    /// The backend's name, for logs and metrics.
    fn backend(&self) -> &'static str;
}

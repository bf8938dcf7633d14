//! The delivery engine. Three tasks per process, all working from the database so that any
//! number of processes can share the work:
//!
//! - the dispatcher fans committed outbox events out into deliveries (one per subscription
//!   that wants the event) and gives the events their feed positions;
//! - the claimer leases due deliveries, never more per subscription than the in-flight cap
//!   (counting other processes' leases), and sends each in its own task;
//! - the recorder writes attempts and the deliveries' next states in batches.
//!
//! A write through the API wakes the dispatcher at once, which wakes the claimer; polling
//! catches work written by other processes and retries falling due.

pub mod sender;
pub mod target;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hirewire_core::model::{AttemptOutcome, StoredDelivery};
use hirewire_core::service::webhooks::{self, ClaimLimits};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::state::AppState;

/// Events dispatched per transaction.
const DISPATCH_BATCH: i64 = 500;
/// Attempts recorded per transaction, at most.
const RECORD_BATCH: usize = 500;
/// Deliveries leased per claim, at most.
const CLAIM_BATCH: i64 = 200;
/// How long the claimer lets finished requests accumulate while others are in flight.
const CLAIM_COALESCE: Duration = Duration::from_millis(5);

/// Wakes the engine's tasks when there is work.
#[derive(Clone, Default)]
pub struct Wake {
    outbox: Arc<Notify>,
    deliveries: Arc<Notify>,
    operations: Arc<Notify>,
    evaluations: Arc<Notify>,
}

impl Wake {
    /// Says that events may have been committed.
    pub fn events_written(&self) {
        self.outbox.notify_one();
    }

    /// Says that deliveries were scheduled for now (a retry, a recovery).
    pub fn deliveries_due(&self) {
        self.deliveries.notify_one();
    }

    /// Says that background operations (CV parses) were queued.
    pub fn operations_queued(&self) {
        self.operations.notify_one();
    }

    /// Resolves when [`Wake::operations_queued`] is called.
    pub async fn operations_notified(&self) {
        self.operations.notified().await;
    }

    /// Says that evaluations were queued (an application created, a CV parsed).
    pub fn evaluations_queued(&self) {
        self.evaluations.notify_one();
    }

    /// Resolves when [`Wake::evaluations_queued`] is called.
    pub async fn evaluations_notified(&self) {
        self.evaluations.notified().await;
    }
}

/// Wakes the dispatcher after every successful write through the API.
pub async fn wake_on_write(State(wake): State<Wake>, req: Request, next: Next) -> Response {
    let writes = !req.method().is_safe();
    let res = next.run(req).await;
    if writes && res.status().is_success() {
        wake.events_written();
    }
    res
}

/// Requests in flight in this process, per subscription and in all.
#[derive(Default)]
struct InFlight {
    per_subscription: Mutex<HashMap<String, i64>>,
    total: AtomicI64,
}

impl InFlight {
    fn of(&self, sub: &str) -> i64 {
        self.per_subscription
            .lock()
            .map(|m| m.get(sub).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn add(&self, sub: &str, n: i64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        if let Ok(mut m) = self.per_subscription.lock() {
            let e = m.entry(sub.to_string()).or_insert(0);
            *e += n;
            if *e <= 0 {
                m.remove(sub);
            }
        }
    }
}

type Done = (StoredDelivery, AttemptOutcome);

/// Starts the engine's tasks; they stop when `stop` turns true.
pub fn start(state: &AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let (done_tx, done_rx) = mpsc::channel::<Done>(4 * RECORD_BATCH);
    vec![
        tokio::spawn(dispatcher(state.clone(), stop.clone())),
        tokio::spawn(claimer(state.clone(), done_tx, stop)),
        tokio::spawn(recorder(state.clone(), done_rx)),
    ]
}

fn poll_interval(state: &AppState) -> Duration {
    Duration::from_millis(state.config.webhooks.poll_interval_ms.max(10))
}

async fn dispatcher(state: AppState, mut stop: watch::Receiver<bool>) {
    let poll = poll_interval(&state);
    let wake = state.wake.clone();
    loop {
        tokio::select! {
            _ = wake.outbox.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        loop {
            match webhooks::dispatch(state.store.as_ref(), DISPATCH_BATCH).await {
                Ok(0) => break,
                Ok(n) => {
                    wake.deliveries.notify_one();
                    if (n as i64) < DISPATCH_BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not dispatch events; will retry");
                    break;
                }
            }
        }
    }
}

async fn claimer(state: AppState, done: mpsc::Sender<Done>, mut stop: watch::Receiver<bool>) {
    let cfg = &state.config.webhooks;
    let allow_insecure = state.config.dev || cfg.allow_insecure_targets;
    let sender = sender::Sender::new(
        Duration::from_secs(cfg.timeout_secs.max(1)),
        cfg.max_in_flight.clamp(1, 1000) as usize,
        allow_insecure,
    );
    let owner = hirewire_core::ids::new_id("wkr");
    let limits = ClaimLimits {
        per_subscription: cfg.max_in_flight.max(1),
        batch: CLAIM_BATCH,
        lease: chrono::Duration::seconds(cfg.lease_secs.max(cfg.timeout_secs + 1) as i64),
    };
    let max_total = cfg.max_in_flight_total.max(1);
    let poll = poll_interval(&state);
    let in_flight = Arc::new(InFlight::default());
    let mut tasks = JoinSet::new();
    let wake = state.wake.clone();
    loop {
        tokio::select! {
            _ = wake.deliveries.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
        if in_flight.total.load(Ordering::Relaxed) > 0 {
            // Under load every finished request wakes us; a moment's pause lets several finish,
            // so that one claim fills several slots instead of one.
            tokio::time::sleep(CLAIM_COALESCE).await;
        }
        while tasks.try_join_next().is_some() {}
        loop {
            let room = max_total - in_flight.total.load(Ordering::Relaxed);
            if room <= 0 {
                break;
            }
            let limits = ClaimLimits {
                batch: room.min(limits.batch),
                ..limits.clone()
            };
            let counts = in_flight.clone();
            let claimed =
                match webhooks::claim(state.store.as_ref(), &owner, &limits, &|s| counts.of(s))
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not claim deliveries; will retry");
                        break;
                    }
                };
            let full = claimed.len() as i64 == limits.batch;
            for c in claimed {
                let sub = c.delivery.delivery.subscription_id.clone();
                in_flight.add(&sub, 1);
                let (sender, done, counts, wake) = (
                    sender.clone(),
                    done.clone(),
                    in_flight.clone(),
                    wake.clone(),
                );
                tasks.spawn(async move {
                    let outcome = sender.attempt(&c).await;
                    counts.add(&sub, -1);
                    let _ = done.send((c.delivery, outcome)).await;
                    wake.deliveries.notify_one();
                });
            }
            if !full {
                break;
            }
        }
    }
    // Let requests under way finish so that their outcome is recorded, briefly: the process
    // must exit within 10 s of SIGTERM and the HTTP drain came first. What does not finish
    // is sent again once its lease runs out.
    let grace = Duration::from_secs(state.config.shutdown_timeout_secs.min(2));
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

async fn recorder(state: AppState, mut done: mpsc::Receiver<Done>) {
    let cfg = &state.config.webhooks;
    let retry = match cfg.retry_policy() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "invalid webhooks.retry_schedule; using the default");
            hirewire_core::model::RetryPolicy::default()
        }
    };
    let disable = cfg.disable_policy();
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while let Some(first) = done.recv().await {
        batch.push(first);
        while batch.len() < RECORD_BATCH {
            match done.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let mut tries = 0;
        loop {
            match webhooks::record_attempts(state.store.as_ref(), &batch, &retry, &disable).await {
                Ok(disabled) => {
                    for id in &disabled {
                        tracing::warn!(webhook = %id, "webhook subscription switched off after failures");
                    }
                    if !disabled.is_empty() {
                        state.wake.events_written();
                    }
                    break;
                }
                Err(e) if tries < 3 => {
                    tries += 1;
                    tracing::warn!(error = %e, "could not record webhook attempts; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * tries)).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, attempts = batch.len(), "could not record webhook attempts; they will be sent again when their leases run out");
                    break;
                }
            }
        }
        batch.clear();
    }
}

//! Background work that every `hirewire serve` process runs. Each task is safe to run in
//! several processes at once: jobs are claimed from tables, never from memory.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hirewire_core::model::AuditEvent;
use hirewire_core::service::jobs;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// The running workers.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    state: AppState,
}

fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, mut f: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => f().await,
                _ = stop.changed() => return,
            }
        }
    })
}

async fn flush_key_uses(state: &AppState) {
    let uses = state.keys.drain_uses();
    if !uses.is_empty()
        && let Err(e) = state.store.touch_keys(&uses).await
    {
        tracing::warn!(error = %e, "could not record key use");
    }
}

impl Workers {
    /// Starts every worker.
    pub fn start(state: AppState, audit_rx: mpsc::Receiver<AuditEvent>) -> Self {
        let (stop, rx) = watch::channel(false);
        let mut handles = Vec::new();
        let flush = Duration::from_millis(state.config.audit_flush_interval_ms);
        handles.push(tokio::spawn(crate::audit_log::writer(
            state.store.clone(),
            audit_rx,
            flush,
            rx.clone(),
        )));

        let s = state.clone();
        handles.push(every(
            Duration::from_millis(state.config.key_use_flush_interval_ms.max(10)),
            rx.clone(),
            move || {
                let s = s.clone();
                async move { flush_key_uses(&s).await }
            },
        ));

        let s = state.clone();
        handles.push(every(
            Duration::from_secs(state.config.expiry_interval_secs.max(1)),
            rx.clone(),
            move || {
                let s = s.clone();
                async move {
                    match jobs::expire_due(s.store.as_ref(), 100).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(jobs = n, "expired jobs past their expires_at");
                            s.wake.events_written();
                        }
                        Err(e) => tracing::warn!(error = %e, "job expiry failed; will retry"),
                    }
                }
            },
        ));

        let s = state.clone();
        handles.push(every(Duration::from_secs(3600), rx.clone(), move || {
            let s = s.clone();
            async move {
                let cutoff = hirewire_core::time::now()
                    - chrono::Duration::seconds(crate::idempotency::TTL_SECS);
                if let Err(e) = s.store.purge_idempotency_keys(cutoff).await {
                    tracing::warn!(error = %e, "could not purge idempotency keys");
                }
            }
        }));

        let s = state.clone();
        handles.push(every(Duration::from_secs(5), rx.clone(), move || {
            let s = s.clone();
            async move {
                crate::metrics::upkeep();
                if let Err(e) = s.store.maintain().await {
                    tracing::warn!(error = %e, "store housekeeping failed");
                }
                if let Ok(depth) = s.store.outbox_depth().await {
                    metrics::gauge!("outbox_depth").set(depth as f64);
                }
                s.limits.shrink();
            }
        }));

        handles.extend(crate::webhooks::start(&state, rx.clone()));
        handles.push(crate::parsing::start(&state, rx.clone()));
        handles.push(crate::imports::start(&state, rx.clone()));
        handles.push(crate::scoring::start(&state, rx.clone()));
        // The skills taxonomy is built on first use (~50 ms, ~12 MB), not here: a server that
        // never parses or searches keeps its idle memory small.
        state.workers_running.store(true, Ordering::Relaxed);
        Workers {
            stop,
            handles,
            state,
        }
    }

    /// Stops every worker after a last flush of what they buffer.
    pub async fn stop(self) {
        self.state.workers_running.store(false, Ordering::Relaxed);
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
        flush_key_uses(&self.state).await;
    }
}

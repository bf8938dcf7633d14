//! Records every authenticated API call. Records go through a channel to a writer that
//! inserts them in batches, so a request never waits for its own audit row. Changes are
//! recorded elsewhere, inside the transaction of the change.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hirewire_core::model::{AuditEvent, AuditKind};
use hirewire_core::store::Store;
use tokio::sync::{mpsc, watch};

use crate::auth::Authenticated;
use crate::http::request_id::RequestId;
use crate::state::AppState;

const BATCH: usize = 1000;

/// Where call records are sent.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<AuditEvent>,
}

impl AuditSink {
    /// A sink and the receiver its writer drains.
    pub fn new() -> (Self, mpsc::Receiver<AuditEvent>) {
        let (tx, rx) = mpsc::channel(50_000);
        (Self { tx }, rx)
    }
}

/// Writes call records in batches every `interval`, and everything left when `stop` fires.
pub async fn writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<AuditEvent>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 { break; }
                // Let a burst accumulate a little, so one transaction carries many rows.
                if batch.len() < BATCH {
                    tokio::time::sleep(interval).await;
                    while batch.len() < BATCH && let Ok(e) = rx.try_recv() { batch.push(e); }
                }
                flush(store.as_ref(), &mut batch).await;
            }
            _ = stop.changed() => break,
        }
    }
    while let Ok(e) = rx.try_recv() {
        batch.push(e);
        if batch.len() >= BATCH {
            flush(store.as_ref(), &mut batch).await;
        }
    }
    flush(store.as_ref(), &mut batch).await;
}

async fn flush(store: &dyn Store, batch: &mut Vec<AuditEvent>) {
    if batch.is_empty() {
        return;
    }
    let events = std::mem::replace(batch, Vec::with_capacity(BATCH));
    let n = events.len();
    if let Err(e) = store.insert_audit_events(events).await {
        tracing::error!(error = %e, records = n, "could not write audit call records");
        metrics::counter!("audit_records_dropped_total").increment(n as u64);
    }
}

/// Times each call and queues its record once it is answered.
pub async fn middleware(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let path = req.uri().path().to_string();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    let res = next.run(req).await;
    if let Some(authed) = res.extensions().get::<Authenticated>() {
        let mut e = AuditEvent::new(
            AuditKind::Request,
            "request",
            &authed.tenant_id,
            hirewire_core::time::now(),
        );
        e.actor_key_id = Some(authed.key_id.clone());
        e.attributed_user_id = authed.user_id.clone();
        e.client_id = authed.client_id.clone();
        e.trace_id = authed.trace_id.clone();
        e.ip = Some(authed.ip.to_string());
        e.request_id = request_id;
        e.method = Some(method);
        e.route = route;
        e.path = Some(path);
        e.status = Some(i32::from(res.status().as_u16()));
        e.user_agent = user_agent;
        e.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        if app.audit.tx.send(e).await.is_err() {
            metrics::counter!("audit_records_dropped_total").increment(1);
        }
    }
    res
}

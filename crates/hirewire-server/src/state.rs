//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hirewire_core::store::Store;

use crate::audit_log::AuditSink;
use crate::auth::KeyCache;
use crate::config::Config;
use crate::ratelimit::RateLimiters;

/// The application's shared state. Every middleware layer and handler clones it per request,
/// so it is one `Arc`: one atomic increment per clone instead of one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Wraps the shared parts.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub keys: Arc<KeyCache>,
    pub limits: Arc<RateLimiters>,
    pub audit: AuditSink,
    /// Wakes the webhook engine when events are written.
    pub wake: crate::webhooks::Wake,
    /// Set once the background workers run; `/healthz/ready` needs it.
    pub workers_running: Arc<AtomicBool>,
}

impl AppState {
    /// Whether the background workers are running.
    pub fn workers_running(&self) -> bool {
        self.workers_running.load(Ordering::Relaxed)
    }
}

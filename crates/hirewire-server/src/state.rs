//! What every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hirewire_core::store::Store;

use crate::audit_log::AuditSink;
use crate::auth::KeyCache;
use crate::config::Config;
use crate::ratelimit::RateLimiters;

/// The application's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
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

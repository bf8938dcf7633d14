//! Hirewire's server: the HTTP API and the background workers, over any [`Store`].

pub mod audit_log;
pub mod auth;
pub mod config;
pub mod http;
pub mod idempotency;
pub mod imports;
pub mod metrics;
pub mod parsing;
pub mod ratelimit;
pub mod scoring;
pub mod state;
pub mod webhooks;
pub mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hirewire_core::model::AuditEvent;
use hirewire_core::store::Store;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub use config::Config;
pub use http::{openapi_document, openapi_json};
pub use state::AppState;

/// A server ready to listen.
pub struct Server {
    state: AppState,
    audit_rx: mpsc::Receiver<AuditEvent>,
}

impl Server {
    /// Wires the state over a migrated store.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
        metrics::install();
        let (audit, audit_rx) = audit_log::AuditSink::new();
        let state = AppState::new(state::Shared {
            limits: Arc::new(ratelimit::RateLimiters::new(&config.rate_limits)),
            keys: Arc::new(auth::KeyCache::new(Duration::from_secs(
                config.key_cache_ttl_secs,
            ))),
            config: Arc::new(config),
            store,
            audit,
            wake: webhooks::Wake::default(),
            workers_running: Arc::new(AtomicBool::new(false)),
        });
        Self { state, audit_rx }
    }

    /// The shared state, for tests that reach past the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves on `listener` until `shutdown` resolves, then stops taking connections, lets
    /// in-flight requests finish (up to `shutdown_timeout_secs`), flushes the workers' buffers
    /// and returns.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Server { state, audit_rx } = self;
        let workers = workers::Workers::start(state.clone(), audit_rx);
        let grace = Duration::from_secs(state.config.shutdown_timeout_secs);
        let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = signalled_tx.send(());
        });
        let mut serve = std::pin::pin!(serve.into_future());
        tokio::select! {
            res = &mut serve => res?,
            _ = async { let _ = signalled_rx.await; tokio::time::sleep(grace).await } => {
                tracing::warn!("in-flight requests did not finish within {} s; closing", grace.as_secs());
            }
        }
        workers.stop().await;
        Ok(())
    }
}

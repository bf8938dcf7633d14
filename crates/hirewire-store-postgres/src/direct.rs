//! Connections for reads by id, kept outside the pool.
//!
//! sqlx's pool checks a connection with a round trip to the server when it hands it out and
//! again when it takes it back, so a read by id through the pool costs three round trips. The
//! hottest reads (a job, a key) take a connection from this list instead: one round trip. A
//! connection that fails, or whose read is abandoned half-way, is dropped, not reused.

use std::sync::Mutex;

use hirewire_core::store::StoreResult;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgRow};
use sqlx::{ConnectOptions, PgConnection, Postgres};
use tokio::sync::Semaphore;

use crate::rows::OrStore;

/// Most connections open for these reads; further reads wait for one.
const MAX_OPEN: usize = 8;

/// Connections for reads by id.
pub(crate) struct Direct {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    open: Semaphore,
}

impl Direct {
    /// Connections made with `options`, opened when first needed.
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            open: Semaphore::new(MAX_OPEN),
        }
    }

    /// The row `query` finds, if any, on a kept connection (or a new one).
    pub(crate) async fn fetch_optional(
        &self,
        query: sqlx::query::Query<'_, Postgres, PgArguments>,
    ) -> StoreResult<Option<PgRow>> {
        let _permit = self.open.acquire().await.or_store()?;
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut conn = match idle {
            Some(c) => c,
            None => self.options.connect().await.or_store()?,
        };
        // On an error the connection is dropped: it may be broken.
        let row = query.fetch_optional(&mut conn).await.or_store()?;
        if let Ok(mut v) = self.idle.lock() {
            v.push(conn);
        }
        Ok(row)
    }

    /// Closes the kept connections.
    pub(crate) async fn close(&self) {
        let idle = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for conn in idle {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

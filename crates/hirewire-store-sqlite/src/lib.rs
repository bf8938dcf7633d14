//! The SQLite implementation of Hirewire's store traits: the zero-setup default.
//!
//! One connection writes (SQLite admits one writer at a time, so queueing writers is cheaper
//! than letting them collide on the database lock), with group commit when writers queue
//! (`writer`); a pool of connections reads, and reads by id run inline (`inline`); all in WAL
//! mode so that reads never wait for the writer, with the WAL copied back into the database
//! file by a thread of its own (`checkpoint`) rather than inside the writer's commits. Write
//! transactions start with `BEGIN IMMEDIATE`, which takes the write lock up front: a
//! transaction that reads before it writes can then never fail to upgrade its lock halfway.

mod applications;
mod audit;
mod candidates;
mod checkpoint;
mod evaluations;
mod events;
mod idempotency;
mod inline;
mod jobs;
mod keys;
mod rows;
mod tenants;
mod tx;
mod webhooks;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hirewire_core::StoreError;
use hirewire_core::store::{Store, StoreResult, Tx};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::rows::OrStore;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A Hirewire store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: writer::Writer,
    /// Reads by id, run on the calling thread (see `inline`).
    readers: Arc<inline::Readers>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url`, e.g. `sqlite://hirewire.db`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .or_store()?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-16000");
        let write_conn = sqlx::ConnectOptions::connect(&options).await.or_store()?;
        let checkpointer = checkpoint::Checkpointer::start(options.get_filename().to_path_buf())
            .map_err(|e| {
                tracing::warn!(error = %e, "no checkpoint thread; commits checkpoint the WAL themselves");
            })
            .ok();
        let write = writer::Writer::new(write_conn, checkpointer).await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .max(4) as u32;
        // No liveness check when a connection is taken from the pool: for a file it is a
        // round trip to the connection's thread that can only ever succeed.
        let read = SqlitePoolOptions::new()
            .max_connections(readers)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(true))
            .await
            .or_store()?;
        let readers = Arc::new(inline::Readers::new(options.get_filename().to_path_buf()));
        Ok(Self {
            read,
            write,
            readers,
        })
    }

    /// Applies the migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        let mut w = self.write.take().await;
        MIGRATOR.run(w.sqlx()?).await.or_store()
    }

    /// Whether every migration of this build has been applied.
    pub async fn is_migrated(&self) -> StoreResult<bool> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.read)
                .await
                .unwrap_or(0);
        Ok(applied as usize >= MIGRATOR.iter().count())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.take().await.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(tx::SqliteTx::begin(&self.write).await?))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .or_store()?;
        if !self.is_migrated().await? {
            return Err(StoreError("migrations have not been applied".into()));
        }
        Ok(())
    }

    async fn maintain(&self) -> StoreResult<()> {
        // Keeps the planner's statistics current (SQLite gathers none by itself), so that a
        // search starts from its full-text match rather than from every candidate. Usually a
        // no-op; `analysis_limit` bounds the work when it is not.
        let mut w = self.write.take().await;
        w.inline()
            .await?
            .execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize;")
            .or_store()?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

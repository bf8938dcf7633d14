//! The PostgreSQL implementation of Hirewire's store traits: for several stateless nodes on
//! one database.
//!
//! One pool serves reads and writes. Write transactions start with a plain `BEGIN` (READ
//! COMMITTED); the rows a transaction reads in order to change them are locked with
//! `SELECT … FOR UPDATE`, and job claims use `FOR UPDATE SKIP LOCKED` so that two processes
//! never claim the same row.

mod applications;
mod audit;
mod candidates;
mod direct;
mod evaluations;
mod events;
mod idempotency;
mod jobs;
mod keys;
mod rows;
mod tenants;
mod tx;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use hirewire_core::StoreError;
use hirewire_core::store::{Store, StoreResult, Tx};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use crate::rows::OrStore;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A Hirewire store in one PostgreSQL database (or one schema of it).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Reads by id, outside the pool (see `direct`).
    direct: std::sync::Arc<direct::Direct>,
}

/// Quotes an identifier for SQL, e.g. `hw` → `"hw"`.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PostgresStore {
    /// Connects to the database at `url`, e.g. `postgres://user@host/hirewire`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).or_store()?;
        Self::with_options(options).await
    }

    /// Connects to the database at `url` and works in `schema`, creating it if needed: every
    /// pooled connection gets `search_path` set to it. Tests use this to stay apart.
    pub async fn connect_in_schema(url: &str, schema: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).or_store()?;
        let quoted = quote_ident(schema);
        let mut conn = options.connect().await.or_store()?;
        sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted}"
        )))
        .execute(&mut conn)
        .await
        .or_store()?;
        conn.close().await.or_store()?;
        Self::with_options(options.options([("search_path", quoted)])).await
    }

    async fn with_options(options: PgConnectOptions) -> StoreResult<Self> {
        // No round trip to check a connection as it leaves the pool: sqlx checks it anyway
        // when it comes back, and a query on a broken one fails with a clear error.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .or_store()?;
        let direct = std::sync::Arc::new(direct::Direct::new(options.clone()));
        Ok(Self { pool, direct })
    }

    /// Applies the migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        // Each migration commits on its own; waiting for each commit's WAL flush is most of a
        // first start. An asynchronous commit lost in a crash loses that migration and the
        // ones after it together (WAL order), and they run again at the next start. The
        // pool's first connection is already open: using it saves a connection's start.
        let mut conn = self.pool.acquire().await.or_store()?;
        sqlx::query("SET synchronous_commit = off")
            .execute(&mut *conn)
            .await
            .or_store()?;
        let applied = MIGRATOR
            .run_direct(None, &mut *conn, false)
            .await
            .or_store();
        // The connection goes back to the pool only with its session as the pool's others.
        if sqlx::query("RESET synchronous_commit")
            .execute(&mut *conn)
            .await
            .is_err()
        {
            conn.close_on_drop();
        }
        applied
    }

    /// Whether every migration of this build has been applied.
    pub async fn is_migrated(&self) -> StoreResult<bool> {
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .unwrap_or(0);
        Ok(applied as usize >= MIGRATOR.iter().count())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.direct.close().await;
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await.or_store()?;
        Ok(Box::new(tx::PostgresTx { tx }))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .or_store()?;
        if !self.is_migrated().await? {
            return Err(StoreError("migrations have not been applied".into()));
        }
        Ok(())
    }

    async fn maintain(&self) -> StoreResult<()> {
        // The delivery queue turns over thousands of rows a second, and every claim scan walks
        // the dead index entries that leaves until VACUUM clears them; autovacuum looks at a
        // table at most once a minute, by which time scans have slowed and latency has grown.
        // SKIP_LOCKED: when another process is vacuuming, this one need not.
        sqlx::query("VACUUM (SKIP_LOCKED) webhook_deliveries, events")
            .execute(&self.pool)
            .await
            .or_store()?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

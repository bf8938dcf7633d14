//! Picks the store from the database URL's scheme and brings its schema up to date.

use std::sync::Arc;

use anyhow::{Context, bail};
use hirewire_core::store::Store;
use hirewire_store_postgres::PostgresStore;
use hirewire_store_sqlite::SqliteStore;

/// Opens and migrates the database at `url` (`sqlite://FILE` or `postgres://…`).
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url)
            .await
            .with_context(|| format!("cannot open {url}"))?;
        store
            .migrate()
            .await
            .context("cannot migrate the SQLite database")?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url)
            .await
            .context("cannot connect to PostgreSQL")?;
        store
            .migrate()
            .await
            .context("cannot migrate the PostgreSQL database")?;
        Ok(Arc::new(store))
    } else {
        bail!("unsupported database URL `{url}`: use sqlite://FILE or postgres://USER@HOST/DB")
    }
}

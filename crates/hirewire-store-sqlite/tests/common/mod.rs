//! A fresh SQLite store in a file of its own, for the store-level tests.

use std::path::{Path, PathBuf};

use hirewire_core::model::Tenant;
use hirewire_core::store::Store;
use hirewire_store_sqlite::SqliteStore;

/// Removes the database file and its WAL companions.
pub fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A migrated store in `hirewire-{name}-{pid}.db` under the temporary directory, holding
/// tenant `ten_1`.
pub async fn fresh_store(name: &str) -> (SqliteStore, PathBuf) {
    let path = std::env::temp_dir().join(format!("hirewire-{name}-{}.db", std::process::id()));
    remove(&path);
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let mut tx = store.begin().await.expect("begin");
    tx.insert_tenant(&Tenant {
        id: "ten_1".into(),
        name: "one".into(),
        credits: 0,
        require_key_approval: false,
        created_at: hirewire_core::time::now(),
    })
    .await
    .expect("tenant");
    tx.commit().await.expect("commit");
    (store, path)
}

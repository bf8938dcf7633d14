//! The store's WAL is copied back into the database file by its checkpoint thread while
//! writes go on, and once more when the store closes. (One test in this binary: it counts the
//! process's threads.)

mod common;

use hirewire_core::model::{Job, NewJob};
use hirewire_core::store::Store;

fn len(path: &std::path::Path, suffix: &str) -> u64 {
    std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len())
}

/// How many of this process's threads are checkpoint threads, where `/proc` tells (Linux
/// shortens thread names to 15 bytes).
fn checkpoint_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("sqlite-checkpoi"))
            .count(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writers_wal_is_copied_back_while_it_writes_and_at_close() {
    let (store, path) = common::fresh_store("checkpoint").await;
    assert_ne!(
        checkpoint_threads(),
        Some(0),
        "the store runs no checkpoint thread"
    );
    let before = len(&path, "");

    // 3,000 jobs of 3,500 bytes, one transaction each: several times the WAL size at which a
    // commit asks for a checkpoint.
    for i in 0..3000 {
        let job = Job::new_draft(
            format!("job_{i:032}"),
            NewJob {
                title: format!("Job {i}"),
                description: Some("d".repeat(3500)),
                ..NewJob::default()
            },
            hirewire_core::time::now(),
        )
        .expect("job");
        let mut tx = store.begin().await.expect("begin");
        tx.insert_job("ten_1", &job).await.expect("insert");
        tx.commit().await.expect("commit");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while len(&path, "") < before + 4_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (WAL {} bytes): nothing was checkpointed",
            len(&path, ""),
            len(&path, "-wal")
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    store.close().await;
    assert_eq!(
        checkpoint_threads().unwrap_or(0),
        0,
        "the checkpoint thread outlived close()"
    );
    drop(store);
    // Every row is in the database file now: the WAL, if still there, holds nothing to copy.
    let db = rusqlite::Connection::open(&path).expect("reopen");
    let (_busy, wal_pages, _copied): (i64, i64, i64) = db
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("checkpoint");
    assert!(wal_pages <= 0, "{wal_pages} pages were left in the WAL");
    let jobs: i64 = db
        .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(jobs, 3000);
    drop(db);
    common::remove(&path);
}

//! Group commit on the SQLite writer: many concurrent write transactions share commits, and
//! each still stands or falls alone.

mod common;

use std::sync::Arc;

use hirewire_core::model::{Job, NewJob};
use hirewire_core::store::{JobStore, Store};
use hirewire_store_sqlite::SqliteStore;

async fn store(name: &str) -> (Arc<SqliteStore>, std::path::PathBuf) {
    let (store, path) = common::fresh_store(&format!("group-commit-{name}")).await;
    (Arc::new(store), path)
}

fn job(i: usize) -> Job {
    Job::new_draft(
        format!("job_{i:032}"),
        NewJob {
            title: format!("Job {i}"),
            ..NewJob::default()
        },
        hirewire_core::time::now(),
    )
    .expect("job")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transactions_commit_or_roll_back_each_on_its_own() {
    let (store, path) = store("mixed").await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.expect("begin");
                tx.insert_job("ten_1", &job(i)).await.expect("insert");
                tokio::task::yield_now().await;
                match i % 4 {
                    // Dropped without a commit: rolled back, alone.
                    0 => drop(tx),
                    // A failing statement (the same id again), then dropped.
                    1 => {
                        assert!(tx.insert_job("ten_1", &job(i)).await.is_err());
                        drop(tx);
                    }
                    _ => {
                        tx.commit().await.expect("commit");
                        // Committed means readable by anyone, at once.
                        let seen = store.job("ten_1", &job(i).id).await.expect("read");
                        assert!(seen.is_some(), "job {i} not visible after its commit");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    for i in 0..200 {
        let seen = store.job("ten_1", &job(i).id).await.expect("read");
        assert_eq!(seen.is_some(), i % 4 >= 2, "job {i}");
    }
    store.close().await;
    common::remove(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_write_after_a_group_finds_no_transaction_open() {
    let (store, path) = store("plain").await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.expect("begin");
                tx.insert_job("ten_1", &job(i)).await.expect("insert");
                tx.commit().await.expect("commit");
            })
        })
        .collect();
    // Writes outside a transaction take the writer between the group's members.
    for _ in 0..20 {
        store.maintain().await.expect("maintain");
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.expect("task");
    }
    for i in 0..50 {
        assert!(
            store
                .job("ten_1", &job(i).id)
                .await
                .expect("read")
                .is_some()
        );
    }
    store.close().await;
    common::remove(&path);
}

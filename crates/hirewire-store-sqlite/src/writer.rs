//! The one connection that writes, and group commit.
//!
//! SQLite admits one writer at a time, so one connection does all writing and writers queue
//! for it here. Between uses it keeps its SQLite handle (and the statements prepared on it) on
//! the side of the inline statements (see `inline`), so a write transaction made of inline
//! statements costs no hand-off to sqlx's thread at all; the handle goes back to that thread
//! only when a statement runs through sqlx.
//!
//! Committing is most of a short write's cost: every page the transaction touched (the row,
//! each of its indexes, the outbox, the audit trail) is written to the WAL again. So when
//! other writers are already queued, a finished transaction does not commit: it releases its
//! savepoint into a group transaction that stays open, and waits. The last of the queue, or
//! the first to find the group full or old, commits the group, and every member learns the
//! outcome together. A member is answered only after the commit, so nothing is acknowledged
//! that could still be lost; a member that fails rolls back to its own savepoint and leaves
//! the others' work in the group. With no queue, a transaction commits at once, as usual.
//!
//! A transaction in a group sees what earlier members released, as it would see their
//! committed work had they committed one by one; reads outside transactions see only
//! committed work. Should the group's commit fail (disk full, I/O error), every member fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hirewire_core::StoreError;
use hirewire_core::store::StoreResult;
use sqlx::SqliteConnection;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::checkpoint::Checkpointer;
use crate::inline::Handle;
use crate::rows::OrStore;

/// Most transactions one commit carries.
const MAX_GROUP: usize = 64;
/// Longest a group stays open.
const MAX_GROUP_AGE: Duration = Duration::from_millis(10);
/// How long a member waits for its group's commit before committing it itself: a safety net
/// for a queued writer that gave up before its turn.
const MEMBER_PATIENCE: Duration = Duration::from_millis(50);

/// The savepoint each transaction runs in.
pub(crate) const SAVEPOINT: &str = "SAVEPOINT hw_tx";
pub(crate) const RELEASE: &str = "RELEASE hw_tx";
pub(crate) const ROLLBACK_TO: &str = "ROLLBACK TO hw_tx; RELEASE hw_tx";

/// The writer connection, taken in turn.
#[derive(Clone)]
pub(crate) struct Writer {
    conn: Arc<Mutex<WriterConn>>,
    /// Tasks waiting for the connection.
    waiting: Arc<AtomicUsize>,
}

struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    /// The writer over `conn`, whose checkpoints, if `checkpointer` is given, that thread runs.
    pub(crate) async fn new(
        mut conn: SqliteConnection,
        mut checkpointer: Option<Checkpointer>,
    ) -> StoreResult<Self> {
        if let Some(cp) = checkpointer.as_mut() {
            let mut lock = conn.lock_handle().await.or_store()?;
            // SAFETY: the handle is live and locked for this call, so no other thread uses it.
            unsafe { cp.install(lock.as_raw_handle().as_ptr()) };
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(WriterConn {
                handle: None,
                conn: Some(Box::new(conn)),
                checkpointer,
                group: None,
                groups: 0,
                abandoned: false,
            })),
            waiting: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Waits for the connection, for a transaction: a group may be open on it.
    pub(crate) async fn take_for_tx(&self) -> OwnedMutexGuard<WriterConn> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        self.conn.clone().lock_owned().await
    }

    /// Waits for the connection, for statements outside a transaction: any open group is
    /// committed first.
    pub(crate) async fn take(&self) -> OwnedMutexGuard<WriterConn> {
        let mut w = self.take_for_tx().await;
        w.finish_group().await;
        w
    }

    /// Whether another task is waiting for the connection.
    pub(crate) fn contended(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }
}

/// Transactions released into an open transaction, waiting for its commit.
struct Group {
    id: u64,
    opened: Instant,
    members: Vec<oneshot::Sender<Result<(), String>>>,
}

/// The writer connection, for one user at a time.
pub(crate) struct WriterConn {
    // Declared before `conn`: the handle must be given back before the connection goes.
    handle: Option<Handle>,
    conn: Option<Box<SqliteConnection>>,
    /// Runs the WAL checkpoints `conn`'s commits ask for (see `checkpoint`).
    checkpointer: Option<Checkpointer>,
    /// The open transaction, when one is open.
    group: Option<Group>,
    groups: u64,
    /// A transaction was dropped where it could not be rolled back: the open transaction
    /// must be rolled back whole before anything else.
    abandoned: bool,
}

fn closed() -> StoreError {
    StoreError("the database has been closed".into())
}

impl WriterConn {
    /// The connection, for statements that run through sqlx.
    pub(crate) fn sqlx(&mut self) -> StoreResult<&mut SqliteConnection> {
        self.handle = None;
        self.conn.as_deref_mut().ok_or_else(closed)
    }

    /// The connection, for statements that run inline: one hand-off when sqlx had it last.
    pub(crate) async fn inline(&mut self) -> StoreResult<&rusqlite::Connection> {
        if self.handle.is_none() {
            let conn = self.conn.as_deref_mut().ok_or_else(closed)?;
            // SAFETY: the connection outlives the handle (field order; `close` drops the
            // handle first), and is used only through `sqlx()`, which drops the handle first.
            self.handle = Some(unsafe { Handle::take(conn) }.await?);
        }
        self.inline_now().ok_or_else(closed)
    }

    /// The inline connection if it is at hand, with no waiting.
    pub(crate) fn inline_now(&self) -> Option<&rusqlite::Connection> {
        self.handle.as_ref().map(Handle::db)
    }

    /// Marks the open transaction as holding work that must not be committed.
    pub(crate) fn abandon(&mut self) {
        self.abandoned = true;
    }

    /// Rolls back the whole open transaction if a transaction was abandoned in it.
    fn recover(&mut self) {
        if !self.abandoned {
            return;
        }
        let Some(db) = self.handle.as_ref().map(Handle::db) else {
            return;
        };
        crate::inline::rollback(db);
        self.abandoned = false;
        fail(
            self.group.take(),
            "a transaction in the same commit could not finish",
        );
    }

    /// Opens the group transaction if none is open, then a savepoint for one transaction.
    pub(crate) async fn begin(&mut self) -> StoreResult<()> {
        self.inline().await?;
        self.recover();
        let Some(db) = self.handle.as_ref().map(Handle::db) else {
            return Err(closed());
        };
        if self.group.is_some() && db.is_autocommit() {
            // SQLite rolled the group back on an error (disk full, I/O): its members lost
            // their work and must hear so.
            fail(
                self.group.take(),
                "the transaction was rolled back by SQLite",
            );
        }
        if self.group.is_none() {
            db.execute_batch("BEGIN IMMEDIATE").or_store()?;
            self.groups += 1;
            self.group = Some(Group {
                id: self.groups,
                opened: Instant::now(),
                members: Vec::new(),
            });
        }
        db.execute_batch(SAVEPOINT).or_store()
    }

    /// Adds a released transaction to the group; its receiver hears the commit's outcome.
    pub(crate) fn join(&mut self) -> StoreResult<(u64, oneshot::Receiver<Result<(), String>>)> {
        let group = self
            .group
            .as_mut()
            .ok_or_else(|| StoreError("no transaction is open".into()))?;
        let (tx, rx) = oneshot::channel();
        group.members.push(tx);
        Ok((group.id, rx))
    }

    /// Whether the group with this id is still open.
    pub(crate) fn is_open(&self, id: u64) -> bool {
        self.group.as_ref().is_some_and(|g| g.id == id)
    }

    /// Commits the group now unless it should wait for the writers queued behind.
    pub(crate) fn settle_now(&mut self, contended: bool) -> bool {
        if self.abandoned {
            if self.handle.is_none() {
                return false;
            }
            self.recover();
        }
        let Some(g) = &self.group else {
            return true;
        };
        if contended && g.members.len() < MAX_GROUP && g.opened.elapsed() < MAX_GROUP_AGE {
            return true;
        }
        let Some(db) = self.handle.as_ref().map(Handle::db) else {
            return false;
        };
        commit(db, self.group.take());
        true
    }

    /// [`settle_now`](Self::settle_now), taking the handle back from sqlx if needed.
    pub(crate) async fn settle(&mut self, contended: bool) {
        if !self.settle_now(contended) {
            match self.inline().await {
                Ok(_) => {
                    self.settle_now(contended);
                }
                Err(e) => fail(self.group.take(), &e.to_string()),
            }
        }
    }

    /// Commits the open group, if any.
    pub(crate) async fn finish_group(&mut self) {
        if self.group.is_some() {
            self.settle(false).await;
        }
    }

    /// Closes the connection; later uses fail.
    pub(crate) async fn close(&mut self) {
        self.finish_group().await;
        self.handle = None;
        if let Some(conn) = self.conn.take() {
            let closed = sqlx::Connection::close(*conn).await;
            if let (Ok(()), Some(cp)) = (closed, self.checkpointer.as_mut()) {
                // SAFETY: sqlx has closed the connection the hook was installed on.
                unsafe { cp.closed() };
            }
        }
        // Stops the thread after a last checkpoint, which copies back whatever the WAL still
        // holds: on a blocking thread, not the runtime's.
        if let Some(cp) = self.checkpointer.take() {
            let _ = tokio::task::spawn_blocking(move || drop(cp)).await;
        }
    }
}

/// Commits `group` on `db` and tells its members.
fn commit(db: &rusqlite::Connection, group: Option<Group>) {
    let Some(group) = group else { return };
    let outcome = if db.is_autocommit() {
        Err("the transaction was rolled back by SQLite".to_string())
    } else {
        db.execute_batch("COMMIT").map_err(|e| {
            crate::inline::rollback(db);
            e.to_string()
        })
    };
    for m in group.members {
        let _ = m.send(outcome.clone());
    }
}

/// Tells the members of `group` that their work was lost.
fn fail(group: Option<Group>, why: &str) {
    for m in group.into_iter().flat_map(|g| g.members) {
        let _ = m.send(Err(why.to_string()));
    }
}

/// Waits for the commit of the group `id` that `rx` belongs to; after [`MEMBER_PATIENCE`],
/// commits it through `writer` instead.
pub(crate) async fn await_commit(
    writer: &Writer,
    id: u64,
    mut rx: oneshot::Receiver<Result<(), String>>,
) -> StoreResult<()> {
    let outcome = match tokio::time::timeout(MEMBER_PATIENCE, &mut rx).await {
        Ok(outcome) => outcome,
        Err(_) => {
            let mut w = writer.take_for_tx().await;
            if w.is_open(id) {
                w.finish_group().await;
            }
            drop(w);
            rx.await
        }
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError(format!("commit failed: {e}"))),
        Err(_) => Err(StoreError(
            "the database closed before the transaction was committed".into(),
        )),
    }
}

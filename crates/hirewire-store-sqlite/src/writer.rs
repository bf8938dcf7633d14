//! The one connection that writes.
//!
//! SQLite admits one writer at a time, so one connection does all writing and writers queue
//! for it here. Between uses it keeps its SQLite handle (and the statements prepared on it) on
//! the side of the inline statements (see `inline`), so a write transaction made of inline
//! statements costs no hand-off to sqlx's thread at all; the handle goes back to that thread
//! only when a statement runs through sqlx.

use std::sync::Arc;

use hirewire_core::StoreError;
use hirewire_core::store::StoreResult;
use sqlx::SqliteConnection;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::inline::Handle;

/// The writer connection, taken in turn.
#[derive(Clone)]
pub(crate) struct Writer(Arc<Mutex<WriterConn>>);

impl Writer {
    /// The writer over `conn`.
    pub(crate) fn new(conn: SqliteConnection) -> Self {
        Self(Arc::new(Mutex::new(WriterConn {
            handle: None,
            conn: Some(Box::new(conn)),
        })))
    }

    /// Waits for the writer connection and takes it.
    pub(crate) async fn take(&self) -> OwnedMutexGuard<WriterConn> {
        self.0.clone().lock_owned().await
    }
}

/// The writer connection, for one user at a time.
pub(crate) struct WriterConn {
    // Declared before `conn`: the handle must be given back before the connection goes.
    handle: Option<Handle>,
    conn: Option<Box<SqliteConnection>>,
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
        self.handle.as_ref().map(Handle::db).ok_or_else(closed)
    }

    /// The inline connection if it is at hand, with no waiting.
    pub(crate) fn inline_now(&self) -> Option<&rusqlite::Connection> {
        self.handle.as_ref().map(Handle::db)
    }

    /// Closes the connection; later uses fail.
    pub(crate) async fn close(&mut self) {
        self.handle = None;
        if let Some(conn) = self.conn.take() {
            let _ = sqlx::Connection::close(*conn).await;
        }
    }
}

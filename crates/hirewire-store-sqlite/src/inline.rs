//! Statements that run on the calling thread, with rusqlite, for the hot paths.
//!
//! sqlx's SQLite driver gives every connection a thread of its own and hands each statement
//! to it, and each row back, through channels. A point read is a few microseconds of SQLite,
//! but each hand-off wakes a sleeping thread; on a small machine under load the wake-ups, not
//! the statements, set the pace (BENCHMARKS.md: the same point read answers about three times
//! as many requests inline as through sqlx). So reads by id open their own read-only
//! connections and run where they are called, and write transactions take the writer
//! connection's handle from its thread once, run their statements inline, and give it back.
//!
//! Both stay short: a read by primary key or unique index, or the statements of one write
//! transaction on the one writer connection, which never waits for a lock held by this process.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hirewire_core::store::StoreResult;
use rusqlite::{Connection, OpenFlags};
use sqlx::SqliteConnection;
use sqlx::sqlite::LockedSqliteHandle;

use crate::rows::{OrStore, RowExt};

/// Idle read connections kept for reuse; more may be open while busy.
const MAX_IDLE: usize = 8;

/// Read-only connections to the database file, used on the calling thread.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Readers of the database file at `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .or_store()?;
        // In WAL mode a reader waits only while another connection recovers the WAL.
        conn.busy_timeout(Duration::from_secs(5)).or_store()?;
        conn.pragma_update(None, "cache_size", -16000).or_store()?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one), then keeps the connection for reuse.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match idle {
            Some(c) => c,
            None => self.open()?,
        };
        let out = f(&conn);
        if let Ok(mut v) = self.idle.lock()
            && v.len() < MAX_IDLE
        {
            v.push(conn);
        }
        out
    }
}

/// The first row of `sql` with `params`, mapped by `map`.
pub(crate) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl FnOnce(&InlineRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).or_store()?;
    let mut rows = stmt.query(params).or_store()?;
    match rows.next().or_store()? {
        Some(row) => map(&InlineRow::new(row)).map(Some),
        None => Ok(None),
    }
}

/// Every row of `sql` with `params`, mapped by `map`.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut map: impl FnMut(&InlineRow<'_, '_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).or_store()?;
    let mut rows = stmt.query(params).or_store()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().or_store()? {
        out.push(map(&InlineRow::new(row))?);
    }
    Ok(out)
}

/// Runs `sql` with `params`; the number of rows changed.
pub(crate) fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<usize> {
    conn.prepare_cached(sql)
        .or_store()?
        .execute(params)
        .or_store()
}

/// Rolls back the open transaction, if SQLite still has one: after some errors (disk full,
/// I/O) it has rolled back by itself.
pub(crate) fn rollback(db: &Connection) {
    if !db.is_autocommit() {
        let _ = db.execute_batch("ROLLBACK");
    }
}

/// A rusqlite row whose columns are found by name cheaply.
///
/// rusqlite finds a column by comparing the name of every column before it, so mapping a
/// row of n columns costs about n²/2 name comparisons (a sizeable share of a point read of a
/// job). The `*_from_row` functions read columns mostly in the statement's order, so the
/// column after the one found last is tried first. Matching is rusqlite's (ASCII case
/// insensitive); in a statement with two columns of the same name, the one nearest after the
/// last found wins, where rusqlite would take the first.
pub(crate) struct InlineRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    next: Cell<usize>,
}

impl<'a, 'r> InlineRow<'a, 'r> {
    fn new(row: &'a rusqlite::Row<'r>) -> Self {
        Self {
            row,
            next: Cell::new(0),
        }
    }

    fn index(&self, col: &str) -> StoreResult<usize> {
        let stmt: &rusqlite::Statement<'_> = self.row.as_ref();
        let hint = self.next.get();
        let i = if stmt
            .column_name(hint)
            .is_ok_and(|name| name.eq_ignore_ascii_case(col))
        {
            hint
        } else {
            stmt.column_index(col).or_store()?
        };
        self.next.set(i + 1);
        Ok(i)
    }

    fn get<T: rusqlite::types::FromSql>(&self, col: &str) -> StoreResult<T> {
        self.row.get(self.index(col)?).or_store()
    }
}

impl RowExt for InlineRow<'_, '_> {
    fn text_opt(&self, col: &str) -> StoreResult<Option<String>> {
        self.get(col)
    }
    fn int(&self, col: &str) -> StoreResult<i64> {
        self.get(col)
    }
    fn float_opt(&self, col: &str) -> StoreResult<Option<f64>> {
        self.get(col)
    }
}

/// The writer connection's SQLite handle, taken from its sqlx thread, with a rusqlite
/// connection over it. While it exists, the sqlx connection must not be used (its thread is
/// parked waiting for the handle); dropping it gives the handle back.
pub(crate) struct Handle {
    // Declared first so that it is dropped first: it finalizes its prepared statements while
    // the handle is still ours.
    db: Connection,
    _lock: LockedSqliteHandle<'static>,
}

// SAFETY: the handle is used by one thread at a time (it is owned, and `Connection` is not
// shared); sqlx itself moves the same handle between threads.
unsafe impl Send for Handle {}

impl Handle {
    /// Takes the handle of `conn` from its thread: one hand-off.
    ///
    /// # Safety
    ///
    /// `conn` must stay alive, and unused, until the returned `Handle` is dropped. The guard
    /// inside borrows the connection's shared state (an `Arc` that `conn` keeps alive), not
    /// `conn`'s own memory, so `conn` may move meanwhile (e.g. inside a `Box`).
    pub(crate) async unsafe fn take(conn: &mut SqliteConnection) -> StoreResult<Handle> {
        let mut lock = conn.lock_handle().await.or_store()?;
        let raw = lock.as_raw_handle().as_ptr();
        // SAFETY: the caller keeps `conn` alive and unused for the handle's lifetime (above).
        let lock: LockedSqliteHandle<'static> = unsafe { std::mem::transmute(lock) };
        // SAFETY: `raw` is a live connection that only this `Handle` uses until it is dropped;
        // `from_handle` does not close it.
        let db = unsafe { Connection::from_handle(raw) }.or_store()?;
        Ok(Handle { db, _lock: lock })
    }

    /// The connection to run statements on.
    pub(crate) fn db(&self) -> &Connection {
        &self.db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE t (a TEXT, b INTEGER, c REAL, d TEXT);
             INSERT INTO t VALUES ('x', 7, 1.5, NULL);",
        )
        .unwrap();
        db
    }

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let db = db();
        let got = one(&db, "SELECT * FROM t", [], |r| {
            Ok((
                r.float_opt("c")?,
                r.text_opt("a")?,
                r.text_opt("D")?,
                r.int("b")?,
                r.int("b")?,
                r.text_opt("a")?,
            ))
        })
        .unwrap();
        assert_eq!(
            got,
            Some((Some(1.5), Some("x".into()), None, 7, 7, Some("x".into())))
        );
    }

    #[test]
    fn a_missing_column_is_an_error_not_another_column() {
        let db = db();
        let err = one(&db, "SELECT a, b FROM t", [], |r| {
            r.text_opt("a")?;
            r.int("nope")
        });
        assert!(err.is_err(), "{err:?}");
        // The hint after the last column is out of range: found by name, not by position.
        let b = one(&db, "SELECT a, b FROM t", [], |r| {
            r.int("b")?;
            r.int("b")
        });
        assert_eq!(b.unwrap(), Some(7));
    }
}

//! WAL checkpoints on a thread of their own.
//!
//! By default SQLite copies the WAL back into the database file inside the commit that leaves
//! the WAL at 1,000 pages or more, on the committing connection. Here that is the one writer:
//! the copy and its two fsyncs then delay that commit, every writer queued behind it, and the
//! async runtime thread the commit runs on (BENCHMARKS.md: about 4 % of a write load's time,
//! in stalls of milliseconds). So the writer's commits only signal that the WAL has grown, and
//! a thread with a connection of its own copies it back (a PASSIVE checkpoint: it never waits
//! for readers or writers) while the writer goes on appending to the WAL.
//!
//! The WAL starts over from its beginning only when a writer begins a transaction and finds it
//! wholly copied back. A PASSIVE checkpoint copies the WAL as it was when the checkpoint began,
//! so under writes that never pause for as long as a checkpoint takes, the thread alone would
//! never leave it wholly copied and the WAL would grow with every commit. Past `WAL_CAP` pages
//! the writer therefore checkpoints itself, as SQLite would: it copies only what the thread has
//! not (usually little, but with the two fsyncs), and its next transaction starts the WAL over.

use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hirewire_core::store::StoreResult;
use rusqlite::{Connection, OpenFlags, ffi};

use crate::rows::OrStore;

/// WAL size, in pages, from which a commit asks for a checkpoint: SQLite's own default.
const WAL_PAGES: c_int = 1000;

/// WAL size, in pages, from which the writer checkpoints itself (see the module's doc).
const WAL_CAP: c_int = 4 * WAL_PAGES;

/// What a commit's hook reaches: the way to wake the thread, while it runs.
struct Signal {
    wake: Mutex<Option<SyncSender<()>>>,
}

/// The checkpoint thread of one database file. Dropping it stops the thread, which closes
/// its connection.
pub(crate) struct Checkpointer {
    signal: Arc<Signal>,
    /// Whether a connection's hook holds a reference to `signal`.
    hooked: bool,
    /// Checkpoints run so far; the tests read it.
    #[cfg_attr(not(test), allow(dead_code))]
    runs: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection to the database at `path` and starts the thread.
    pub(crate) fn start(path: PathBuf) -> StoreResult<Self> {
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .or_store()?;
        // Only while another connection recovers the WAL; a PASSIVE checkpoint never waits.
        conn.busy_timeout(Duration::from_secs(5)).or_store()?;
        let (wake, woken) = sync_channel(1);
        let runs = Arc::new(AtomicU64::new(0));
        let counted = runs.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &woken, &counted))
            .or_store()?;
        Ok(Self {
            signal: Arc::new(Signal {
                wake: Mutex::new(Some(wake)),
            }),
            hooked: false,
            runs,
            thread: Some(thread),
        })
    }

    /// Makes commits on `db` leave their checkpoints to this thread; SQLite's own checkpoint
    /// on commit is switched off for `db` (a connection has one WAL hook).
    ///
    /// The hook keeps a reference to the signal for as long as `db` may commit: SQLite says
    /// nothing when a connection closes, and sqlx closes it on a thread of its own. Call
    /// [`closed`](Self::closed) once `db` is known to be closed to give it back; otherwise a
    /// few dozen bytes stay allocated for the life of the process.
    ///
    /// # Safety
    ///
    /// `db` must be a live connection, used by no other thread during this call.
    pub(crate) unsafe fn install(&mut self, db: *mut ffi::sqlite3) {
        if self.hooked {
            return;
        }
        let arg = Arc::into_raw(self.signal.clone())
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: `db` is live (the caller's promise); `arg` is a strong reference, valid
        // until `closed` gives it back.
        unsafe { ffi::sqlite3_wal_hook(db, Some(on_commit), arg) };
        self.hooked = true;
    }

    /// Gives back the hook's reference to the signal.
    ///
    /// # Safety
    ///
    /// The connection given to [`install`](Self::install) must be closed.
    pub(crate) unsafe fn closed(&mut self) {
        if std::mem::take(&mut self.hooked) {
            // SAFETY: the reference `install` made with `Arc::into_raw`, no longer reachable.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.signal)) };
        }
    }

    /// How many checkpoints the thread has run.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

impl Drop for Checkpointer {
    /// Stops the thread after a last checkpoint, waiting for it: call it where blocking is
    /// fine (the store's `close` does so on a blocking thread).
    fn drop(&mut self) {
        // The thread ends when the channel closes. A poisoned lock still holds the sender,
        // and a thread that is never told to stop would never be joined.
        self.signal
            .wake
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The WAL hook: called by SQLite after each commit on the writer, once the commit has released
/// the write lock, with the WAL's size in pages.
unsafe extern "C" fn on_commit(
    arg: *mut c_void,
    db: *mut ffi::sqlite3,
    name: *const c_char,
    pages: c_int,
) -> c_int {
    if pages >= WAL_CAP {
        // Not waking the thread lets it go idle, so that this checkpoint finds the WAL free
        // at the next commit if the thread holds it now (a PASSIVE checkpoint then answers
        // SQLITE_BUSY at once rather than waiting).
        // SAFETY: SQLite passes the committing connection and the database's name, and
        // allows a checkpoint from within this hook (its own default hook does one).
        unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                db,
                name,
                ffi::SQLITE_CHECKPOINT_PASSIVE,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
    } else if pages >= WAL_PAGES {
        // SAFETY: `arg` is the reference `install` made, alive while the hook is set.
        let signal = unsafe { &*arg.cast::<Signal>() };
        if let Ok(wake) = signal.wake.lock()
            && let Some(wake) = wake.as_ref()
        {
            // A full channel means a checkpoint is already due: nothing more to say.
            let _ = wake.try_send(());
        }
    }
    ffi::SQLITE_OK
}

/// The thread: a checkpoint each time a commit asks, and a last one when the channel closes
/// (the store is closing: what the writer left in the WAL is copied back).
fn run(conn: &Connection, woken: &Receiver<()>, runs: &AtomicU64) {
    while woken.recv().is_ok() {
        checkpoint(conn);
        runs.fetch_add(1, Ordering::Relaxed);
    }
    checkpoint(conn);
}

fn checkpoint(conn: &Connection) {
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match outcome {
        Ok((busy, wal, copied)) => {
            if busy != 0 || wal >= i64::from(WAL_CAP) {
                tracing::debug!(
                    busy,
                    wal_pages = wal,
                    copied,
                    "WAL checkpoint blocked, or the WAL is past the writer's cap"
                );
            } else {
                tracing::trace!(wal_pages = wal, copied, "WAL checkpoint");
            }
        }
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; the next commit retries"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "hirewire-checkpoint-{name}-{}.db",
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    }

    fn writer(path: &PathBuf) -> Connection {
        let db = Connection::open(path).unwrap();
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        )
        .unwrap();
        db
    }

    /// Commits `rows` rows of 3,000 bytes, one transaction each (each commit appends about
    /// 2.8 pages to the WAL).
    fn fill(db: &Connection, rows: usize) {
        let body = "x".repeat(3000);
        for _ in 0..rows {
            db.execute("INSERT INTO t (body) VALUES (?1)", [&body])
                .unwrap();
        }
    }

    /// A checkpointer with no thread: its hook signals a channel nobody reads.
    fn idle() -> (Checkpointer, Receiver<()>) {
        let (wake, woken) = sync_channel(1);
        let cp = Checkpointer {
            signal: Arc::new(Signal {
                wake: Mutex::new(Some(wake)),
            }),
            hooked: false,
            runs: Arc::default(),
            thread: None,
        };
        (cp, woken)
    }

    /// A writer on a fresh database at `path`, its commits leaving checkpoints to a thread.
    fn started(path: &PathBuf) -> (Connection, Checkpointer) {
        let db = writer(path);
        let mut cp = Checkpointer::start(path.clone()).unwrap();
        // SAFETY: `db` is live and used by this thread only.
        unsafe { cp.install(db.handle()) };
        (db, cp)
    }

    fn file_len(path: &PathBuf) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn the_thread_copies_the_wal_back_and_the_commits_do_not() {
        let path = temp_db("copies");
        let (db, mut cp) = started(&path);
        let before = file_len(&path);
        fill(&db, 1200);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cp.runs() == 0 || file_len(&path) < before + 3_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 10 s: {} runs, file {} bytes",
                cp.runs(),
                file_len(&path)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(db);
        // SAFETY: the connection is closed.
        unsafe { cp.closed() };
    }

    #[test]
    fn the_wal_starts_over_under_writes_that_never_pause() {
        // A PASSIVE checkpoint copies the WAL as it was when the checkpoint began; a writer
        // that commits while every checkpoint runs never finds the WAL wholly copied at its
        // next BEGIN, so without the writer's own checkpoint past `WAL_CAP` the WAL would
        // never start over and would grow with every commit (to some 110,000 pages here).
        let path = temp_db("bounded");
        let (db, mut cp) = started(&path);
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let mut largest = 0;
        for _ in 0..40 {
            fill(&db, 1000);
            largest = largest.max(file_len(&wal));
        }
        let page: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let page = page as u64;
        // Past the cap the writer's checkpoint waits for the thread's current one (and the one
        // already asked for) to end while the writer goes on: about 10,000 pages here.
        assert!(
            largest <= 5 * WAL_CAP as u64 * page,
            "the WAL reached {} pages (the cap is {WAL_CAP})",
            largest / page
        );
        assert!(cp.runs() > 0, "the thread never ran");
        drop(db);
        // SAFETY: the connection is closed.
        unsafe { cp.closed() };
    }

    #[test]
    fn with_the_hook_and_no_thread_nothing_is_copied() {
        // The control for `the_thread_copies_the_wal_back_and_the_commits_do_not`: the hook
        // has switched SQLite's own checkpoint off, so without the thread (and below the cap)
        // the rows stay in the WAL.
        let path = temp_db("control");
        let db = writer(&path);
        let (mut cp, _woken) = idle();
        let before = file_len(&path);
        // SAFETY: `db` is live and used by this thread only.
        unsafe { cp.install(db.handle()) };
        fill(&db, 1200);
        assert!(
            file_len(&path) < before + 1_000_000,
            "the commits checkpointed: the file grew from {before} to {} bytes",
            file_len(&path)
        );
        drop(db);
        // SAFETY: the connection is closed.
        unsafe { cp.closed() };
        assert_eq!(
            Arc::strong_count(&cp.signal),
            1,
            "the hook's reference was not given back"
        );
    }

    #[test]
    fn dropping_it_stops_the_thread_after_a_last_checkpoint() {
        let path = temp_db("stops");
        let db = writer(&path);
        let (mut idle, _woken) = idle();
        // SAFETY: `db` is live and used by this thread only.
        unsafe { idle.install(db.handle()) };
        fill(&db, 300);
        let before = file_len(&path);
        let cp = Checkpointer::start(path.clone()).unwrap();
        let dropping = std::thread::spawn(move || drop(cp));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !dropping.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread did not stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            file_len(&path) > before + 500_000,
            "no last checkpoint: the file stayed at {} bytes",
            file_len(&path)
        );
        drop(db);
        // SAFETY: the connection is closed.
        unsafe { idle.closed() };
    }
}

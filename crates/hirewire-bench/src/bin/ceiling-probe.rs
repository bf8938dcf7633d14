//! `ceiling-probe`: the ceiling that `bench/run.sh` measures Hirewire against, in the same run.
//!
//! It is the least an axum + sqlx service can do per request, on the same crates, runtime and
//! machine as Hirewire, with no auth, rate limits, audit or middleware:
//!
//! - `GET /bare` answers a small fixed JSON object.
//! - `GET /sqlite/{id}` reads one row by primary key from a SQLite database in WAL mode and
//!   answers it as JSON (404 when there is no such row). The database is created afresh at
//!   start and seeded with 1,000 rows (ids 1–1000).
//! - `GET /sqlite-inline/{id}` reads the same row with rusqlite on the request's own thread,
//!   with no hand-off to a connection thread: how Hirewire's SQLite store reads by id.
//!
//! The read pool is sized like Hirewire's SQLite read pool (twice the cores, at least 4), and
//! the process allocator is Hirewire's (mimalloc), so that ratios compare like with like.
//!
//! ```text
//! ceiling-probe [--bind 127.0.0.1:8090] [--db PATH]
//! ```
//!
//! `--db` defaults to a file in the temporary directory. Any existing file at that path (and
//! its `-wal`/`-shm`) is replaced, and all three are removed at shutdown (SIGINT or SIGTERM).
//! When it listens, it prints one JSON line to stdout: `{"bind":…,"db":…,"rows":1000}`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

const ROWS: i64 = 1000;

#[derive(Serialize)]
struct Bare {
    status: &'static str,
    service: &'static str,
}

/// One seeded row, shaped loosely like a small job.
#[derive(Serialize, sqlx::FromRow)]
struct Item {
    id: i64,
    title: String,
    city: String,
    country: String,
    status: String,
    revision: i64,
    created_at: String,
}

async fn bare() -> Json<Bare> {
    Json(Bare {
        status: "ok",
        service: "ceiling-probe",
    })
}

/// Read connections used on the calling thread, with no hand-off to a connection thread.
struct Inline {
    conns: std::sync::Mutex<Vec<rusqlite::Connection>>,
    path: PathBuf,
}

impl Inline {
    fn get(&self, id: i64) -> Result<Option<Item>, rusqlite::Error> {
        let conn = self.conns.lock().ok().and_then(|mut v| v.pop());
        let conn = match conn {
            Some(c) => c,
            None => rusqlite::Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let item = {
            let mut stmt = conn.prepare_cached(
                "SELECT id, title, city, country, status, revision, created_at FROM items WHERE id = ?",
            )?;
            let mut rows = stmt.query([id])?;
            match rows.next()? {
                Some(r) => Some(Item {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    city: r.get(2)?,
                    country: r.get(3)?,
                    status: r.get(4)?,
                    revision: r.get(5)?,
                    created_at: r.get(6)?,
                }),
                None => None,
            }
        };
        if let Ok(mut v) = self.conns.lock() {
            v.push(conn);
        }
        Ok(item)
    }
}

async fn inline_item(
    State(inline): State<std::sync::Arc<Inline>>,
    UrlPath(id): UrlPath<i64>,
) -> Result<Json<Item>, StatusCode> {
    inline
        .get(id)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

async fn sqlite_item(
    State(pool): State<SqlitePool>,
    UrlPath(id): UrlPath<i64>,
) -> Result<Json<Item>, StatusCode> {
    sqlx::query_as::<_, Item>(
        "SELECT id, title, city, country, status, revision, created_at FROM items WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .map(Json)
    .ok_or(StatusCode::NOT_FOUND)
}

struct Args {
    bind: String,
    db: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bind: "127.0.0.1:8090".into(),
        db: std::env::temp_dir().join(format!("hirewire-ceiling-{}.db", std::process::id())),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => args.bind = value()?,
            "--db" => args.db = PathBuf::from(value()?),
            "-h" | "--help" => return Err("usage: ceiling-probe [--bind ADDR] [--db PATH]".into()),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: ceiling-probe [--bind ADDR] [--db PATH]"
                ));
            }
        }
    }
    Ok(args)
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Creates the WAL database at `db` with `ROWS` rows, and a read pool on it.
async fn open_seeded(db: &Path) -> Result<SqlitePool, sqlx::Error> {
    remove_db(db);
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    {
        let seed = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::query(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT NOT NULL, city TEXT NOT NULL, country TEXT NOT NULL, \
             status TEXT NOT NULL, revision INTEGER NOT NULL, created_at TEXT NOT NULL)",
        )
        .execute(&seed)
        .await?;
        let mut tx = seed.begin().await?;
        for id in 1..=ROWS {
            sqlx::query("INSERT INTO items (id, title, city, country, status, revision, created_at) VALUES (?, ?, 'Leeds', 'GB', 'active', 1, '2026-01-01T00:00:00Z')")
                .bind(id)
                .bind(format!("Senior Rust engineer #{id}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        seed.close().await;
    }
    let readers = std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .max(4) as u32;
    SqlitePoolOptions::new()
        .max_connections(readers)
        .min_connections(1)
        .connect_with(options.read_only(true))
        .await
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let pool = open_seeded(&args.db).await?;
    let app = Router::new()
        .route("/bare", get(bare))
        .route("/sqlite/{id}", get(sqlite_item))
        .with_state(pool.clone())
        .merge(
            Router::new()
                .route("/sqlite-inline/{id}", get(inline_item))
                .with_state(std::sync::Arc::new(Inline {
                    conns: std::sync::Mutex::new(Vec::new()),
                    path: args.db.clone(),
                })),
        );
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    let addr = listener.local_addr()?;
    println!(
        "{}",
        serde_json::json!({ "bind": addr.to_string(), "db": args.db.display().to_string(), "rows": ROWS })
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    pool.close().await;
    Ok(())
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let result = run(&args).await;
    remove_db(&args.db);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ceiling-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

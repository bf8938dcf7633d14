//! Starts the real server on a random port over a fresh database, SQLite or PostgreSQL, and
//! cleans the database up afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hirewire_core::Actor;
use hirewire_core::model::NewKey;
use hirewire_core::scope::Scope;
use hirewire_core::service::{keys, tenants};
use hirewire_core::store::Store;
use hirewire_server::{Config, Server};
use hirewire_store_postgres::PostgresStore;
use hirewire_store_sqlite::SqliteStore;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tokio::sync::OnceCell;

/// The two backends every test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each listed test function.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Postgres).await })+
        }
    };
}

fn postgres_url() -> String {
    std::env::var("HIREWIRE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

static PG_REACHABLE: OnceCell<bool> = OnceCell::const_new();

async fn postgres_reachable() -> bool {
    *PG_REACHABLE
        .get_or_init(|| async {
            use sqlx::Connection;
            match sqlx::PgConnection::connect(&postgres_url()).await {
                Ok(c) => {
                    let _ = c.close().await;
                    true
                }
                Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!(
                    "PostgreSQL is unreachable at {} under CI=true: {e}",
                    postgres_url()
                ),
                Err(e) => {
                    eprintln!("skipping PostgreSQL tests: {e}");
                    false
                }
            }
        })
        .await
}

/// A fresh database of one backend, removed on drop.
pub struct Db {
    pub backend: Backend,
    location: String,
    /// Only the owner removes the database on drop.
    owner: bool,
}

impl Db {
    /// Creates an empty database; `None` when PostgreSQL is unreachable outside CI.
    pub async fn create(backend: Backend) -> Option<Db> {
        let name = hirewire_core::ids::new_id("hwtest");
        let location = match backend {
            Backend::Sqlite => std::env::temp_dir()
                .join(format!("{name}.db"))
                .display()
                .to_string(),
            Backend::Postgres => {
                if !postgres_reachable().await {
                    return None;
                }
                name
            }
        };
        Some(Db {
            backend,
            location,
            owner: true,
        })
    }

    /// The same database for a second server, as another process would share it.
    pub fn same_database(&self) -> Db {
        Db {
            backend: self.backend,
            location: self.location.clone(),
            owner: false,
        }
    }

    /// Opens a new connection pool on the database (as another process would) and migrates it.
    pub async fn open(&self) -> (Arc<dyn Store>, Closer) {
        match self.backend {
            Backend::Sqlite => {
                let s = SqliteStore::connect(&format!("sqlite://{}", self.location))
                    .await
                    .expect("open sqlite");
                s.migrate().await.expect("migrate sqlite");
                (Arc::new(s.clone()), Closer::Sqlite(s))
            }
            Backend::Postgres => {
                let s = PostgresStore::connect_in_schema(&postgres_url(), &self.location)
                    .await
                    .expect("open postgres");
                s.migrate().await.expect("migrate postgres");
                (Arc::new(s.clone()), Closer::Postgres(s))
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        let location = self.location.clone();
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{location}{suffix}"));
                }
            }
            Backend::Postgres => {
                // Drop runs inside the test's runtime, which cannot block: clean up from a thread.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        use sqlx::Connection;
                        if let Ok(mut c) = sqlx::PgConnection::connect(&postgres_url()).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP SCHEMA IF EXISTS \"{location}\" CASCADE"
                            )))
                            .execute(&mut c)
                            .await;
                            let _ = c.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Closes a store's connections, to simulate a database outage.
pub enum Closer {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Closer {
    /// Closes every connection of the store.
    pub async fn close(&self) {
        match self {
            Closer::Sqlite(s) => s.close().await,
            Closer::Postgres(s) => s.close().await,
        }
    }
}

/// A running server with a bootstrapped tenant and admin key.
pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// The admin key of the `default` tenant.
    pub key: String,
    pub tenant_id: String,
    pub store: Arc<dyn Store>,
    pub closer: Closer,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    // Last, so the database is removed after the server stops.
    pub db: Db,
}

/// Settings that make tests fast: workers tick often, limits are out of the way.
pub fn test_config() -> Config {
    let mut c = Config {
        expiry_interval_secs: 1,
        audit_flush_interval_ms: 20,
        key_use_flush_interval_ms: 100,
        ..Config::default()
    };
    c.rate_limits.jobs = 100_000;
    c.rate_limits.default = 100_000;
    c.rate_limits.candidate_read = 100_000;
    c.rate_limits.candidate_search = 100_000;
    c
}

/// Starts a server with the test settings.
pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

/// Starts a server with the test settings as changed by `tweak`.
pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let db = Db::create(backend).await?;
    Some(spawn_on(db, tweak).await)
}

/// Starts a server over an existing database.
pub async fn spawn_on(db: Db, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (store, closer) = db.open().await;
    let (key, plaintext) = match tenants::bootstrap(store.as_ref(), None)
        .await
        .expect("bootstrap")
    {
        Some((k, p)) => (k, p),
        None => {
            let t = store
                .tenant_by_name("default")
                .await
                .expect("tenant")
                .expect("default tenant");
            let input = NewKey {
                name: "test admin".into(),
                scopes: vec![Scope::Admin],
                expires_at: None,
                allowed_ips: vec![],
            };
            keys::create(store.as_ref(), &Actor::system(&t.id), None, input)
                .await
                .expect("key")
        }
    };
    let tenant_id = store
        .key(None, &key.id)
        .await
        .expect("read key")
        .expect("key exists")
        .tenant_id;
    let mut config = test_config();
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new(config, store.clone());
    let handle = tokio::spawn(server.run(listener, async move {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
        key: plaintext,
        tenant_id,
        store,
        closer,
        shutdown: Some(tx),
        handle: Some(handle),
        db,
    }
}

impl TestApp {
    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the admin key.
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.with_key(&self.key, method, path)
    }

    /// A request with the given key.
    pub fn with_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    /// `POST` JSON with the admin key and return status and body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.req(Method::POST, path).json(&body)).await
    }

    /// `GET` with the admin key and return status and body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.req(Method::GET, path)).await
    }

    /// Creates a draft job and returns it.
    pub async fn create_job(&self, title: &str) -> Value {
        let (status, body) = self
            .post("/api/v1/jobs", serde_json::json!({ "title": title }))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Creates another tenant with an admin key; returns (tenant id, key).
    pub async fn other_tenant(&self, name: &str, credits: i64) -> (String, String) {
        let t = tenants::create(self.store.as_ref(), name, credits, false)
            .await
            .expect("tenant");
        (t.id.clone(), self.key_for(&t.id, vec![Scope::Admin]).await)
    }

    /// Creates a key with the given scopes in a tenant; returns its plaintext.
    pub async fn key_for(&self, tenant_id: &str, scopes: Vec<Scope>) -> String {
        let input = NewKey {
            name: "test".into(),
            scopes,
            expires_at: None,
            allowed_ips: vec![],
        };
        keys::create(self.store.as_ref(), &Actor::system(tenant_id), None, input)
            .await
            .expect("key")
            .1
    }

    /// The tenant's credit balance.
    pub async fn credits(&self, tenant_id: &str) -> i64 {
        self.store
            .tenant(tenant_id)
            .await
            .expect("tenant")
            .expect("exists")
            .credits
    }

    /// Waits until the dispatcher has taken every committed event (they then show in the feed).
    pub async fn settle(&self) {
        let done = eventually(10, || async {
            (self.store.outbox_depth().await.expect("outbox depth") == 0).then_some(())
        })
        .await;
        assert!(done.is_some(), "the dispatcher did not drain the outbox");
    }

    /// Every event of the tenant in the feed, oldest first, once dispatched.
    pub async fn events(&self, tenant_id: &str) -> Vec<hirewire_core::event::Event> {
        self.settle().await;
        self.store
            .list_events(tenant_id, 0, 100_000)
            .await
            .expect("events")
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    }

    /// Stops the server as SIGTERM would and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server result");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Sends a request and returns its status and JSON body (`Null` when empty or not JSON).
pub async fn send(req: RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let bytes = res.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls `f` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts the error envelope: exactly `code`, `message`, `request_id` and maybe `details`.
pub fn assert_envelope(body: &Value, code: &str) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    assert_eq!(
        obj.get("code").and_then(Value::as_str),
        Some(code),
        "{body}"
    );
    assert!(
        obj.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        obj.get("request_id")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    for k in obj.keys() {
        assert!(
            ["code", "message", "request_id", "details"].contains(&k.as_str()),
            "unexpected field {k} in {body}"
        );
    }
}

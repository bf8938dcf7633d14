//! Outgoing webhooks across real processes (the webhooks issue, acceptance criteria 6 and 7):
//! `hirewire serve` children killed with SIGKILL mid-burst or running side by side on one
//! PostgreSQL, and a local receiver that writes down every delivery it gets.
//!
//! The tests in this file run one at a time (they start several servers each and would only
//! slow each other down on a small machine). Each server's stdout and stderr go to a file in
//! the temporary directory whose tail is printed if the test fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hirewire");
/// The admin key every test database is bootstrapped with.
const KEY: &str = "hw_live_WebhooksProcessTestAdminKey01";
/// One test at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Settings every server of these tests runs with.
const COMMON_ENV: &[(&str, &str)] = &[
    ("HIREWIRE_LOG", "info,sqlx=warn"),
    ("HIREWIRE_BOOTSTRAP_KEY", KEY),
    ("HIREWIRE_WEBHOOKS__ALLOW_INSECURE_TARGETS", "true"),
    ("HIREWIRE_WEBHOOKS__RETRY_SCHEDULE", r#"["300ms"]"#),
    ("HIREWIRE_WEBHOOKS__RETRY_JITTER", "0"),
    ("HIREWIRE_WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ("HIREWIRE_RATE_LIMITS__JOBS", "1000000"),
    ("HIREWIRE_RATE_LIMITS__DEFAULT", "1000000"),
    ("HIREWIRE_EXPIRY_INTERVAL_SECS", "1"),
];

// ---------------------------------------------------------------------------------------------
// Servers

/// A running `hirewire serve`; killed (SIGKILL) when dropped.
struct Serve {
    name: String,
    child: Child,
    base: String,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tail(path: &PathBuf, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Serve {
    async fn start(name: &str, db: &str, env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "{}-{name}.log",
            hirewire_core::ids::new_id("hwwhp")
        ));
        let out = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                db,
            ])
            .env_remove("HIREWIRE_DATABASE_URL")
            .envs(COMMON_ENV.iter().copied())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start hirewire");
        let mut serve = Serve {
            name: name.to_string(),
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = serve.child.try_wait() {
                panic!(
                    "server {name} exited early ({status}):\n{}",
                    tail(&serve.log, 40)
                );
            }
            if let Ok(res) = client
                .get(format!("{}/healthz/ready", serve.base))
                .send()
                .await
                && res.status() == 200
            {
                return serve;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "server {name} did not become ready:\n{}",
            tail(&serve.log, 40)
        );
    }

    /// SIGKILL, no chance to finish anything.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "a killed server does not exit cleanly");
    }

    /// Fails the test if the process died on its own (a panic, say).
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "server {} exited unexpectedly ({status}):\n{}",
                self.name,
                tail(&self.log, 60)
            );
        }
    }

    /// Lines of the log that look like trouble.
    fn problems(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("panicked") || l.contains(" ERROR "))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of server {} ({}) ---\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A fresh SQLite database file, removed with its WAL when dropped.
struct SqliteDb {
    path: PathBuf,
}

impl SqliteDb {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("{}.db", hirewire_core::ids::new_id("hwwhp")));
        SqliteDb { path }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A schema of its own in the test PostgreSQL; dropped with everything in it when dropped.
/// Declare it before the servers that use it, so that they are gone before it is dropped.
struct PgSchema {
    admin_url: String,
    schema: String,
    url: String,
}

impl PgSchema {
    /// `None` (the test is skipped) when PostgreSQL is unreachable, unless `CI=true`.
    async fn create() -> Option<PgSchema> {
        use sqlx::Connection;
        let admin_url = std::env::var("HIREWIRE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = hirewire_core::ids::new_id("hwwhp");
        let created = async {
            let mut c = sqlx::PgConnection::connect(&admin_url).await.ok()?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                .execute(&mut c)
                .await
                .ok()?;
            Some(())
        }
        .await;
        if created.is_none() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "PostgreSQL is unreachable under CI=true"
            );
            eprintln!("skipping: PostgreSQL unreachable at {admin_url}");
            return None;
        }
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(PgSchema {
            admin_url,
            schema,
            url,
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.admin_url.clone(), self.schema.clone());
        // A thread of its own: this may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

// ---------------------------------------------------------------------------------------------
// The receiver

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Receipt {
    delivery_id: String,
    event_id: String,
    event: String,
    job_id: String,
    at: Instant,
    answered: u16,
}

#[derive(Default)]
struct Inbox {
    /// Answer 500 the first time a delivery id is seen, 200 after.
    fail_first: bool,
    /// How long to take over each answer (after writing the request down).
    delay: Duration,
    seen: Mutex<HashSet<String>>,
    receipts: Mutex<Vec<Receipt>>,
}

/// A local webhook receiver (an axum server on the test's runtime).
#[derive(Clone)]
struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: String) -> StatusCode {
    let at = Instant::now();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let delivery_id = header("x-webhook-delivery-id");
    let first = inbox.seen.lock().unwrap().insert(delivery_id.clone());
    let answered = if inbox.fail_first && first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    inbox.receipts.lock().unwrap().push(Receipt {
        delivery_id,
        event_id: body["event_id"].as_str().unwrap_or_default().to_string(),
        event: body["event"].as_str().unwrap_or_default().to_string(),
        job_id: body["data"]["job"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        at,
        answered: answered.as_u16(),
    });
    if !inbox.delay.is_zero() {
        tokio::time::sleep(inbox.delay).await;
    }
    answered
}

impl Receiver {
    async fn start(fail_first: bool, delay: Duration) -> Receiver {
        let inbox = Arc::new(Inbox {
            fail_first,
            delay,
            ..Inbox::default()
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            inbox,
        }
    }

    fn receipts(&self) -> Vec<Receipt> {
        self.inbox.receipts.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.inbox.receipts.lock().unwrap().len()
    }

    fn distinct_deliveries(&self) -> usize {
        self.inbox.seen.lock().unwrap().len()
    }
}

// ---------------------------------------------------------------------------------------------
// The API

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn post(c: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    match c.post(url).bearer_auth(KEY).json(&body).send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn get(c: &reqwest::Client, url: &str) -> (u16, Value) {
    match c.get(url).bearer_auth(KEY).send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

async fn subscribe(c: &reqwest::Client, base: &str, url: &str, events: &[&str]) -> String {
    let (status, body) = post(
        c,
        &format!("{base}/api/v1/webhooks"),
        json!({ "url": url, "events": events }),
    )
    .await;
    assert_eq!(status, 201, "subscribe: {body}");
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
    body["id"].as_str().unwrap().to_string()
}

/// What a burst of `POST /api/v1/jobs` came to.
#[derive(Debug, Default)]
struct Burst {
    /// The ids of the jobs answered 201.
    created: Vec<String>,
    /// Requests that got no answer (the server was killed under them).
    unanswered: usize,
    /// Answers other than 201: `(status, body)`.
    refused: Vec<(u16, Value)>,
}

/// Creates `n` jobs, `concurrency` requests at a time, spread over `bases` in turn. Stops
/// taking new requests once `stop` is set; `created` counts the 201s as they come.
async fn create_jobs(
    bases: Vec<String>,
    n: usize,
    concurrency: usize,
    label: &str,
    stop: Arc<AtomicBool>,
    created: Arc<AtomicUsize>,
) -> Burst {
    let c = client();
    let next = Arc::new(AtomicUsize::new(0));
    let burst = Arc::new(Mutex::new(Burst::default()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (c, next, burst, stop, created) = (
            c.clone(),
            next.clone(),
            burst.clone(),
            stop.clone(),
            created.clone(),
        );
        let bases = bases.clone();
        let label = label.to_string();
        workers.spawn(async move {
            loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                let base = &bases[i % bases.len()];
                let (status, body) = post(
                    &c,
                    &format!("{base}/api/v1/jobs"),
                    json!({ "title": format!("{label} {i}") }),
                )
                .await;
                let mut b = burst.lock().unwrap();
                match status {
                    201 => {
                        b.created.push(body["id"].as_str().unwrap().to_string());
                        created.fetch_add(1, Ordering::SeqCst);
                    }
                    0 => b.unanswered += 1,
                    _ => b.refused.push((status, body)),
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    std::mem::take(&mut *burst.lock().unwrap())
}

async fn create_all(bases: &[String], n: usize, label: &str) -> Vec<String> {
    let burst = create_jobs(
        bases.to_vec(),
        n,
        16,
        label,
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    )
    .await;
    assert_eq!(
        (burst.unanswered, burst.refused.len()),
        (0, 0),
        "every job is created: {:?}",
        burst.refused.first()
    );
    assert_eq!(burst.created.len(), n);
    burst.created
}

/// Every event of the given types in the feed, all pages, oldest first.
async fn feed(c: &reqwest::Client, base: &str, types: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = get(
            c,
            &format!("{base}/api/v1/events?types={types}&limit=200&after={after}"),
        )
        .await;
        assert_eq!(status, 200, "the feed: {page}");
        let got = page["items"].as_array().unwrap();
        if got.is_empty() {
            return items;
        }
        items.extend(got.iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_string();
    }
}

/// Every delivery of a subscription, all pages.
async fn deliveries(c: &reqwest::Client, base: &str, webhook: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut url = format!("{base}/api/v1/webhooks/{webhook}/deliveries?limit=200");
        if !cursor.is_empty() {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let (status, page) = get(c, &url).await;
        assert_eq!(status, 200, "deliveries: {page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) if !next.is_empty() => cursor = next.to_string(),
            _ => return items,
        }
    }
}

/// Receipts grouped by delivery id.
fn by_delivery(receipts: &[Receipt]) -> BTreeMap<&str, Vec<&Receipt>> {
    let mut m: BTreeMap<&str, Vec<&Receipt>> = BTreeMap::new();
    for r in receipts {
        m.entry(r.delivery_id.as_str()).or_default().push(r);
    }
    m
}

/// Waits (polling) until `done` holds; false on timeout.
async fn until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

// ---------------------------------------------------------------------------------------------
// 6. Nothing lost

const BURST: usize = 1000;
/// Kill once the receiver has seen this many deliveries…
const KILL_AFTER_RECEIPTS: usize = 250;
/// …or once this many jobs are in, whichever comes first, so that the kill is mid-burst.
const KILL_AFTER_CREATED: usize = 700;
/// How long the receiver of the kill tests takes over each answer.
const RECEIVER_DELAY: Duration = Duration::from_millis(100);

async fn nothing_is_lost_when_the_server_is_killed(db: &str, backend: &str) {
    let started = Instant::now();
    // A short lease, so that what the killed process held is sent again within seconds; a
    // timeout far above the receiver's delay, so that nothing else is sent twice.
    let env = [
        ("HIREWIRE_WEBHOOKS__TIMEOUT_SECS", "4"),
        ("HIREWIRE_WEBHOOKS__LEASE_SECS", "5"),
    ];
    let c = client();
    // A receiver that takes a moment over each answer, so that the kill catches deliveries
    // it has got but the server has not yet written down: those are sent again.
    let receiver = Receiver::start(false, RECEIVER_DELAY).await;
    let mut first = Serve::start("first", db, &env).await;
    subscribe(&c, &first.base, &receiver.url, &["job.created"]).await;

    // The burst, against the first server; it is killed under it.
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicUsize::new(0));
    let burst = tokio::spawn(create_jobs(
        vec![first.base.clone()],
        BURST,
        16,
        "before the kill",
        stop.clone(),
        created.clone(),
    ));
    let triggered = until(60, || {
        receiver.count() >= KILL_AFTER_RECEIPTS
            || created.load(Ordering::SeqCst) >= KILL_AFTER_CREATED
    })
    .await;
    assert!(triggered, "the burst made no progress");
    let (seen_at_kill, created_at_kill) = (receiver.count(), created.load(Ordering::SeqCst));
    first.assert_running();
    // No new requests; those under way fail when the process dies.
    stop.store(true, Ordering::SeqCst);
    first.kill();
    let before = burst.await.unwrap();
    assert!(
        before.refused.is_empty(),
        "answers other than 201 before the kill: {:?}",
        &before.refused[..before.refused.len().min(3)]
    );
    assert!(
        before.created.len() < BURST,
        "the kill came after the burst ended"
    );
    let first_problems = first.problems();
    // Let the receiver finish with what the dead process had sent it, so that every receipt
    // before `restarted` is the first process's and every one after it the second's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let restarted = Instant::now();

    // The rest of the thousand, against a new process on the same database.
    let second = Serve::start("second", db, &env).await;
    let rest = create_all(
        std::slice::from_ref(&second.base),
        BURST - before.created.len(),
        "after the restart",
    )
    .await;
    let created: HashSet<String> = before.created.iter().chain(&rest).cloned().collect();
    assert_eq!(created.len(), BURST);

    // Every job in the database (those answered 201 and those whose answer the kill cut off)
    // has its event in the feed, and every event in the feed reaches the receiver.
    let (status, page) = get(
        &c,
        &format!("{}/api/v1/jobs?limit=1&include_total=true", second.base),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let jobs_in_db = page["total"].as_u64().unwrap() as usize;
    assert!(jobs_in_db >= BURST && jobs_in_db <= BURST + before.unanswered);
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let events = feed(&c, &second.base, "job.created").await;
        let in_feed: HashSet<&str> = events
            .iter()
            .map(|e| e["data"]["job"]["id"].as_str().unwrap())
            .collect();
        let received: HashSet<String> = receiver
            .receipts()
            .into_iter()
            .map(|r| r.event_id)
            .collect();
        let not_in_feed = created
            .iter()
            .filter(|j| !in_feed.contains(j.as_str()))
            .count();
        let undelivered: Vec<&str> = events
            .iter()
            .map(|e| e["event_id"].as_str().unwrap())
            .filter(|id| !received.contains(*id))
            .collect();
        if not_in_feed == 0 && events.len() >= jobs_in_db && undelivered.is_empty() {
            break events;
        }
        if Instant::now() > deadline {
            let examples = &undelivered[..undelivered.len().min(10)];
            panic!(
                "{backend}: after 60 s, {} events in the feed for {jobs_in_db} jobs, {} jobs answered 201 without an event in the feed, \
                 {} events never delivered (e.g. {examples:?}); the receiver got {} requests",
                events.len(),
                not_in_feed,
                undelivered.len(),
                receiver.count()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    // The feed holds each event once, the receiver got nothing else, and every receipt of one
    // event carries one delivery id.
    let feed_ids: HashSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        feed_ids.len(),
        events.len(),
        "an event is twice in the feed"
    );
    assert_eq!(events.len(), jobs_in_db, "one job.created per job");
    let receipts = receiver.receipts();
    let mut per_event: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in &receipts {
        assert!(
            feed_ids.contains(r.event_id.as_str()),
            "received an event that is not in the feed: {r:?}"
        );
        assert_eq!(r.event, "job.created");
        assert!(
            r.delivery_id.starts_with("dlv_"),
            "a delivery without its id: {r:?}"
        );
        per_event
            .entry(&r.event_id)
            .or_default()
            .insert(&r.delivery_id);
    }
    let split: Vec<_> = per_event.iter().filter(|(_, d)| d.len() > 1).collect();
    assert!(
        split.is_empty(),
        "{backend}: receipts of one event with different delivery ids: {:?}",
        &split[..split.len().min(5)]
    );
    let duplicates = receipts.len() - per_event.len();
    // A delivery comes twice only when the kill cut it short: once from each process.
    let grouped = by_delivery(&receipts);
    let odd: Vec<_> = grouped
        .iter()
        .filter(|(_, r)| {
            r.len() > 2 || (r.len() == 2 && !(r[0].at < restarted && r[1].at >= restarted))
        })
        .map(|(id, r)| {
            (
                id,
                r.len(),
                r.iter().map(|r| r.at < restarted).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert!(
        odd.is_empty(),
        "{backend}: deliveries sent twice by one process, (id, receipts, each before the restart?): {:?}",
        &odd[..odd.len().min(5)]
    );
    let twice = grouped.values().filter(|r| r.len() > 1).count();
    eprintln!(
        "{backend}: killed after {created_at_kill} jobs created and {seen_at_kill} deliveries received \
         ({} requests unanswered); {} events in the feed ({} jobs answered 201), {} receipts, \
         {duplicates} duplicates over {twice} deliveries; {:.1} s",
        before.unanswered,
        events.len(),
        created.len(),
        receipts.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        first_problems.iter().all(|l| !l.contains("panicked")),
        "the first server panicked: {first_problems:?}"
    );
    let problems = second.problems();
    assert!(
        problems.iter().all(|l| !l.contains("panicked")),
        "the second server panicked: {problems:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_lost_when_the_server_is_killed_sqlite() {
    let _serial = SERIAL.lock().await;
    let db = SqliteDb::new();
    nothing_is_lost_when_the_server_is_killed(&db.url(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_lost_when_the_server_is_killed_postgres() {
    let _serial = SERIAL.lock().await;
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    nothing_is_lost_when_the_server_is_killed(&pg.url, "postgres").await;
}

// ---------------------------------------------------------------------------------------------
// 7. Many nodes

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_deliver_each_delivery_once_postgres() {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let Some(pg) = PgSchema::create().await else {
        return;
    };
    // A generous lease: nothing is killed here, so any second attempt is a bug.
    let env = [("HIREWIRE_WEBHOOKS__LEASE_SECS", "30")];
    let c = client();
    // The first node migrates and bootstraps; the second finds it done.
    let mut a = Serve::start("a", &pg.url, &env).await;
    let mut b = Serve::start("b", &pg.url, &env).await;
    let nodes = [a.base.clone(), b.base.clone()];

    // A burst to a healthy receiver (that takes a little while, so that both nodes have
    // deliveries in flight at once): each delivery arrives once.
    let healthy = Receiver::start(false, Duration::from_millis(20)).await;
    subscribe(&c, &a.base, &healthy.url, &["job.created"]).await;
    let jobs: HashSet<String> = create_all(&nodes, BURST, "burst")
        .await
        .into_iter()
        .collect();
    assert!(
        until(60, || healthy.count() >= BURST).await,
        "only {} of {BURST} deliveries arrived",
        healthy.count()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let receipts = healthy.receipts();
    let repeated: Vec<_> = by_delivery(&receipts)
        .into_iter()
        .filter(|(_, r)| r.len() > 1)
        .collect();
    assert!(
        repeated.is_empty(),
        "{} deliveries arrived more than once, e.g. {:?}",
        repeated.len(),
        &repeated[..repeated.len().min(3)]
    );
    let events: HashSet<&str> = receipts.iter().map(|r| r.event_id.as_str()).collect();
    let received_jobs: HashSet<String> = receipts.iter().map(|r| r.job_id.clone()).collect();
    assert_eq!(
        (receipts.len(), events.len()),
        (BURST, BURST),
        "one receipt per event"
    );
    assert_eq!(received_jobs, jobs, "one delivery per job created");
    let burst_took = started.elapsed();

    // Retries run once: a receiver that fails each first attempt gets each delivery twice.
    let flaky = Receiver::start(true, Duration::ZERO).await;
    let flaky_hook = subscribe(&c, &b.base, &flaky.url, &["job.created"]).await;
    const RETRIED: usize = 200;
    let more = create_all(&nodes, RETRIED, "retried").await;
    assert!(
        until(60, || flaky.count() >= 2 * RETRIED
            && healthy.count() >= BURST + RETRIED)
        .await,
        "the flaky receiver got {} of {} requests, the healthy one {} of {}",
        flaky.count(),
        2 * RETRIED,
        healthy.count(),
        BURST + RETRIED
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let receipts = flaky.receipts();
    let grouped = by_delivery(&receipts);
    let wrong: Vec<_> = grouped
        .iter()
        .filter(|(_, r)| {
            r.len() != 2
                || r[0].answered != 500
                || r[1].answered != 200
                || r[0].event_id != r[1].event_id
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} deliveries were not tried exactly twice (500 then 200), e.g. {:?}",
        wrong.len(),
        wrong.first()
    );
    assert_eq!(grouped.len(), RETRIED);
    let flaky_jobs: HashSet<&str> = receipts.iter().map(|r| r.job_id.as_str()).collect();
    assert!(more.iter().all(|j| flaky_jobs.contains(j.as_str())));
    // The retry waited for its turn (a lower bound only: a loaded machine may be late).
    for r in grouped.values() {
        let gap = r[1].at - r[0].at;
        assert!(gap >= Duration::from_millis(250), "retried after {gap:?}");
    }
    assert_eq!(healthy.distinct_deliveries(), BURST + RETRIED);
    assert_eq!(
        healthy.count(),
        BURST + RETRIED,
        "the healthy receiver got a duplicate"
    );
    // The deliveries' records agree: succeeded, after two attempts each.
    let deadline = Instant::now() + Duration::from_secs(30);
    let recorded = loop {
        let recorded = deliveries(&c, &a.base, &flaky_hook).await;
        if recorded.len() == RETRIED && recorded.iter().all(|d| d["status"] == "succeeded") {
            break recorded;
        }
        assert!(
            Instant::now() < deadline,
            "{} deliveries recorded, not all succeeded: {:?}",
            recorded.len(),
            recorded.iter().find(|d| d["status"] != "succeeded")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        recorded.iter().all(|d| d["attempts"] == 2),
        "a delivery recorded other than two attempts: {:?}",
        recorded.iter().find(|d| d["attempts"] != 2)
    );
    let retries_took = started.elapsed() - burst_took;

    // Expiry runs once: each job expires once, one `job.expired` each, on either node.
    let expiring = Receiver::start(false, Duration::ZERO).await;
    subscribe(&c, &a.base, &expiring.url, &["job.expired"]).await;
    const EXPIRING: usize = 20;
    let expiring_jobs = create_all(&nodes, EXPIRING, "expiring").await;
    for (i, job) in expiring_jobs.iter().enumerate() {
        let at = chrono::Utc::now() + chrono::Duration::seconds(2);
        let (status, body) = post(
            &c,
            &format!("{}/api/v1/jobs/{job}/publish", nodes[i % 2]),
            json!({ "expires_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) }),
        )
        .await;
        assert_eq!(status, 200, "publish: {body}");
    }
    assert!(
        until(30, || expiring.count() >= EXPIRING).await,
        "{} of {EXPIRING} job.expired arrived",
        expiring.count()
    );
    // A few more expiry rounds on both nodes, which must find nothing left to do.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let receipts = expiring.receipts();
    let mut per_job: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &receipts {
        assert_eq!(r.event, "job.expired");
        *per_job.entry(&r.job_id).or_default() += 1;
    }
    assert_eq!(
        receipts.len(),
        EXPIRING,
        "one job.expired per job: {per_job:?}"
    );
    assert!(
        expiring_jobs
            .iter()
            .all(|j| per_job.get(j.as_str()) == Some(&1)),
        "one job.expired per job: {per_job:?}"
    );
    let expired = feed(&c, &b.base, "job.expired").await;
    let mut in_feed: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &expired {
        *in_feed
            .entry(e["data"]["job"]["id"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(expired.len(), EXPIRING, "the feed: {in_feed:?}");
    assert!(
        expiring_jobs
            .iter()
            .all(|j| in_feed.get(j.as_str()) == Some(&1))
    );
    for job in &expiring_jobs {
        let (status, body) = get(&c, &format!("{}/api/v1/jobs/{job}", a.base)).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("expired")));
    }
    // And the healthy receiver still got each creation once.
    assert_eq!(healthy.count(), BURST + RETRIED + EXPIRING);
    assert_eq!(healthy.distinct_deliveries(), BURST + RETRIED + EXPIRING);

    a.assert_running();
    b.assert_running();
    for node in [&a, &b] {
        let problems = node.problems();
        assert!(
            problems.iter().all(|l| !l.contains("panicked")),
            "node {} panicked: {problems:?}",
            node.name
        );
    }
    eprintln!(
        "two nodes: burst of {BURST} in {:.1} s, {RETRIED} retried in {:.1} s, {EXPIRING} expired; \
         total {:.1} s; no duplicates",
        burst_took.as_secs_f64(),
        retries_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

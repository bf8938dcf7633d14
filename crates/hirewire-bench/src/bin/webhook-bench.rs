//! The webhook delivery benchmark (bench/webhooks.sh runs it): a Hirewire server and a
//! receiver in this process, on 127.0.0.1, over a fresh SQLite file or PostgreSQL schema.
//!
//! - `throughput`: commits a backlog of events into the outbox (transactions of 500) before
//!   the server starts, then starts it and waits until the receiver has answered 2xx to every
//!   delivery. The figure is deliveries per second from the start to the last receipt: the
//!   sustained rate of the whole path (fan-out, claim, sign, send, record) with work waiting,
//!   not bounded by how fast this process can write events.
//! - `latency`: commits one event per transaction at a steady rate (500/s by default) and
//!   reports, per event, the time from the commit's return to the receiver getting it (p50,
//!   p99), and the process's resident memory every 10 s (memory must stay flat).
//!
//! Events are committed through the store and the dispatcher is woken exactly as the API's
//! write middleware wakes it; the delivery path (dispatch, claim, sign, send, record) is the
//! production one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use hirewire_core::event::Event;
use hirewire_core::ids::{new_id, prefix};
use hirewire_core::model::NewSubscription;
use hirewire_core::service::{tenants, webhooks};
use hirewire_core::store::Store;
use hirewire_core::{Actor, StoreError};
use hirewire_server::{Config, Server};
use serde_json::json;

#[derive(Default)]
struct Receiver {
    count: AtomicU64,
    /// Commit times of events not yet received (latency mode); bounded by what is in flight.
    committed: Mutex<HashMap<String, Instant>>,
    /// Commit → receipt, in microseconds: 4 bytes an event, so memory stays flat.
    latencies: Mutex<Vec<u32>>,
    measure: std::sync::atomic::AtomicBool,
}

#[derive(serde::Deserialize)]
struct Body {
    event_id: String,
}

async fn receive(State(r): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    if r.measure.load(Ordering::Relaxed)
        && let Ok(b) = serde_json::from_slice::<Body>(&body)
    {
        let now = Instant::now();
        let at = r
            .committed
            .lock()
            .ok()
            .and_then(|mut c| c.remove(&b.event_id));
        if let (Some(at), Ok(mut l)) = (at, r.latencies.lock()) {
            l.push(
                now.saturating_duration_since(at)
                    .as_micros()
                    .min(u32::MAX as u128) as u32,
            );
        }
    }
    r.count.fetch_add(1, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

struct Args {
    backend: String,
    pg_url: String,
    mode: String,
    subscriptions: usize,
    deliveries: u64,
    rate: u64,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        backend: "sqlite".into(),
        pg_url: "postgres://postgres@127.0.0.1:5432/test".into(),
        mode: "throughput".into(),
        subscriptions: 1,
        deliveries: 30_000,
        rate: 500,
        seconds: 30,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.chunks(2);
    while let Some([k, v]) = it.next() {
        match k.as_str() {
            "--backend" => a.backend = v.clone(),
            "--pg-url" => a.pg_url = v.clone(),
            "--mode" => a.mode = v.clone(),
            "--subscriptions" => a.subscriptions = v.parse().expect("--subscriptions N"),
            "--deliveries" => a.deliveries = v.parse().expect("--deliveries N"),
            "--rate" => a.rate = v.parse().expect("--rate N"),
            "--seconds" => a.seconds = v.parse().expect("--seconds N"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn event(tenant: &str) -> Event {
    Event {
        id: new_id(prefix::EVENT),
        event_type: "job.created".into(),
        created_at: hirewire_core::time::now(),
        tenant_id: tenant.into(),
        reference_id: None,
        data: json!({"job": {"id": new_id(prefix::JOB), "title": "Senior Rust engineer",
            "city": "Lisbon", "country": "PT", "status": "draft", "revision": 1,
            "skills": [{"name": "rust", "required": true}, {"name": "postgresql", "required": false}],
            "description": "Build the delivery engine of an applicant tracking system."}}),
        causation_id: None,
        trace_id: None,
        subscription_id: None,
    }
}

async fn commit(store: &dyn Store, events: &[Event]) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    for e in events {
        tx.append_event(e).await?;
    }
    tx.commit().await
}

async fn open_store(a: &Args) -> (Arc<dyn Store>, Option<String>, Option<tempfile_dir::Dir>) {
    match a.backend.as_str() {
        "sqlite" => {
            let dir = tempfile_dir::Dir::new();
            let url = format!("sqlite://{}/bench.db", dir.path.display());
            let s = hirewire_store_sqlite::SqliteStore::connect(&url)
                .await
                .expect("sqlite");
            s.migrate().await.expect("migrate");
            (Arc::new(s), None, Some(dir))
        }
        "postgres" => {
            let schema = format!("bench_{}", std::process::id());
            let s = hirewire_store_postgres::PostgresStore::connect_in_schema(&a.pg_url, &schema)
                .await
                .expect("postgres");
            s.migrate().await.expect("migrate");
            (Arc::new(s), Some(schema), None)
        }
        other => panic!("--backend sqlite|postgres, not {other}"),
    }
}

/// A temporary directory removed on drop, without another dependency.
mod tempfile_dir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("hirewire-bench-{}", std::process::id()));
            std::fs::create_dir_all(&path).expect("temp dir");
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let (store, schema, _dir) = open_store(&a).await;
    let (key, _) = tenants::bootstrap(store.as_ref(), None)
        .await
        .expect("bootstrap")
        .expect("fresh database");
    let tenant = store
        .key(None, &key.id)
        .await
        .expect("key")
        .expect("exists")
        .tenant_id;

    let receiver = Arc::new(Receiver::default());
    receiver
        .measure
        .store(a.mode == "latency", Ordering::Relaxed);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let rl = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", rl.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(rl, app).await });

    let actor = Actor::system(&tenant);
    for _ in 0..a.subscriptions {
        webhooks::create(
            store.as_ref(),
            &actor,
            NewSubscription {
                url: hook_url.clone(),
                events: vec!["*".into()],
                description: None,
                is_active: true,
                filter: Default::default(),
                include_pii: true,
            },
        )
        .await
        .expect("subscribe");
    }

    let events = a.deliveries.div_ceil(a.subscriptions as u64);
    let produced_in = if a.mode == "throughput" {
        let started = Instant::now();
        let mut left = events;
        while left > 0 {
            let n = left.min(500);
            let batch: Vec<Event> = (0..n).map(|_| event(&tenant)).collect();
            commit(store.as_ref(), &batch).await.expect("commit");
            left -= n;
        }
        started.elapsed()
    } else {
        Duration::ZERO
    };

    let mut config = Config::default();
    config.webhooks.allow_insecure_targets = true;
    let server = Server::new(config, store.clone());
    let wake = server.state().wake.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stop_rx.await;
    }));
    let rss_start = rss_kb();

    match a.mode.as_str() {
        "throughput" => {
            let want = events * a.subscriptions as u64;
            let started = Instant::now();
            wake.events_written();
            let mut last_report = Instant::now();
            while receiver.count.load(Ordering::Relaxed) < want {
                tokio::time::sleep(Duration::from_millis(5)).await;
                if last_report.elapsed() > Duration::from_secs(5) {
                    eprintln!(
                        "  … {} of {want} delivered",
                        receiver.count.load(Ordering::Relaxed)
                    );
                    last_report = Instant::now();
                }
                if started.elapsed() > Duration::from_secs(600) {
                    panic!("gave up after 10 minutes");
                }
            }
            let elapsed = started.elapsed();
            println!(
                "mode=throughput backend={} subscriptions={} deliveries={want} seconds={:.2} deliveries_per_s={:.0} commit_seconds={:.2} rss_start_kb={rss_start} rss_end_kb={}",
                a.backend,
                a.subscriptions,
                elapsed.as_secs_f64(),
                want as f64 / elapsed.as_secs_f64(),
                produced_in.as_secs_f64(),
                rss_kb()
            );
        }
        "latency" => {
            let total = a.rate * a.seconds;
            let period = Duration::from_secs_f64(1.0 / a.rate as f64);
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut rss = vec![rss_start];
            let started = Instant::now();
            let mut next_sample = Duration::from_secs(10);
            let mut writers = tokio::task::JoinSet::new();
            for _ in 0..total {
                tick.tick().await;
                let (store, wake, tenant, receiver) = (
                    store.clone(),
                    wake.clone(),
                    tenant.clone(),
                    receiver.clone(),
                );
                // Each event is its own transaction, as API writes are.
                writers.spawn(async move {
                    let e = event(&tenant);
                    let id = e.id.clone();
                    commit(store.as_ref(), std::slice::from_ref(&e))
                        .await
                        .expect("commit");
                    receiver
                        .committed
                        .lock()
                        .unwrap()
                        .insert(id, Instant::now());
                    wake.events_written();
                });
                while writers.try_join_next().is_some() {}
                if started.elapsed() >= next_sample {
                    rss.push(rss_kb());
                    next_sample += Duration::from_secs(10);
                }
            }
            while writers.join_next().await.is_some() {}
            let want = total * a.subscriptions as u64;
            let deadline = Instant::now() + Duration::from_secs(120);
            while receiver.count.load(Ordering::Relaxed) < want && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            rss.push(rss_kb());
            let mut lat: Vec<Duration> = receiver
                .latencies
                .lock()
                .unwrap()
                .iter()
                .map(|us| Duration::from_micros(u64::from(*us)))
                .collect();
            lat.sort();
            println!(
                "mode=latency backend={} subscriptions={} rate={} seconds={} received={} of {want} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} rss_kb={}",
                a.backend,
                a.subscriptions,
                a.rate,
                a.seconds,
                lat.len(),
                percentile(&lat, 0.50),
                percentile(&lat, 0.99),
                lat.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
                rss.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
            );
        }
        other => panic!("--mode throughput|latency, not {other}"),
    }

    let _ = stop_tx.send(());
    let _ = running.await;
    if let Some(schema) = schema
        && let Ok(pool) = sqlx::PgPool::connect(&a.pg_url).await
    {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&pool)
        .await;
    }
}

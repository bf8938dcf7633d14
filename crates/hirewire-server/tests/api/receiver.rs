//! A webhook receiver for tests: an in-test HTTP server that keeps what it gets and answers
//! as the test tells it to (status, `Retry-After`, a delay), counting requests in flight.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The sender's address: one per connection, so it shows connection reuse.
    pub peer: SocketAddr,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub json: Value,
    pub at: Instant,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The delivery id (`X-Webhook-Delivery-Id`).
    pub fn delivery_id(&self) -> &str {
        self.header("x-webhook-delivery-id")
    }
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    status: AtomicU16,
    retry_after: AtomicU64,
    delay_ms: AtomicU64,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running receiver; it stops when dropped.
pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.got.lock().unwrap().push(Received {
        peer,
        headers,
        body,
        json,
        at: Instant::now(),
    });
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    let status =
        StatusCode::from_u16(inner.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK);
    let retry_after = inner.retry_after.load(Ordering::SeqCst);
    let mut res = (status, "receiver says hello").into_response();
    if status.is_redirection() {
        // Somewhere the sender must not go: the receiver itself, so a follow would show.
        res.headers_mut()
            .insert("location", "/hook?followed=1".parse().unwrap());
    }
    if retry_after > 0 {
        res.headers_mut()
            .insert("retry-after", retry_after.to_string().parse().unwrap());
    }
    res
}

impl Receiver {
    /// Starts a receiver that answers 200.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Inner::default());
        inner.status.store(200, Ordering::SeqCst);
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            inner,
            _stop: stop,
        }
    }

    /// Answers every later request with this status.
    pub fn answer(&self, status: u16) {
        self.inner.status.store(status, Ordering::SeqCst);
    }

    /// Adds `Retry-After: secs` to later answers (0: none).
    pub fn retry_after(&self, secs: u64) {
        self.inner.retry_after.store(secs, Ordering::SeqCst);
    }

    /// Waits this long before answering.
    pub fn delay(&self, d: Duration) {
        self.inner
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    /// The most requests it had in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.inner.max_in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived (or `secs` pass) and returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

//! Real deliveries from the running server, checked by receivers' own code:
//! scripts/webhook_receiver.py verifies `webhook-signature` with the Standard Webhooks
//! reference library and `X-Webhook-Signature` by hand, and proves that a tampered body, a
//! wrong secret and a stale timestamp are refused. Across a secret rotation, a receiver that
//! holds only the new secret and one that holds only the old secret both verify.
//!
//! Needs `target/ci-venv` (`bash scripts/ci-venv.sh`), or `HIREWIRE_TEST_PYTHON` naming an
//! interpreter with `standardwebhooks`. Without one the tests skip, except under `CI=true`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{Backend, TestApp, eventually, send, spawn_with};

crate::on_both_backends!(the_python_receiver_verifies_real_deliveries_across_a_rotation);

/// How long to wait for one line from the receiver.
const LINE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the receiver must find true of every delivery.
const FLAGS: [&str; 5] = [
    "standard_ok",
    "stripe_ok",
    "tampered_rejected",
    "wrong_secret_rejected",
    "stale_rejected",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the crate lives in crates/ of the repository")
}

/// The interpreter to use, or `None` (after saying why) when the test must skip.
fn python() -> Option<PathBuf> {
    let interpreter = match std::env::var_os("HIREWIRE_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => std::env::var_os("CI_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/ci-venv"))
            .join("bin/python"),
    };
    let probe = Command::new(&interpreter)
        .args(["-c", "import standardwebhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let reason = match probe {
        Ok(status) if status.success() => return Some(interpreter),
        Ok(_) => format!(
            "{} cannot import standardwebhooks (run `bash scripts/ci-venv.sh`)",
            interpreter.display()
        ),
        Err(error) => format!(
            "no Python at {} ({error}; run `bash scripts/ci-venv.sh` or set HIREWIRE_TEST_PYTHON)",
            interpreter.display()
        ),
    };
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("CI=true, so the webhook interop test may not skip: {reason}");
    }
    // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(std::io::stderr(), "skipping webhook interop test: {reason}");
    None
}

/// scripts/webhook_receiver.py, running; killed on drop, so a failed assertion leaves no
/// process behind.
struct PyReceiver {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    url: String,
}

impl PyReceiver {
    /// Starts the receiver on a free port with these secrets and waits until it listens.
    async fn start(python: &Path, secrets: &[&str]) -> Self {
        let mut command = Command::new(python);
        command
            .arg(repo_root().join("scripts/webhook_receiver.py"))
            .args(["--host", "127.0.0.1", "--port", "0"]);
        for secret in secrets {
            command.args(["--secret", secret]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start scripts/webhook_receiver.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::unbounded_channel();
        // A plain thread reads the pipe, so that no runtime worker ever blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut receiver = Self {
            child,
            lines,
            url: String::new(),
        };
        let first = receiver.next_line().await;
        let port: u16 = first
            .strip_prefix("LISTENING ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("expected `LISTENING <port>`, got {first:?}"));
        receiver.url = format!("http://127.0.0.1:{port}/hooks");
        receiver
    }

    async fn next_line(&mut self) -> String {
        match tokio::time::timeout(LINE_TIMEOUT, self.lines.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("the receiver exited (its stderr is above)"),
            Err(_) => panic!("the receiver printed nothing for {LINE_TIMEOUT:?}"),
        }
    }

    /// The next `n` reports, one per delivery received.
    async fn reports(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let line = self.next_line().await;
            let report: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON report line ({e}): {line:?}"));
            out.push(report);
        }
        out
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Points the subscription at `url` and switches it on.
async fn aim(app: &TestApp, hook: &str, url: &str) {
    let (s, body) = send(
        app.req(Method::PATCH, &format!("/api/v1/webhooks/{hook}"))
            .json(&json!({"url": url, "is_active": true})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["url"], url, "{body}");
    assert_eq!(body["is_active"], true, "{body}");
}

/// Creates a job for each title and returns their ids.
async fn create_jobs(app: &TestApp, titles: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for title in titles {
        let (s, job) = app
            .post(
                "/api/v1/jobs",
                json!({"title": title, "description": format!("{title}\n\t\"quoted\" \\ back\u{2028}slash"),
                       "city": title}),
            )
            .await;
        assert_eq!(s, 201, "{job}");
        assert_eq!(job["title"], *title, "the title round-trips: {job}");
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    ids
}

/// Asserts that every report says the delivery verified and every forgery was refused, and
/// returns the delivery ids.
fn all_verified(reports: &[Value], receiver: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for report in reports {
        for flag in FLAGS {
            assert_eq!(report[flag], true, "{receiver}: {flag} in {report}");
        }
        let id = report["delivery_id"].as_str().unwrap_or_default();
        assert!(id.starts_with("dlv_"), "{receiver}: {report}");
        assert_eq!(report["webhook_id"], id, "{receiver}: {report}");
        assert!(
            ids.insert(id.to_string()),
            "{receiver}: sent twice: {report}"
        );
    }
    ids
}

/// The `job.created` event of each job, by event id, from the events feed.
async fn job_created_events(app: &TestApp, jobs: &[String]) -> BTreeSet<String> {
    app.settle().await;
    let (s, feed) = app.get("/api/v1/events?limit=200").await;
    assert_eq!(s, 200, "{feed}");
    let events = feed["items"].as_array().unwrap();
    jobs.iter()
        .map(|job| {
            events
                .iter()
                .find(|e| e["event"] == "job.created" && e["data"]["job"]["id"] == job.as_str())
                .and_then(|e| e["event_id"].as_str())
                .unwrap_or_else(|| panic!("no job.created for {job} in {feed}"))
                .to_string()
        })
        .collect()
}

/// Asserts that the receiver got exactly the `job.created` events of these jobs.
async fn got_the_jobs_events(app: &TestApp, reports: &[Value], jobs: &[String], receiver: &str) {
    let expected = job_created_events(app, jobs).await;
    let got: BTreeSet<String> = reports
        .iter()
        .map(|r| {
            assert_eq!(r["event"], "job.created", "{receiver}: {r}");
            r["event_id"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(got, expected, "{receiver}: the events delivered");
}

/// Waits until every one of `ids` shows as `succeeded` in the subscription's deliveries.
async fn wait_until_succeeded(app: &TestApp, hook: &str, ids: &BTreeSet<String>) {
    let listed = eventually(15, || async {
        let (s, page) = app
            .get(&format!("/api/v1/webhooks/{hook}/deliveries?limit=200"))
            .await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap().clone();
        let done = ids.iter().all(|id| {
            items
                .iter()
                .any(|d| d["id"] == id.as_str() && d["status"] == "succeeded")
        });
        done.then_some(items)
    })
    .await;
    let Some(items) = listed else {
        let (_, page) = app
            .get(&format!("/api/v1/webhooks/{hook}/deliveries?limit=200"))
            .await;
        panic!("not every one of {ids:?} succeeded: {page}");
    };
    for d in &items {
        assert_eq!(d["status"], "succeeded", "nothing failed: {d}");
        assert_eq!(d["attempts"], 1, "each on its first attempt: {d}");
    }
}

async fn the_python_receiver_verifies_real_deliveries_across_a_rotation(b: Backend) {
    let Some(python) = python() else { return };
    let Some(app) = spawn_with(b, |c| {
        c.webhooks.allow_insecure_targets = true;
        c.webhooks.poll_interval_ms = 50;
    })
    .await
    else {
        return;
    };

    // The secret is only known once the subscription exists: make it switched off first.
    let (s, created) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/nowhere", "events": ["*"], "is_active": false,
                   "description": "Python interop"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let hook = created["id"].as_str().unwrap().to_string();
    let old = created["secret"].as_str().unwrap().to_string();

    let mut rx = PyReceiver::start(&python, &[&old]).await;
    aim(&app, &hook, &rx.url).await;

    // A ping first, then real events, one of them far from ASCII.
    let (s, body) = app
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    let ping = rx.reports(1).await;
    let mut delivered = all_verified(&ping, "before rotation");
    assert_eq!(ping[0]["event"], "ping", "{}", ping[0]);

    let jobs = create_jobs(
        &app,
        &[
            "Rust engineer",
            "Zoë Ødegård – 東京",
            "Ingénieur·e « données » 🚀",
        ],
    )
    .await;
    let reports = rx.reports(jobs.len()).await;
    delivered.extend(all_verified(&reports, "before rotation"));
    got_the_jobs_events(&app, &reports, &jobs, "before rotation").await;
    wait_until_succeeded(&app, &hook, &delivered).await;

    // Rotate: for a while every delivery is signed with both secrets.
    let (s, rotated) = app
        .post(&format!("/api/v1/webhooks/{hook}/rotate-secret"), json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );

    // A receiver that has already deployed the new secret, and nothing else.
    drop(rx);
    let mut rx = PyReceiver::start(&python, &[&new]).await;
    aim(&app, &hook, &rx.url).await;
    let jobs = create_jobs(
        &app,
        &["After rotation – new secret", "Zoë Ødegård – 東京 2"],
    )
    .await;
    let reports = rx.reports(jobs.len()).await;
    let ids = all_verified(&reports, "new secret only");
    got_the_jobs_events(&app, &reports, &jobs, "new secret only").await;
    assert!(ids.is_disjoint(&delivered));
    delivered.extend(ids);
    wait_until_succeeded(&app, &hook, &delivered).await;

    // A receiver that has not picked up the new secret yet.
    drop(rx);
    let mut rx = PyReceiver::start(&python, &[&old]).await;
    aim(&app, &hook, &rx.url).await;
    let jobs = create_jobs(
        &app,
        &["After rotation – old secret", "Zoë Ødegård – 東京 3"],
    )
    .await;
    let reports = rx.reports(jobs.len()).await;
    let ids = all_verified(&reports, "old secret only");
    got_the_jobs_events(&app, &reports, &jobs, "old secret only").await;
    assert!(ids.is_disjoint(&delivered));
    delivered.extend(ids);
    wait_until_succeeded(&app, &hook, &delivered).await;

    // Nothing else arrived: one report per delivery, and no more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.lines.try_recv().is_err(),
        "the receiver got a delivery nobody expected"
    );
    let (_, page) = app
        .get(&format!(
            "/api/v1/webhooks/{hook}/deliveries?limit=200&include_total=true"
        ))
        .await;
    assert_eq!(page["total"], delivered.len(), "{page}");
}

//! Proves that receivers' own code accepts what `sign` produces: real HTTP deliveries to
//! scripts/webhook_receiver.py, which checks `webhook-signature` with the Standard Webhooks
//! reference library and `X-Webhook-Signature` with an HMAC written from DESIGN §5.
//!
//! Needs `target/ci-venv` (`bash scripts/ci-venv.sh`), or `HIREWIRE_TEST_PYTHON` naming an
//! interpreter with `standardwebhooks`. Without one the tests skip, except under `CI=true`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hirewire_signature::{SignatureHeaders, secret_from_bytes, sign};
use serde_json::{Value, json};

const LINE_TIMEOUT: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the crate lives in crates/ of the repository")
}

/// The interpreter to use, or `None` (after saying why) when the tests must skip.
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
        panic!("CI=true, so the interop test may not skip: {reason}");
    }
    // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(std::io::stderr(), "skipping Python interop test: {reason}");
    None
}

/// The running receiver; killed on drop, so a failed assertion leaves no process behind.
struct Receiver {
    child: Child,
    lines: mpsc::Receiver<String>,
    port: u16,
}

impl Receiver {
    fn start(python: &Path, secrets: &[&str]) -> Self {
        let mut command = Command::new(python);
        command
            .arg(repo_root().join("scripts/webhook_receiver.py"))
            .args(["--port", "0"]);
        for secret in secrets {
            command.args(["--secret", secret]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the webhook receiver");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
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
            port: 0,
        };
        let first = receiver.next_line();
        receiver.port = first
            .strip_prefix("LISTENING ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("expected `LISTENING <port>`, got {first:?}"));
        receiver
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(LINE_TIMEOUT)
            .expect("the receiver printed a line in time (its stderr is above)")
    }

    /// Posts one delivery and returns the status and the receiver's report of it.
    async fn deliver(&self, signed: &SignatureHeaders, event: &str, body: &[u8]) -> (u16, Value) {
        let response = client()
            .post(format!("http://127.0.0.1:{}/hooks", self.port))
            .header("Content-Type", "application/json")
            .header("X-Webhook-Signature", &signed.x_webhook_signature)
            .header("webhook-id", &signed.webhook_id)
            .header("webhook-timestamp", &signed.webhook_timestamp)
            .header("webhook-signature", &signed.webhook_signature)
            .header("X-Webhook-Event", event)
            .header("X-Webhook-Delivery-Id", &signed.webhook_id)
            .body(body.to_vec())
            .send()
            .await
            .expect("the receiver answers");
        let status = response.status().as_u16();
        let report: Value = serde_json::from_str(&self.next_line()).expect("a JSON report line");
        (status, report)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit in i64")
}

fn delivery(event_id: &str, event: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event_id": event_id,
        "event": event,
        "timestamp": "2026-11-22T10:00:00Z",
        "tenant_id": "ten_01",
        "reference_id": null,
        "data": data,
    }))
    .unwrap()
}

fn assert_all_held(status: u16, report: &Value, delivery_id: &str, event: &str, event_id: &str) {
    assert_eq!(status, 204, "{report}");
    assert_eq!(report["delivery_id"], delivery_id, "{report}");
    assert_eq!(report["webhook_id"], delivery_id, "{report}");
    assert_eq!(report["event"], event, "{report}");
    assert_eq!(report["event_id"], event_id, "{report}");
    for flag in [
        "standard_ok",
        "stripe_ok",
        "tampered_rejected",
        "wrong_secret_rejected",
        "stale_rejected",
    ] {
        assert_eq!(report[flag], true, "{flag}: {report}");
    }
}

#[tokio::test]
async fn receivers_libraries_verify_signed_deliveries() {
    let Some(python) = python() else { return };
    let secret = secret_from_bytes(&[0xfb; 32]); // '+' and '/' in its base64
    let receiver = Receiver::start(&python, &[&secret]);

    let cases = [
        ("dlv_01interop", "ping", "evt_01", json!({})),
        (
            "dlv_02interop",
            "application.scored",
            "evt_02",
            json!({"application_id": "app_1", "score": 87.5, "band": "strong",
                   "candidate": {"first_name": "José", "last_name": "Ñúñez 山田"}}),
        ),
        (
            "dlv_03interop",
            "application.status_changed",
            "evt_03",
            json!({"previous_status": "screening", "new_status": "hired",
                   "changed_at": "2026-11-22T10:00:00Z", "note": "line\nbreak \"quoted\""}),
        ),
    ];
    for (delivery_id, event, event_id, data) in cases {
        let body = delivery(event_id, event, data);
        let signed = sign(&[&secret], delivery_id, now(), &body).unwrap();
        let (status, report) = receiver.deliver(&signed, event, &body).await;
        assert_all_held(status, &report, delivery_id, event, event_id);
    }
}

#[tokio::test]
async fn a_tampered_body_is_refused_by_both_checks() {
    let Some(python) = python() else { return };
    let secret = secret_from_bytes(&[42; 32]);
    let receiver = Receiver::start(&python, &[&secret]);

    let body = delivery("evt_10", "application.scored", json!({"score": 40}));
    let signed = sign(&[&secret], "dlv_10interop", now(), &body).unwrap();
    let forged = delivery("evt_10", "application.scored", json!({"score": 99}));
    let (status, report) = receiver
        .deliver(&signed, "application.scored", &forged)
        .await;
    assert_eq!(status, 400, "{report}");
    assert_eq!(report["standard_ok"], false, "{report}");
    assert_eq!(report["stripe_ok"], false, "{report}");
}

#[tokio::test]
async fn during_rotation_a_receiver_with_the_old_secret_accepts_both_signatures() {
    let Some(python) = python() else { return };
    let old = secret_from_bytes(&[1; 32]);
    let new = secret_from_bytes(&[2; 32]);
    // The receiver has not picked up the new secret yet.
    let receiver = Receiver::start(&python, &[&old]);

    let body = delivery("evt_20", "job.published", json!({"job_id": "job_1"}));
    let signed = sign(&[&new, &old], "dlv_20interop", now(), &body).unwrap();
    assert_eq!(signed.webhook_signature.split(' ').count(), 2);
    assert_eq!(signed.x_webhook_signature.matches(",v1=").count(), 2);
    let (status, report) = receiver.deliver(&signed, "job.published", &body).await;
    assert_all_held(status, &report, "dlv_20interop", "job.published", "evt_20");

    // After the overlap the signer drops the old secret, and this receiver must notice.
    let signed = sign(&[&new], "dlv_21interop", now(), &body).unwrap();
    let (status, report) = receiver.deliver(&signed, "job.published", &body).await;
    assert_eq!(status, 400, "{report}");
    assert_eq!(report["standard_ok"], false, "{report}");
    assert_eq!(report["stripe_ok"], false, "{report}");
}

#[tokio::test]
async fn a_receiver_that_knows_both_secrets_accepts_the_new_one() {
    let Some(python) = python() else { return };
    let old = secret_from_bytes(&[3; 32]);
    let new = secret_from_bytes(&[4; 32]);
    let receiver = Receiver::start(&python, &[&new, &old]);

    let body = delivery(
        "evt_30",
        "candidate.created",
        json!({"candidate_id": "cand_1"}),
    );
    let signed = sign(&[&new], "dlv_30interop", now(), &body).unwrap();
    let (status, report) = receiver.deliver(&signed, "candidate.created", &body).await;
    assert_all_held(
        status,
        &report,
        "dlv_30interop",
        "candidate.created",
        "evt_30",
    );
}

//! The `hirewire` binary as a user drives it: first start, the admin commands against a
//! running server, and SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_hirewire");

/// A running `hirewire serve` and what it printed.
struct Serve {
    child: Child,
    base: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_db() -> String {
    format!(
        "sqlite://{}",
        std::env::temp_dir()
            .join(format!("{}.db", hirewire_core::ids::new_id("hwcli")))
            .display()
    )
}

impl Serve {
    fn start(db: &str, env: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                db,
            ])
            .envs(env.iter().copied())
            .env_remove("HIREWIRE_DATABASE_URL")
            .env("HIREWIRE_KEY_CACHE_TTL_SECS", "10")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start hirewire");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = stdout.clone();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let serve = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stdout,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if get(&format!("{}/healthz/ready", serve.base), None).0 == 200 {
                return serve;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("hirewire did not become ready");
    }

    fn printed_key(&self) -> Option<String> {
        let lines = self.stdout.lock().unwrap();
        lines.iter().find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("hw_live_"))
                .map(str::to_string)
        })
    }

    /// Sends SIGTERM and returns how long the process took to exit, and whether it exited 0.
    fn terminate(mut self) -> (Duration, bool) {
        let started = Instant::now();
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (started.elapsed(), status.success());
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                (status, res.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    })
}

fn cli(db: &str, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database-url", db])
        .env_remove("HIREWIRE_DATABASE_URL")
        .output()
        .expect("run hirewire");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn first_start_prints_one_admin_key_and_sigterm_exits_cleanly() {
    let db = temp_db();
    let serve = Serve::start(&db, &[]);
    let key = serve
        .printed_key()
        .expect("the first start prints an admin key");
    let printed = serve
        .stdout
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("hw_live_"))
        .count();
    assert_eq!(printed, 1, "the key is printed on one line, once");
    assert_eq!(
        get(&format!("{}/api/v1/jobs", serve.base), Some(&key)).0,
        200
    );
    let (took, ok) = serve.terminate();
    assert!(ok, "exit code 0 after SIGTERM");
    assert!(took < Duration::from_secs(10), "took {took:?}");

    let again = Serve::start(&db, &[]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(again.printed_key(), None, "a second start creates nothing");
    assert_eq!(
        get(&format!("{}/api/v1/jobs", again.base), Some(&key)).0,
        200
    );
}

#[test]
fn the_bootstrap_key_can_come_from_the_environment() {
    let db = temp_db();
    let key = "hw_live_BootstrapKeyFromTheEnvironment1";
    let serve = Serve::start(&db, &[("HIREWIRE_BOOTSTRAP_KEY", key)]);
    assert_eq!(
        serve.printed_key(),
        None,
        "a key the user chose is not echoed"
    );
    let (s, tenant) = get(&format!("{}/api/v1/tenant", serve.base), Some(key));
    assert_eq!((s, tenant["name"].as_str()), (200, Some("default")));
}

#[test]
fn admin_commands_act_on_a_running_server() {
    let db = temp_db();
    let serve = Serve::start(&db, &[]);
    let jobs = format!("{}/api/v1/jobs", serve.base);

    let tenant = cli(
        &db,
        &[
            "tenants",
            "create",
            "--name",
            "acme",
            "--credits",
            "3",
            "--require-key-approval",
        ],
    );
    assert!(tenant["id"].as_str().unwrap().starts_with("ten_"));
    assert_eq!(tenant["credits"], 3);

    let key = cli(
        &db,
        &[
            "keys",
            "create",
            "--tenant",
            "acme",
            "--name",
            "bot",
            "--scopes",
            "jobs:read,jobs:write",
        ],
    );
    let plaintext = key["key"].as_str().unwrap().to_string();
    assert!(plaintext.starts_with("hw_live_"));
    assert_eq!(
        key["scopes"],
        serde_json::json!(["jobs:read", "jobs:write"])
    );
    assert_eq!(get(&jobs, Some(&plaintext)).0, 200);

    // A revoke made through the CLI reaches the running server within 10 s.
    let revoked = cli(&db, &["keys", "revoke", key["id"].as_str().unwrap()]);
    assert_eq!(revoked["status"], "revoked");
    assert!(
        until(12, || get(&jobs, Some(&plaintext)).0 == 401),
        "revocation took effect"
    );

    let pending = cli(
        &db,
        &[
            "keys",
            "create",
            "--tenant",
            tenant["id"].as_str().unwrap(),
            "--name",
            "search",
            "--scopes",
            "cv_search,jobs:read",
        ],
    );
    assert_eq!(pending["status"], "pending");
    let pending_key = pending["key"].as_str().unwrap().to_string();
    assert_eq!(get(&jobs, Some(&pending_key)).0, 401);
    let approved = cli(&db, &["keys", "approve", pending["id"].as_str().unwrap()]);
    assert_eq!(approved["status"], "active");
    assert!(
        until(12, || get(&jobs, Some(&pending_key)).0 == 200),
        "approval took effect"
    );

    let expired = cli(
        &db,
        &[
            "keys",
            "create",
            "--tenant",
            "acme",
            "--name",
            "old",
            "--scopes",
            "jobs:read",
            "--expires-at",
            "2001-01-01T00:00:00Z",
        ],
    );
    assert_eq!(expired["status"], "expired");
    assert_eq!(get(&jobs, Some(expired["key"].as_str().unwrap())).0, 401);
}

#[test]
fn bad_input_to_the_cli_is_an_error_not_a_panic() {
    let db = temp_db();
    for args in [
        vec![
            "keys",
            "create",
            "--tenant",
            "nobody",
            "--name",
            "x",
            "--scopes",
            "jobs:read",
        ],
        vec![
            "keys", "create", "--tenant", "default", "--name", "x", "--scopes", "jobs:fly",
        ],
        vec!["keys", "revoke", "key_nope"],
        vec!["tenants", "create", "--name", ""],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .args(["--database-url", &db])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn serve_runs_on_postgresql_from_a_url() {
    let base = std::env::var("HIREWIRE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = hirewire_core::ids::new_id("hwcli");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let created = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&base).await.ok()?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut c)
            .await
            .ok()?;
        Some(())
    });
    if created.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "PostgreSQL is unreachable under CI=true"
        );
        eprintln!("skipping: PostgreSQL unreachable");
        return;
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let serve = Serve::start(&url, &[]);
    let key = serve.printed_key().expect("admin key");
    assert_eq!(
        get(&format!("{}/api/v1/jobs", serve.base), Some(&key)).0,
        200
    );
    let made = cli(
        &url,
        &[
            "keys",
            "create",
            "--tenant",
            "default",
            "--name",
            "pg",
            "--scopes",
            "jobs:read",
        ],
    );
    assert_eq!(
        get(
            &format!("{}/api/v1/jobs", serve.base),
            Some(made["key"].as_str().unwrap())
        )
        .0,
        200
    );
    let (_, ok) = serve.terminate();
    assert!(ok);
    rt.block_on(async {
        use sqlx::Connection;
        if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA \"{schema}\" CASCADE"
            )))
            .execute(&mut c)
            .await;
        }
    });
}

#[test]
fn parse_prints_one_profile_per_file_without_a_server() {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hirewire-cv/tests/fixtures/cvs"
    );
    let out = std::process::Command::new(BIN)
        .args([
            "parse",
            &format!("{fixtures}/01-jose-martinez-lopez.pdf"),
            &format!("{fixtures}/02-zoe-bronte-walsh.docx"),
        ])
        .output()
        .expect("run hirewire parse");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["format"], "pdf");
    assert_eq!(lines[0]["profile"]["basics"]["name"], "José Martínez-López");
    assert_eq!(lines[1]["format"], "docx");
    assert_eq!(lines[1]["profile"]["basics"]["name"], "Zoë Brontë-Walsh");

    // A file that is not a CV: its line says why, the others still print, the exit is 1.
    let dir = std::env::temp_dir().join(format!("hirewire-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("photo.pdf");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let out = std::process::Command::new(BIN)
        .args([
            "parse",
            png.to_str().unwrap(),
            &format!("{fixtures}/06-francois-lefevre.txt"),
        ])
        .output()
        .expect("run hirewire parse");
    assert!(!out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unsupported")
    );
    assert_eq!(lines[1]["format"], "txt");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 files"));
    let _ = std::fs::remove_dir_all(&dir);
}

//! The command line. Scripts and tests drive it; keep it stable.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use hirewire_core::model::NewKey;
use hirewire_core::service::{keys, tenants};
use hirewire_core::{Actor, DomainError};
use hirewire_server::Server;
use ipnet::IpNet;
use serde_json::json;
use tokio::net::TcpListener;

use crate::{settings, stores};

const DEFAULT_DB: &str = "sqlite://hirewire.db";

/// Every setting, as `serve --help` shows them (DESIGN §1: each has a safe default).
pub(crate) const SETTINGS_HELP: &str = "\
Settings (flags win over HIREWIRE_* variables, which win over the --config TOML file):
  bind                        HIREWIRE_BIND                          127.0.0.1:8080
  database_url                HIREWIRE_DATABASE_URL                  sqlite://hirewire.db
  dev                         HIREWIRE_DEV                           false
  log_format                  HIREWIRE_LOG_FORMAT                    text (or json)
  bootstrap_key               HIREWIRE_BOOTSTRAP_KEY                 generated on the first start
  json_body_limit             HIREWIRE_JSON_BODY_LIMIT               1048576 bytes
  document_body_limit         HIREWIRE_DOCUMENT_BODY_LIMIT           10485760 bytes
  import_body_limit           HIREWIRE_IMPORT_BODY_LIMIT             536870912 bytes
  rate_limits.jobs            HIREWIRE_RATE_LIMITS__JOBS             100 per minute per key
  rate_limits.candidate_search HIREWIRE_RATE_LIMITS__CANDIDATE_SEARCH 30 per minute per key
  rate_limits.candidate_read  HIREWIRE_RATE_LIMITS__CANDIDATE_READ   60 per minute per key
  rate_limits.default         HIREWIRE_RATE_LIMITS__DEFAULT          600 per minute per key
  trusted_proxies             HIREWIRE_TRUSTED_PROXIES               [] (CIDRs whose X-Forwarded-For is believed)
  key_cache_ttl_secs          HIREWIRE_KEY_CACHE_TTL_SECS            10
  expiry_interval_secs        HIREWIRE_EXPIRY_INTERVAL_SECS          15
  audit_flush_interval_ms     HIREWIRE_AUDIT_FLUSH_INTERVAL_MS       200
  key_use_flush_interval_ms   HIREWIRE_KEY_USE_FLUSH_INTERVAL_MS     5000
  shutdown_timeout_secs       HIREWIRE_SHUTDOWN_TIMEOUT_SECS         8
  webhooks.allow_insecure_targets HIREWIRE_WEBHOOKS__ALLOW_INSECURE_TARGETS false (--dev sets it)
  webhooks.retry_schedule     HIREWIRE_WEBHOOKS__RETRY_SCHEDULE      [1m,5m,15m,1h,6h,24h,24h,24h]
  webhooks.max_attempts       HIREWIRE_WEBHOOKS__MAX_ATTEMPTS        8 (then the delivery is dead)
  webhooks.retry_jitter       HIREWIRE_WEBHOOKS__RETRY_JITTER        0.1 (fraction of each wait)
  webhooks.retry_after_cap_secs HIREWIRE_WEBHOOKS__RETRY_AFTER_CAP_SECS 3600
  webhooks.timeout_secs       HIREWIRE_WEBHOOKS__TIMEOUT_SECS        10
  webhooks.max_in_flight      HIREWIRE_WEBHOOKS__MAX_IN_FLIGHT       50 per subscription
  webhooks.max_in_flight_total HIREWIRE_WEBHOOKS__MAX_IN_FLIGHT_TOTAL 500 per process
  webhooks.disable_after_failures HIREWIRE_WEBHOOKS__DISABLE_AFTER_FAILURES 10 (0: never)
  webhooks.disable_min_span_secs HIREWIRE_WEBHOOKS__DISABLE_MIN_SPAN_SECS 3600 (0: ten in a row)
  webhooks.lease_secs         HIREWIRE_WEBHOOKS__LEASE_SECS          60
  webhooks.poll_interval_ms   HIREWIRE_WEBHOOKS__POLL_INTERVAL_MS    250
  parse_workers               HIREWIRE_PARSE_WORKERS                 0 (one CV parser per core)
  parse_timeout_secs          HIREWIRE_PARSE_TIMEOUT_SECS            30
  review_confidence_threshold HIREWIRE_REVIEW_CONFIDENCE_THRESHOLD   0.5 (less confident evaluations open a review)
Logs go to stderr; HIREWIRE_LOG sets the filter (e.g. debug).";

/// Hirewire: the API-first applicant tracking system.
#[derive(Debug, Parser)]
#[command(name = "hirewire", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API, the web pages and the background workers.
    #[command(after_help = SETTINGS_HELP)]
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate {
        /// `sqlite://FILE` or `postgres://…` [env: HIREWIRE_DATABASE_URL] [default: sqlite://hirewire.db]
        #[arg(long, env = "HIREWIRE_DATABASE_URL", hide_env = true)]
        database_url: Option<String>,
    },
    /// Manage tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Parse CVs (PDF, DOCX, ODT, HTML, TXT) and print each profile as JSON, one object per
    /// file and line; no server or database needed.
    Parse {
        /// The files to parse.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print the text extracted from each file, in reading order.
        #[arg(long)]
        text: bool,
        /// Indent the JSON.
        #[arg(long)]
        pretty: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on [env: HIREWIRE_BIND] [default: 127.0.0.1:8080]
    #[arg(long)]
    bind: Option<String>,
    /// `sqlite://FILE` or `postgres://…` [env: HIREWIRE_DATABASE_URL] [default: sqlite://hirewire.db]
    #[arg(long)]
    database_url: Option<String>,
    /// Development mode: allow plain-http and private-address webhook targets.
    #[arg(long)]
    dev: bool,
    /// A TOML file with settings; flags and HIREWIRE_* variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// `text` or `json` [env: HIREWIRE_LOG_FORMAT] [default: text]
    #[arg(long)]
    log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TenantsCommand {
    /// Create a tenant; prints it as JSON.
    Create {
        #[arg(long)]
        name: String,
        /// Publishing a job spends one credit.
        #[arg(long, default_value_t = 0)]
        credits: i64,
        /// Keys with the `cv_search` scope start pending until approved.
        #[arg(long)]
        require_key_approval: bool,
        #[arg(long, env = "HIREWIRE_DATABASE_URL", hide_env = true)]
        database_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key; prints it as JSON with its plaintext `key`, shown this once.
    Create {
        /// The tenant's id (`ten_…`) or name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Comma-separated, e.g. `jobs:read,jobs:write`.
        #[arg(long)]
        scopes: String,
        /// RFC 3339; may be in the past (the key is then expired).
        #[arg(long)]
        expires_at: Option<String>,
        /// Comma-separated CIDR ranges the key may be used from.
        #[arg(long)]
        allowed_ips: Option<String>,
        #[arg(long, env = "HIREWIRE_DATABASE_URL", hide_env = true)]
        database_url: Option<String>,
    },
    /// Revoke a key; a running server stops accepting it within 10 s.
    Revoke {
        id: String,
        #[arg(long, env = "HIREWIRE_DATABASE_URL", hide_env = true)]
        database_url: Option<String>,
    },
    /// Approve a key that is pending approval.
    Approve {
        id: String,
        #[arg(long, env = "HIREWIRE_DATABASE_URL", hide_env = true)]
        database_url: Option<String>,
    },
}

fn db(url: Option<String>) -> String {
    url.unwrap_or_else(|| DEFAULT_DB.to_string())
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

fn domain(e: DomainError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Runs a command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Parse {
            files,
            text,
            pretty,
        } => crate::parse::run(&files, text, pretty),
        Command::Migrate { database_url } => {
            let url = db(database_url);
            stores::open(&url).await?;
            eprintln!("migrations applied to {url}");
            Ok(())
        }
        Command::Tenants(TenantsCommand::Create {
            name,
            credits,
            require_key_approval,
            database_url,
        }) => {
            let store = stores::open(&db(database_url)).await?;
            let tenant = tenants::create(store.as_ref(), &name, credits, require_key_approval)
                .await
                .map_err(domain)?;
            print_json(&tenant)
        }
        Command::Keys(KeysCommand::Create {
            tenant,
            name,
            scopes,
            expires_at,
            allowed_ips,
            database_url,
        }) => {
            let store = stores::open(&db(database_url)).await?;
            let tenant = match store.tenant(&tenant).await? {
                Some(t) => t,
                None => store
                    .tenant_by_name(&tenant)
                    .await?
                    .with_context(|| format!("no tenant with id or name `{tenant}`"))?,
            };
            let scopes = hirewire_core::scope::parse_list(&scopes).map_err(anyhow::Error::msg)?;
            let expires_at = expires_at
                .map(|s| {
                    DateTime::parse_from_rfc3339(&s)
                        .map(|t| t.with_timezone(&Utc))
                        .with_context(|| format!("--expires-at `{s}` is not RFC 3339"))
                })
                .transpose()?;
            let allowed_ips = allowed_ips
                .map(|s| {
                    s.split(',')
                        .map(|c| {
                            c.trim()
                                .parse::<IpNet>()
                                .with_context(|| format!("`{c}` is not a CIDR range"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default();
            let input = NewKey {
                name,
                scopes,
                expires_at,
                allowed_ips,
            };
            let (key, plaintext) =
                keys::create(store.as_ref(), &Actor::system(&tenant.id), None, input)
                    .await
                    .map_err(domain)?;
            let mut out = serde_json::to_value(&key)?;
            out["key"] = json!(plaintext);
            out["tenant_id"] = json!(tenant.id);
            print_json(&out)
        }
        Command::Keys(KeysCommand::Revoke { id, database_url }) => {
            let store = stores::open(&db(database_url)).await?;
            print_json(
                &keys::revoke(store.as_ref(), None, None, &id)
                    .await
                    .map_err(domain)?,
            )
        }
        Command::Keys(KeysCommand::Approve { id, database_url }) => {
            let store = stores::open(&db(database_url)).await?;
            print_json(
                &keys::approve(store.as_ref(), None, &id)
                    .await
                    .map_err(domain)?,
            )
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HIREWIRE_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut overrides = serde_json::Map::new();
    if let Some(b) = args.bind {
        overrides.insert("bind".into(), json!(b));
    }
    if let Some(u) = args.database_url {
        overrides.insert("database_url".into(), json!(u));
    }
    if args.dev {
        overrides.insert("dev".into(), json!(true));
    }
    if let Some(f) = args.log_format {
        overrides.insert("log_format".into(), json!(f));
    }
    let config = settings::load(args.config.as_deref(), serde_json::Value::Object(overrides))?;
    anyhow::ensure!(
        matches!(config.log_format.as_str(), "text" | "json"),
        "log_format must be `text` or `json`"
    );
    config
        .webhooks
        .retry_policy()
        .map_err(|e| anyhow::anyhow!("invalid webhooks setting: {e}"))?;
    init_logging(&config.log_format);
    let started = std::time::Instant::now();
    // Building the OpenAPI document is CPU work the router needs; done meanwhile, it costs a
    // first start nothing while the store connects and migrates.
    let spec = tokio::task::spawn_blocking(hirewire_server::openapi_json);
    let store = stores::open(&config.database_url).await?;
    if let Some((key, plaintext)) =
        tenants::bootstrap(store.as_ref(), config.bootstrap_key.as_deref())
            .await
            .map_err(domain)?
    {
        if config.bootstrap_key.is_some() {
            println!(
                "Created tenant `default` with the admin key from HIREWIRE_BOOTSTRAP_KEY ({}).",
                key.id
            );
        } else {
            println!("Created tenant `default`. Admin key (shown once, store it now): {plaintext}");
        }
    }
    if config.dev || config.webhooks.allow_insecure_targets {
        tracing::warn!(
            "plain-http and private-address webhook targets are allowed (development mode)"
        );
    }
    let listener = TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = listener.local_addr()?;
    spec.await?;
    tracing::info!(%addr, backend = store.backend(), startup_ms = started.elapsed().as_millis() as u64, "hirewire listening on http://{addr}");
    let server = Server::new(config, store.clone());
    server.run(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

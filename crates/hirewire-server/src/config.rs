//! Server settings. Each has a safe default; the binary layers flags, `HIREWIRE_*`
//! variables and an optional TOML file over them.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Requests per minute per key, by endpoint family (DESIGN §9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub jobs: u32,
    pub candidate_search: u32,
    pub candidate_read: u32,
    pub default: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            jobs: 100,
            candidate_search: 30,
            candidate_read: 60,
            default: 600,
        }
    }
}

/// Every setting of `hirewire serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://FILE` or `postgres://…`.
    pub database_url: String,
    /// Development mode: allows plain-http and private webhook targets.
    pub dev: bool,
    /// `text` or `json`.
    pub log_format: String,
    /// Largest JSON body accepted, in bytes.
    pub json_body_limit: usize,
    /// Largest document upload accepted, in bytes.
    pub document_body_limit: usize,
    pub rate_limits: RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// How long an authenticated key is cached; a revocation elsewhere takes effect within it.
    pub key_cache_ttl_secs: u64,
    /// How often the expiry worker looks for jobs past `expires_at`.
    pub expiry_interval_secs: u64,
    /// How often buffered audit call records are written.
    pub audit_flush_interval_ms: u64,
    /// How often keys' `last_used_at` is written.
    pub key_use_flush_interval_ms: u64,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout_secs: u64,
    /// The plaintext of the admin key that the first start creates (else one is generated).
    #[serde(skip_serializing)]
    pub bootstrap_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://hirewire.db".into(),
            dev: false,
            log_format: "text".into(),
            json_body_limit: 1024 * 1024,
            document_body_limit: 10 * 1024 * 1024,
            rate_limits: RateLimits::default(),
            trusted_proxies: Vec::new(),
            key_cache_ttl_secs: 10,
            expiry_interval_secs: 15,
            audit_flush_interval_ms: 200,
            key_use_flush_interval_ms: 5000,
            shutdown_timeout_secs: 8,
            bootstrap_key: None,
        }
    }
}

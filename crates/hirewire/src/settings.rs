//! Layered configuration: built-in defaults, then the TOML file, then `HIREWIRE_*` variables,
//! then flags (the last wins).

use std::path::Path;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use hirewire_server::Config;

/// The top-level settings that `HIREWIRE_*` variables may set; other `HIREWIRE_*` variables
/// (such as the test suite's) are not settings and are ignored.
const KEYS: &[&str] = &[
    "bind",
    "database_url",
    "dev",
    "log_format",
    "json_body_limit",
    "document_body_limit",
    "rate_limits",
    "trusted_proxies",
    "key_cache_ttl_secs",
    "expiry_interval_secs",
    "audit_flush_interval_ms",
    "key_use_flush_interval_ms",
    "shutdown_timeout_secs",
    "bootstrap_key",
];

/// Builds the configuration; `overrides` holds the flags that were given.
pub fn load(file: Option<&Path>, overrides: serde_json::Value) -> anyhow::Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = file {
        anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
        fig = fig.merge(Toml::file(f));
    }
    let env = Env::prefixed("HIREWIRE_").split("__").filter(|k| KEYS.iter().any(|known| k.as_str().split('.').next() == Some(known)));
    fig = fig.merge(env).merge(Serialized::defaults(overrides));
    fig.extract().context("invalid configuration")
}

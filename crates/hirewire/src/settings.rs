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
    "import_body_limit",
    "rate_limits",
    "trusted_proxies",
    "key_cache_ttl_secs",
    "expiry_interval_secs",
    "audit_flush_interval_ms",
    "key_use_flush_interval_ms",
    "shutdown_timeout_secs",
    "webhooks",
    "parse_workers",
    "parse_timeout_secs",
    "review_confidence_threshold",
    "bootstrap_key",
];

/// Builds the configuration; `overrides` holds the flags that were given.
pub fn load(file: Option<&Path>, overrides: serde_json::Value) -> anyhow::Result<Config> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if let Some(f) = file {
        anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
        fig = fig.merge(Toml::file(f));
    }
    let env = Env::prefixed("HIREWIRE_").split("__").filter(|k| {
        let key = k.as_str().to_ascii_lowercase();
        let top = key
            .split("__")
            .next()
            .and_then(|k| k.split('.').next())
            .unwrap_or_default();
        KEYS.contains(&top)
    });
    fig = fig.merge(env).merge(Serialized::defaults(overrides));
    fig.extract().context("invalid configuration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_help_lists_every_setting() {
        let defaults = serde_json::to_value(Config::default()).unwrap();
        for key in KEYS {
            assert!(
                crate::cli::SETTINGS_HELP.contains(key),
                "serve --help does not list `{key}`"
            );
        }
        for key in defaults.as_object().unwrap().keys() {
            assert!(
                KEYS.contains(&key.as_str()),
                "`{key}` cannot be set from the environment"
            );
        }
    }

    #[test]
    // figment's Jail fixes the closure's error type; its size is not ours to choose.
    #[allow(clippy::result_large_err)]
    fn flags_beat_variables_which_beat_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "h.toml",
                "bind = \"0.0.0.0:1\"\ndev = true\n[rate_limits]\njobs = 7\ncandidate_search = 8\n",
            )?;
            jail.set_env("HIREWIRE_BIND", "0.0.0.0:2");
            jail.set_env("HIREWIRE_RATE_LIMITS__JOBS", "9");
            jail.set_env("HIREWIRE_TEST_POSTGRES_URL", "postgres://ignored");
            let c = load(Some(Path::new("h.toml")), serde_json::json!({}))
                .map_err(|e| e.to_string())?;
            assert_eq!(
                (
                    c.bind.as_str(),
                    c.dev,
                    c.rate_limits.jobs,
                    c.rate_limits.candidate_search
                ),
                ("0.0.0.0:2", true, 9, 8)
            );
            let c = load(
                Some(Path::new("h.toml")),
                serde_json::json!({"bind": "0.0.0.0:3"}),
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(c.bind, "0.0.0.0:3");
            Ok(())
        });
    }
}

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

/// Outgoing webhooks (DESIGN §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Allows plain-http targets and targets on private or reserved addresses (also `--dev`).
    pub allow_insecure_targets: bool,
    /// The waits between attempts (`500ms`, `30s`, `5m`, `1h`, `1d`).
    pub retry_schedule: Vec<String>,
    /// After this many failed attempts a delivery is dead.
    pub max_attempts: i64,
    /// Each wait is stretched or shrunk at random by up to this fraction.
    pub retry_jitter: f64,
    /// The longest receiver `Retry-After` (on 429 or 503) that is honoured, in seconds.
    pub retry_after_cap_secs: u64,
    /// A receiver must answer within this many seconds.
    pub timeout_secs: u64,
    /// Requests in flight per subscription, across every process.
    pub max_in_flight: i64,
    /// Requests in flight per process, across subscriptions.
    pub max_in_flight_total: i64,
    /// Failed attempts in a row that switch a subscription off (0: never, but 410 Gone does).
    pub disable_after_failures: i64,
    /// …provided the failures span at least this many seconds (0: the strict rule).
    pub disable_min_span_secs: u64,
    /// How long a process holds a delivery it is sending; one that dies loses it after this.
    pub lease_secs: u64,
    /// How often workers look for work written by other processes or falling due.
    pub poll_interval_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_insecure_targets: false,
            retry_schedule: ["1m", "5m", "15m", "1h", "6h", "24h", "24h", "24h"]
                .map(String::from)
                .to_vec(),
            max_attempts: 8,
            retry_jitter: 0.1,
            retry_after_cap_secs: 3600,
            timeout_secs: 10,
            max_in_flight: 50,
            max_in_flight_total: 500,
            disable_after_failures: 10,
            disable_min_span_secs: 3600,
            lease_secs: 60,
            poll_interval_ms: 250,
        }
    }
}

/// Parses a duration such as `500ms`, `30s`, `5m`, `1h` or `1d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 30s or 5m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(format!("`{s}`: use ms, s, m, h or d")),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

impl WebhookSettings {
    /// The retry policy these settings describe.
    pub fn retry_policy(&self) -> Result<hirewire_core::model::RetryPolicy, String> {
        let schedule = self
            .retry_schedule
            .iter()
            .map(|s| parse_duration(s))
            .collect::<Result<Vec<_>, _>>()?;
        if schedule.is_empty() {
            return Err("webhooks.retry_schedule needs at least one wait".into());
        }
        Ok(hirewire_core::model::RetryPolicy {
            schedule,
            max_attempts: self.max_attempts.max(1),
            jitter: self.retry_jitter.clamp(0.0, 1.0),
            retry_after_cap: std::time::Duration::from_secs(self.retry_after_cap_secs),
        })
    }

    /// The disable policy these settings describe.
    pub fn disable_policy(&self) -> hirewire_core::model::DisablePolicy {
        hirewire_core::model::DisablePolicy {
            after_failures: self.disable_after_failures.max(0),
            min_span: std::time::Duration::from_secs(self.disable_min_span_secs),
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
    /// Largest bulk import accepted, in bytes (it is stored in chunks, never held whole).
    pub import_body_limit: usize,
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
    pub webhooks: WebhookSettings,
    /// How many CVs this process parses at once (0: one per core).
    pub parse_workers: usize,
    /// How long one CV may take to parse before its operation fails.
    pub parse_timeout_secs: u64,
    /// Evaluations less confident than this (0–1) open a review item.
    pub review_confidence_threshold: f64,
    /// The plaintext of the admin key that the first start creates (else one is generated).
    #[serde(skip_serializing)]
    pub bootstrap_key: Option<String>,
}

impl Config {
    /// What the domain needs to act on evaluations; an out-of-range threshold is clamped.
    pub fn evaluation_policy(&self) -> hirewire_core::service::evaluations::Policy {
        let t = self.review_confidence_threshold;
        hirewire_core::service::evaluations::Policy {
            review_below_confidence: if t.is_finite() {
                t.clamp(0.0, 1.0)
            } else {
                0.5
            },
        }
    }

    /// How many CVs this process parses at once.
    pub fn parse_workers(&self) -> usize {
        match self.parse_workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
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
            import_body_limit: 512 * 1024 * 1024,
            rate_limits: RateLimits::default(),
            trusted_proxies: Vec::new(),
            key_cache_ttl_secs: 10,
            expiry_interval_secs: 15,
            audit_flush_interval_ms: 200,
            key_use_flush_interval_ms: 5000,
            shutdown_timeout_secs: 8,
            webhooks: WebhookSettings::default(),
            parse_workers: 0,
            parse_timeout_secs: 30,
            review_confidence_threshold: 0.5,
            bootstrap_key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        use std::time::Duration;
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(WebhookSettings::default().retry_policy().is_ok());
    }
}

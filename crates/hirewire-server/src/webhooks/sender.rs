//! One attempt: build the body, sign it afresh, send it, and write down what came back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hirewire_core::ids::{new_id, prefix};
use hirewire_core::model::webhook::{RESPONSE_EXCERPT_BYTES, strip_pii};
use hirewire_core::model::{Attempt, AttemptOutcome};
use hirewire_core::service::webhooks::Claimed;
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::webhooks::target::{GuardedResolver, check_literal};

/// The `User-Agent` of every delivery.
pub const USER_AGENT: &str = concat!("Hirewire-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Response headers kept per attempt, at most.
const MAX_HEADERS: usize = 50;

/// Sends deliveries over one pooled HTTP client.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_insecure: bool,
    timeout: Duration,
}

impl Sender {
    /// A sender with connections pooled per host. Without `allow_insecure`, names resolve
    /// through the SSRF guard and only https is sent to.
    pub fn new(timeout: Duration, pool_per_host: usize, allow_insecure: bool) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(pool_per_host)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if !allow_insecure {
            builder = builder
                .dns_resolver(Arc::new(GuardedResolver))
                .https_only(true);
        }
        let client = builder.build().unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not build the webhook client; using defaults");
            reqwest::Client::new()
        });
        Self {
            client,
            allow_insecure,
            timeout,
        }
    }

    /// Makes one attempt of a claimed delivery.
    pub async fn attempt(&self, c: &Claimed) -> AttemptOutcome {
        let started_at = hirewire_core::time::now();
        let clock = Instant::now();
        let number = c.delivery.delivery.attempts + 1;
        let mut attempt = Attempt {
            id: new_id(prefix::ATTEMPT),
            delivery_id: c.delivery.delivery.id.clone(),
            attempt: number,
            started_at,
            duration_ms: 0,
            status_code: None,
            response_headers: BTreeMap::new(),
            response_body: None,
            error: None,
            succeeded: false,
        };
        let mut retry_after = None;
        match self.send(c).await {
            Ok((status, headers, body)) => {
                attempt.status_code = Some(status);
                attempt.succeeded = (200..300).contains(&status);
                if matches!(status, 429 | 503) {
                    retry_after = headers.get(RETRY_AFTER).and_then(parse_retry_after);
                }
                attempt.response_headers = headers
                    .iter()
                    .take(MAX_HEADERS)
                    .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                    .collect();
                attempt.response_body = (!body.is_empty()).then_some(body);
                if !attempt.succeeded {
                    attempt.error = Some(format!("the receiver answered {status}"));
                }
            }
            Err(e) => attempt.error = Some(e),
        }
        attempt.duration_ms = clock.elapsed().as_millis().min(i64::MAX as u128) as i64;
        metrics::counter!(
            "webhook_attempts_total",
            "result" => if attempt.succeeded { "succeeded" } else { "failed" }
        )
        .increment(1);
        metrics::histogram!("webhook_attempt_duration_seconds")
            .record(clock.elapsed().as_secs_f64());
        AttemptOutcome {
            attempt,
            retry_after,
        }
    }

    async fn send(&self, c: &Claimed) -> Result<(u16, HeaderMap, String), String> {
        let sub = &c.subscription;
        let url = url::Url::parse(&sub.subscription.url).map_err(|e| format!("bad URL: {e}"))?;
        if !self.allow_insecure {
            check_literal(&url).map_err(|e| e.0)?;
        }
        let mut event = c.event.clone();
        if !sub.subscription.include_pii {
            strip_pii(&mut event.data);
        }
        let body = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
        let now = Utc::now();
        let delivery_id = &c.delivery.delivery.id;
        let signed = hirewire_signature::sign(
            &sub.signing_secrets(now),
            delivery_id,
            now.timestamp(),
            &body,
        )
        .map_err(|e| format!("cannot sign: {e}"))?;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        put("x-webhook-signature", &signed.x_webhook_signature);
        put("x-webhook-event", &event.event_type);
        put("x-webhook-delivery-id", delivery_id);
        put(
            "x-causation-id",
            event.causation_id.as_deref().unwrap_or(&event.id),
        );
        put("traceparent", &traceparent(event.trace_id.as_deref()));
        put("webhook-id", &signed.webhook_id);
        put("webhook-timestamp", &signed.webhook_timestamp);
        put("webhook-signature", &signed.webhook_signature);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut res = self
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| describe(&e, self.timeout))?;
        let status = res.status().as_u16();
        let headers = std::mem::take(res.headers_mut());
        let mut excerpt = Vec::new();
        // Read only what is kept; a receiver that streams a large body must not hold a slot.
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match res.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT_BYTES);
        // A character cut in half becomes U+FFFD, which may take the text past the limit.
        let mut text = String::from_utf8_lossy(&excerpt).into_owned();
        while text.len() > RESPONSE_EXCERPT_BYTES {
            text.pop();
        }
        Ok((status, headers, text))
    }
}

/// A `traceparent` that continues the trace of the request that caused the event, with a new
/// span for this attempt.
fn traceparent(trace_id: Option<&str>) -> String {
    let mut rng = rand::rng();
    let trace = match trace_id {
        Some(t) if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_string(),
        _ => format!("{:032x}", rng.random::<u128>() | 1),
    };
    format!("00-{trace}-{:016x}-01", rng.random::<u64>() | 1)
}

/// A receiver's `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let s = v.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(s).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

/// An error's message with its causes, which is where reqwest keeps the useful part.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_continue_the_trace() {
        let t = "4bf92f3577b34da6a3ce929d0e0e4736";
        let tp = traceparent(Some(t));
        assert!(
            tp.starts_with(&format!("00-{t}-")) && tp.ends_with("-01"),
            "{tp}"
        );
        assert_eq!(traceparent(None).len(), 55);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("120")),
            Some(Duration::from_secs(120))
        );
        let later = (Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let d = parse_retry_after(&HeaderValue::from_str(&later).unwrap()).unwrap();
        assert!(d > Duration::from_secs(80) && d <= Duration::from_secs(90));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }
}

//! Webhook subscriptions, their deliveries and the attempts made for each delivery, with the
//! rules that decide who receives an event, when a failed delivery is tried again and when a
//! failing subscription is switched off.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::event::Event;

/// How long a rotated-out secret keeps verifying.
pub const SECRET_OVERLAP_SECS: i64 = 24 * 3600;
/// The wildcard event filter.
pub const ALL_EVENTS: &str = "*";

/// Narrows which events a subscription receives, beyond their types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookFilter {
    /// Only events about this job (job events, and events whose data carries this `job_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Only `application.status_changed` events moving to one of these stages; other event
    /// types are not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_status: Option<Vec<String>>,
}

impl WebhookFilter {
    fn admits(&self, event: &Event) -> bool {
        if let Some(job_id) = &self.job_id {
            let data = &event.data;
            // Job events carry the job; application and review events name it inside their
            // object; scoring events name it at the top.
            let about = data
                .get("job_id")
                .or_else(|| data.get("job").and_then(|j| j.get("id")))
                .or_else(|| data.get("application").and_then(|a| a.get("job_id")))
                .or_else(|| data.get("review").and_then(|r| r.get("job_id")))
                .and_then(Value::as_str);
            if about != Some(job_id.as_str()) {
                return false;
            }
        }
        if let Some(stages) = &self.new_status
            && event.event_type == "application.status_changed"
        {
            let new = event.data.get("new_status").and_then(Value::as_str);
            if !new.is_some_and(|n| stages.iter().any(|s| s == n)) {
                return false;
            }
        }
        true
    }
}

/// A subscription as clients see it: never its secrets.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    /// Event types delivered, or `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// Inactive subscriptions receive nothing; their pending deliveries wait.
    pub is_active: bool,
    pub filter: WebhookFilter,
    /// When false, deliveries carry ids and statuses but no names, emails or phones.
    pub include_pii: bool,
    /// Why the subscription was switched off automatically, if it was.
    pub disabled_reason: Option<String>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until this time the secret replaced by the last rotation still signs deliveries.
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub revision: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// A subscription with what the store keeps beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    pub tenant_id: String,
    pub subscription: Subscription,
    pub secret: String,
    pub previous_secret: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i64,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
}

impl StoredSubscription {
    /// The secrets that sign a delivery sent at `now`: the current one, and the previous one
    /// while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (
            &self.previous_secret,
            self.subscription.previous_secret_expires_at,
        ) && until > now
        {
            secrets.push(old.as_str());
        }
        secrets
    }

    /// Whether `event` goes to this subscription. Targeted events (a `ping`) go only to their
    /// target, whatever its filters.
    pub fn wants(&self, event: &Event) -> bool {
        let s = &self.subscription;
        if !s.is_active {
            return false;
        }
        if let Some(target) = &event.subscription_id {
            return *target == s.id;
        }
        (s.events
            .iter()
            .any(|e| e == ALL_EVENTS || *e == event.event_type))
            && s.filter.admits(event)
    }
}

/// What a caller gives to create a subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// An `https://` URL (plain http and private addresses only in development mode).
    #[schema(max_length = 2000)]
    pub url: String,
    /// Event types, or `["*"]` for all.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub is_active: bool,
    #[serde(default)]
    pub filter: WebhookFilter,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub include_pii: bool,
}

fn yes() -> bool {
    true
}

/// A partial update of a subscription; absent fields are left alone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionPatch {
    #[schema(max_length = 2000)]
    pub url: Option<String>,
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::model::job::nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    /// Setting `true` re-enables a subscription that was switched off, and starts its
    /// failure count afresh.
    pub is_active: Option<bool>,
    pub filter: Option<WebhookFilter>,
    pub include_pii: Option<bool>,
    /// The revision the change is based on (like `If-Match`).
    pub revision: Option<i64>,
}

/// Filters for listing subscriptions.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionQuery {
    pub page: crate::page::PageRequest,
}

/// Where a delivery stands (DESIGN §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// The first attempt has not been made.
    Pending,
    Succeeded,
    /// The last attempt failed and another is scheduled.
    Failed,
    /// No more attempts will be made unless someone retries it.
    Dead,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            _ => return None,
        })
    }
}

/// One event on its way to one subscription, however many attempts it takes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    /// Sent as `X-Webhook-Delivery-Id` and `webhook-id`; the same on every attempt.
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// A delivery with what the store keeps beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDelivery {
    pub tenant_id: String,
    pub delivery: Delivery,
}

/// One HTTP request made for a delivery, and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's status, absent when no response came (timeout, refused connection).
    pub status_code: Option<u16>,
    pub response_headers: BTreeMap<String, String>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    /// Why the attempt failed, when it did not get a response.
    pub error: Option<String>,
    pub succeeded: bool,
}

/// The largest response body excerpt kept per attempt.
pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

/// Filters for listing a subscription's deliveries.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub page: crate::page::PageRequest,
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The wait before the 2nd, 3rd, … attempt; the last wait repeats if attempts outnumber it.
    pub schedule: Vec<Duration>,
    /// After this many failed attempts the delivery is dead.
    pub max_attempts: i64,
    /// Each wait is stretched or shrunk at random by up to this fraction, so that many
    /// deliveries failed together do not all come back at once.
    pub jitter: f64,
    /// The longest `Retry-After` of a receiver that is honoured.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        Self {
            schedule: [
                MIN,
                5 * MIN,
                15 * MIN,
                HOUR,
                6 * HOUR,
                24 * HOUR,
                24 * HOUR,
                24 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            max_attempts: 8,
            jitter: 0.1,
            retry_after_cap: Duration::from_secs(HOUR),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `attempts_made` failed ones, or `None` when the
    /// delivery is dead. `retry_after` is the receiver's own request; `unit_random` is in
    /// [0, 1).
    pub fn next_delay(
        &self,
        attempts_made: i64,
        retry_after: Option<Duration>,
        unit_random: f64,
    ) -> Option<Duration> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let index = usize::try_from(attempts_made.max(1) - 1).ok()?;
        let base = *self.schedule.get(index).or(self.schedule.last())?;
        let spread = self.jitter.clamp(0.0, 1.0) * (unit_random.clamp(0.0, 1.0) * 2.0 - 1.0);
        let jittered = base.mul_f64((1.0 + spread).max(0.0));
        Some(match retry_after {
            Some(wanted) => jittered.max(wanted.min(self.retry_after_cap)),
            None => jittered,
        })
    }
}

/// When a failing subscription is switched off.
#[derive(Debug, Clone, PartialEq)]
pub struct DisablePolicy {
    /// Failed attempts in a row; 0 never disables (but 410 Gone still does).
    pub after_failures: i64,
    /// The run of failures must also have lasted this long, so that a short outage with many
    /// deliveries in flight does not disable anyone. Zero gives the strict rule.
    pub min_span: Duration,
}

impl Default for DisablePolicy {
    fn default() -> Self {
        Self {
            after_failures: 10,
            min_span: Duration::from_secs(3600),
        }
    }
}

/// What an attempt came to, as the engine reports it; it travels with its delivery, which
/// says whose it is.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub attempt: Attempt,
    /// The receiver's `Retry-After` on 429 or 503.
    pub retry_after: Option<Duration>,
}

impl AttemptOutcome {
    /// Whether the receiver said the endpoint is gone for good.
    pub fn gone(&self) -> bool {
        self.attempt.status_code == Some(410)
    }
}

/// The state of a delivery after an attempt; `unit_random` feeds the retry jitter.
pub fn after_attempt(
    delivery: &Delivery,
    outcome: &AttemptOutcome,
    policy: &RetryPolicy,
    unit_random: f64,
) -> Delivery {
    let a = &outcome.attempt;
    let finished = a.started_at + chrono::Duration::milliseconds(a.duration_ms);
    let attempts = delivery.attempts.max(a.attempt - 1) + 1;
    let (status, next) = if a.succeeded {
        (DeliveryStatus::Succeeded, None)
    } else if outcome.gone() {
        (DeliveryStatus::Dead, None)
    } else {
        match policy.next_delay(attempts, outcome.retry_after, unit_random) {
            Some(wait) => (
                DeliveryStatus::Failed,
                Some(finished + chrono::Duration::from_std(wait).unwrap_or(chrono::TimeDelta::MAX)),
            ),
            None => (DeliveryStatus::Dead, None),
        }
    };
    Delivery {
        status,
        attempts,
        next_attempt_at: next,
        last_attempt_at: Some(a.started_at),
        last_status_code: a.status_code,
        last_error: a.error.clone(),
        updated_at: finished.max(delivery.updated_at),
        ..delivery.clone()
    }
}

/// Counts an attempt into a subscription's run of failures; returns the reason to disable it,
/// if this attempt is the one that should.
pub fn count_attempt(
    sub: &mut StoredSubscription,
    outcome: &AttemptOutcome,
    policy: &DisablePolicy,
) -> Option<String> {
    let a = &outcome.attempt;
    if a.succeeded {
        sub.consecutive_failures = 0;
        sub.failing_since = None;
        return None;
    }
    sub.consecutive_failures += 1;
    let since = *sub.failing_since.get_or_insert(a.started_at);
    if !sub.subscription.is_active {
        return None;
    }
    if outcome.gone() {
        return Some("the receiver answered 410 Gone".into());
    }
    let span = (a.started_at - since).to_std().unwrap_or_default();
    if policy.after_failures > 0
        && sub.consecutive_failures >= policy.after_failures
        && span >= policy.min_span
    {
        return Some(format!(
            "{} attempts in a row failed over {} minutes",
            sub.consecutive_failures,
            span.as_secs() / 60
        ));
    }
    None
}

/// Removes personal data (names, emails, phones) from an event's data, for subscriptions with
/// `include_pii: false`.
pub fn strip_pii(value: &mut Value) {
    const PII: &[&str] = &[
        "first_name",
        "last_name",
        "full_name",
        "email",
        "emails",
        "phone",
        "phones",
        "basics",
        "address",
    ];
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !PII.contains(&k.as_str()));
            map.values_mut().for_each(strip_pii);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_pii),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(t: &str, data: Value) -> Event {
        Event {
            id: "evt_1".into(),
            event_type: t.into(),
            created_at: crate::time::now(),
            tenant_id: "ten_1".into(),
            reference_id: None,
            data,
            causation_id: None,
            trace_id: None,
            subscription_id: None,
        }
    }

    fn sub(events: &[&str], filter: WebhookFilter) -> StoredSubscription {
        let now = crate::time::now();
        StoredSubscription {
            tenant_id: "ten_1".into(),
            subscription: Subscription {
                id: "whk_1".into(),
                url: "https://example.com".into(),
                events: events.iter().map(|s| s.to_string()).collect(),
                description: None,
                is_active: true,
                filter,
                include_pii: true,
                disabled_reason: None,
                disabled_at: None,
                previous_secret_expires_at: None,
                revision: 1,
                created_at: now,
                updated_at: now,
            },
            secret: "whsec_a".into(),
            previous_secret: None,
            consecutive_failures: 0,
            failing_since: None,
        }
    }

    #[test]
    fn types_and_filters_select_events() {
        let job = event("job.created", json!({"job": {"id": "job_1"}}));
        assert!(sub(&["*"], WebhookFilter::default()).wants(&job));
        assert!(sub(&["job.created"], WebhookFilter::default()).wants(&job));
        assert!(!sub(&["job.closed"], WebhookFilter::default()).wants(&job));
        let only = |id: &str| WebhookFilter {
            job_id: Some(id.into()),
            new_status: None,
        };
        assert!(sub(&["*"], only("job_1")).wants(&job));
        assert!(!sub(&["*"], only("job_2")).wants(&job));
        let hired = WebhookFilter {
            job_id: Some("job_1".into()),
            new_status: Some(vec!["hired".into()]),
        };
        let moved = |to: &str| {
            event(
                "application.status_changed",
                json!({"job_id": "job_1", "new_status": to}),
            )
        };
        assert!(sub(&["*"], hired.clone()).wants(&moved("hired")));
        // The application's own shape, as the domain writes it.
        let applied = |job: &str| {
            event(
                "application.status_changed",
                json!({"application": {"id": "app_1", "job_id": job}, "new_status": "hired"}),
            )
        };
        assert!(sub(&["*"], hired.clone()).wants(&applied("job_1")));
        assert!(!sub(&["*"], hired.clone()).wants(&applied("job_2")));
        let scored = event(
            "application.scored",
            json!({"job_id": "job_1", "score": 90}),
        );
        assert!(sub(&["*"], only("job_1")).wants(&scored));
        assert!(!sub(&["*"], only("job_2")).wants(&scored));
        assert!(!sub(&["*"], hired.clone()).wants(&moved("interview")));
        let mut inactive = sub(&["*"], WebhookFilter::default());
        inactive.subscription.is_active = false;
        assert!(!inactive.wants(&job));
        let mut ping = event("ping", json!({}));
        ping.subscription_id = Some("whk_1".into());
        assert!(sub(&["job.closed"], WebhookFilter::default()).wants(&ping));
        ping.subscription_id = Some("whk_2".into());
        assert!(!sub(&["*"], WebhookFilter::default()).wants(&ping));
    }

    #[test]
    fn the_schedule_ends_in_the_dead_letter() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(1, None, 0.5), Some(Duration::from_secs(60)));
        assert_eq!(
            p.next_delay(7, None, 0.5),
            Some(Duration::from_secs(24 * 3600))
        );
        assert_eq!(p.next_delay(8, None, 0.5), None);
        let low = p.next_delay(1, None, 0.0).unwrap();
        let high = p.next_delay(1, None, 0.999).unwrap();
        assert!(low >= Duration::from_secs(54) && high <= Duration::from_secs(66));
        // A receiver's Retry-After is honoured up to the cap, never shortening the schedule.
        let wanted = p
            .next_delay(1, Some(Duration::from_secs(600)), 0.5)
            .unwrap();
        assert_eq!(wanted, Duration::from_secs(600));
        let capped = p
            .next_delay(1, Some(Duration::from_secs(10 * 3600)), 0.5)
            .unwrap();
        assert_eq!(capped, Duration::from_secs(3600));
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(1)), 0.5),
            Some(Duration::from_secs(60))
        );
    }

    fn failure(at: DateTime<Utc>, status: Option<u16>) -> AttemptOutcome {
        AttemptOutcome {
            retry_after: None,
            attempt: Attempt {
                id: "att_1".into(),
                delivery_id: "dlv_1".into(),
                attempt: 1,
                started_at: at,
                duration_ms: 3,
                status_code: status,
                response_headers: BTreeMap::new(),
                response_body: None,
                error: None,
                succeeded: false,
            },
        }
    }

    #[test]
    fn a_short_burst_of_failures_disables_nobody() {
        let policy = DisablePolicy::default();
        let mut s = sub(&["*"], WebhookFilter::default());
        let t0 = crate::time::now();
        for i in 0..50 {
            let at = t0 + chrono::Duration::seconds(i);
            assert_eq!(
                count_attempt(&mut s, &failure(at, Some(503)), &policy),
                None
            );
        }
        let later = t0 + chrono::Duration::minutes(61);
        assert!(count_attempt(&mut s, &failure(later, Some(503)), &policy).is_some());
    }

    #[test]
    fn the_strict_rule_and_gone() {
        let strict = DisablePolicy {
            after_failures: 10,
            min_span: Duration::ZERO,
        };
        let mut s = sub(&["*"], WebhookFilter::default());
        let t0 = crate::time::now();
        for _ in 0..9 {
            assert_eq!(count_attempt(&mut s, &failure(t0, None), &strict), None);
        }
        assert!(count_attempt(&mut s, &failure(t0, None), &strict).is_some());
        let mut fresh = sub(&["*"], WebhookFilter::default());
        let reason = count_attempt(&mut fresh, &failure(t0, Some(410)), &strict).unwrap();
        assert!(reason.contains("410"));
    }

    #[test]
    fn a_success_ends_the_run_of_failures() {
        let mut s = sub(&["*"], WebhookFilter::default());
        let t0 = crate::time::now();
        count_attempt(&mut s, &failure(t0, Some(500)), &DisablePolicy::default());
        let mut ok = failure(t0, Some(200));
        ok.attempt.succeeded = true;
        count_attempt(&mut s, &ok, &DisablePolicy::default());
        assert_eq!((s.consecutive_failures, s.failing_since), (0, None));
    }

    #[test]
    fn attempts_move_deliveries_along() {
        let now = crate::time::now();
        let d = Delivery {
            id: "dlv_1".into(),
            subscription_id: "whk_1".into(),
            event_id: "evt_1".into(),
            event_type: "job.created".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        let policy = RetryPolicy::default();
        let failed = after_attempt(&d, &failure(now, Some(500)), &policy, 0.5);
        assert_eq!(
            (failed.status, failed.attempts),
            (DeliveryStatus::Failed, 1)
        );
        assert!(failed.next_attempt_at.unwrap() > now + chrono::Duration::seconds(59));
        let gone = after_attempt(&d, &failure(now, Some(410)), &policy, 0.5);
        assert_eq!(gone.status, DeliveryStatus::Dead);
        let mut last = failure(now, Some(500));
        last.attempt.attempt = 8;
        let dead = after_attempt(
            &Delivery {
                attempts: 7,
                ..d.clone()
            },
            &last,
            &policy,
            0.5,
        );
        assert_eq!((dead.status, dead.attempts), (DeliveryStatus::Dead, 8));
    }

    #[test]
    fn pii_is_stripped_at_any_depth() {
        let mut v = json!({"candidate": {"id": "can_1", "first_name": "Ana", "email": "a@b.c",
            "work": [{"phone": "1", "company": "X"}]}, "status": "hired"});
        strip_pii(&mut v);
        assert_eq!(
            v,
            json!({"candidate": {"id": "can_1", "work": [{"company": "X"}]}, "status": "hired"})
        );
    }
}

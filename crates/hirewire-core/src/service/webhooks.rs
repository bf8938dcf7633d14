//! Webhook subscriptions, the fan-out of the outbox into deliveries, claiming deliveries for
//! sending and recording what each attempt came to. Sending itself (HTTP) is the server's.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::context::Actor;
use crate::error::{DomainError, DomainResult};
use crate::event::{Event, PingData, WebhookDisabledData, is_subscribable};
use crate::ids::{has_shape, new_id, prefix};
use crate::model::webhook::{ALL_EVENTS, SECRET_OVERLAP_SECS, after_attempt, count_attempt};
use crate::model::{
    AttemptOutcome, Delivery, DeliveryStatus, DisablePolicy, NewSubscription, RetryPolicy,
    StoredDelivery, StoredSubscription, Subscription, SubscriptionPatch, WebhookFilter,
};
use crate::service::{Change, record};
use crate::store::{Store, Tx};

/// A fresh signing secret: `whsec_` and 32 random bytes in standard base64.
pub fn generate_secret() -> String {
    hirewire_signature::secret_from_bytes(&rand::rng().random())
}

fn check_url(url: &str) -> DomainResult<String> {
    let url = url.trim();
    let bad = |m: &str| DomainError::invalid("url", m);
    if url.len() > 2000 {
        return Err(bad("a webhook URL has at most 2000 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(&format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(bad("a webhook URL must use https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("a webhook URL needs a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "a webhook URL may not carry credentials; verify the signature instead",
        ));
    }
    Ok(parsed.to_string())
}

fn check_events(events: &[String]) -> DomainResult<Vec<String>> {
    if events.is_empty() {
        return Err(DomainError::invalid(
            "events",
            "list at least one event type, or `*` for all",
        ));
    }
    let unknown: Vec<&str> = events
        .iter()
        .map(String::as_str)
        .filter(|e| *e != ALL_EVENTS && !is_subscribable(e))
        .collect();
    if !unknown.is_empty() {
        return Err(DomainError::invalid(
            "events",
            format!(
                "unknown event types: {}; GET /api/v1/event-types lists them",
                unknown.join(", ")
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

fn check_description(d: Option<String>) -> DomainResult<Option<String>> {
    crate::model::job::clean_text("description", d, 500)
}

fn check_filter(f: WebhookFilter) -> DomainResult<WebhookFilter> {
    if let Some(job) = &f.job_id
        && !has_shape(prefix::JOB, job)
    {
        return Err(DomainError::invalid(
            "filter.job_id",
            format!("`{job}` is not a job id"),
        ));
    }
    if let Some(stages) = &f.new_status {
        use crate::model::application::ApplicationStatus;
        if stages.is_empty() {
            return Err(DomainError::invalid(
                "filter.new_status",
                "list one or more application statuses",
            ));
        }
        if let Some((i, s)) = stages
            .iter()
            .enumerate()
            .find(|(_, s)| ApplicationStatus::parse(s).is_none())
        {
            let all: Vec<&str> = ApplicationStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(DomainError::invalid(
                format!("filter.new_status[{i}]"),
                format!(
                    "`{}` is not an application status; use {}",
                    s.escape_debug(),
                    all.join(", ")
                ),
            ));
        }
    }
    Ok(f)
}

fn webhook_change<'a>(
    action: &'static str,
    sub: &'a Subscription,
    before: Option<i64>,
    event_data: Option<serde_json::Value>,
) -> Change<'a> {
    Change {
        action,
        entity_type: "webhook",
        entity_id: &sub.id,
        revision_before: before,
        revision_after: Some(sub.revision),
        event_data,
    }
}

/// Creates a subscription; returns it with its secret, which is never shown again.
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    input: NewSubscription,
) -> DomainResult<(Subscription, String)> {
    let now = crate::time::now();
    let sub = StoredSubscription {
        tenant_id: actor.tenant_id.clone(),
        subscription: Subscription {
            id: new_id(prefix::WEBHOOK),
            url: check_url(&input.url)?,
            events: check_events(&input.events)?,
            description: check_description(input.description)?,
            is_active: input.is_active,
            filter: check_filter(input.filter)?,
            include_pii: input.include_pii,
            disabled_reason: None,
            disabled_at: None,
            previous_secret_expires_at: None,
            revision: 1,
            created_at: now,
            updated_at: now,
        },
        secret: generate_secret(),
        previous_secret: None,
        consecutive_failures: 0,
        failing_since: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_subscription(&sub).await?;
    record(
        tx.as_mut(),
        actor,
        webhook_change("webhook.created", &sub.subscription, None, None),
    )
    .await?;
    tx.commit().await?;
    Ok((sub.subscription, sub.secret))
}

async fn locked(
    tx: &mut dyn Tx,
    actor: &Actor,
    id: &str,
    expected_revision: Option<i64>,
) -> DomainResult<StoredSubscription> {
    let sub = tx
        .lock_subscription(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("webhook"))?;
    match expected_revision {
        Some(expected) if expected != sub.subscription.revision => {
            Err(DomainError::RevisionConflict {
                expected,
                current: sub.subscription.revision,
            })
        }
        _ => Ok(sub),
    }
}

/// The URL a patch would set, checked, so that the caller can vet its target first.
pub fn patched_url(patch: &SubscriptionPatch) -> DomainResult<Option<String>> {
    patch.url.as_deref().map(check_url).transpose()
}

/// Checks a new subscription's URL; the caller vets its target before creating it.
pub fn checked_url(url: &str) -> DomainResult<String> {
    check_url(url)
}

/// Applies a patch. Re-activating a subscription clears why it was switched off and starts
/// its failure count afresh.
pub async fn update(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    mut patch: SubscriptionPatch,
    if_match: Option<i64>,
) -> DomainResult<Subscription> {
    let expected = if_match.or(patch.revision.take());
    let mut tx = store.begin().await?;
    let before = locked(tx.as_mut(), actor, id, expected).await?;
    let mut next = before.clone();
    let s = &mut next.subscription;
    if let Some(url) = patched_url(&patch)? {
        s.url = url;
    }
    if let Some(events) = patch.events {
        s.events = check_events(&events)?;
    }
    if let Some(d) = patch.description {
        s.description = check_description(d)?;
    }
    if let Some(f) = patch.filter {
        s.filter = check_filter(f)?;
    }
    if let Some(pii) = patch.include_pii {
        s.include_pii = pii;
    }
    if let Some(active) = patch.is_active {
        if active && !s.is_active {
            s.disabled_at = None;
            s.disabled_reason = None;
            next.consecutive_failures = 0;
            next.failing_since = None;
        }
        next.subscription.is_active = active;
    }
    if next == before {
        return Ok(before.subscription);
    }
    next.subscription.revision += 1;
    next.subscription.updated_at = crate::time::now();
    tx.update_subscription(&next).await?;
    record(
        tx.as_mut(),
        actor,
        webhook_change(
            "webhook.updated",
            &next.subscription,
            Some(before.subscription.revision),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(next.subscription)
}

/// Deletes a subscription with its delivery log; returns it as it was.
pub async fn delete(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Subscription> {
    let mut tx = store.begin().await?;
    let sub = locked(tx.as_mut(), actor, id, None).await?;
    tx.delete_subscription(&actor.tenant_id, id).await?;
    record(
        tx.as_mut(),
        actor,
        webhook_change(
            "webhook.deleted",
            &sub.subscription,
            Some(sub.subscription.revision),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(sub.subscription)
}

/// Replaces the signing secret; the old one keeps signing (as a second `v1`) for 24 hours.
pub async fn rotate_secret(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
) -> DomainResult<(Subscription, String)> {
    let mut tx = store.begin().await?;
    let mut sub = locked(tx.as_mut(), actor, id, None).await?;
    let before = sub.subscription.revision;
    let now = crate::time::now();
    sub.previous_secret = Some(std::mem::replace(&mut sub.secret, generate_secret()));
    sub.subscription.previous_secret_expires_at =
        Some(now + Duration::seconds(SECRET_OVERLAP_SECS));
    sub.subscription.revision += 1;
    sub.subscription.updated_at = now;
    tx.update_subscription(&sub).await?;
    record(
        tx.as_mut(),
        actor,
        webhook_change(
            "webhook.secret_rotated",
            &sub.subscription,
            Some(before),
            None,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((sub.subscription, sub.secret))
}

/// Queues a `ping` for this subscription alone.
pub async fn send_test(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Subscription> {
    let mut tx = store.begin().await?;
    let sub = locked(tx.as_mut(), actor, id, None).await?;
    if !sub.subscription.is_active {
        return Err(DomainError::InvalidState(
            "the subscription is inactive; set `is_active` to true first".into(),
        ));
    }
    let data = PingData {
        webhook_id: sub.subscription.id.clone(),
        message: "Hirewire test delivery".into(),
    };
    let event = Event {
        id: new_id(prefix::EVENT),
        event_type: "ping".into(),
        created_at: crate::time::now(),
        tenant_id: actor.tenant_id.clone(),
        reference_id: None,
        data: serde_json::to_value(data).unwrap_or_default(),
        causation_id: actor.request_id.clone(),
        trace_id: actor.trace_id.clone(),
        subscription_id: Some(sub.subscription.id.clone()),
    };
    tx.append_event(&event).await?;
    tx.commit().await?;
    Ok(sub.subscription)
}

/// Schedules a failed or dead delivery for now. A dead delivery gets one more attempt.
pub async fn retry_delivery(store: &dyn Store, actor: &Actor, id: &str) -> DomainResult<Delivery> {
    let mut tx = store.begin().await?;
    let stored = tx
        .lock_delivery(&actor.tenant_id, id)
        .await?
        .ok_or(DomainError::NotFound("delivery"))?;
    let d = stored.delivery;
    if !matches!(d.status, DeliveryStatus::Failed | DeliveryStatus::Dead) {
        return Err(DomainError::InvalidState(format!(
            "the delivery is {}; only failed or dead deliveries can be retried",
            d.status.as_str()
        )));
    }
    let now = crate::time::now();
    let next = Delivery {
        status: DeliveryStatus::Failed,
        next_attempt_at: Some(now),
        updated_at: now,
        ..d
    };
    tx.update_deliveries(std::slice::from_ref(&next)).await?;
    tx.commit().await?;
    Ok(next)
}

/// Schedules for now every failed or dead delivery of a subscription last tried at or after
/// `since`: recovery after a receiver's outage. Returns how many.
pub async fn recover(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    since: DateTime<Utc>,
) -> DomainResult<u64> {
    let mut tx = store.begin().await?;
    let sub = locked(tx.as_mut(), actor, id, None).await?;
    let n = tx
        .recover_deliveries(&sub.subscription.id, since, crate::time::now())
        .await?;
    tx.commit().await?;
    Ok(n)
}

/// Fans the oldest undispatched events out into deliveries for every subscription that wants
/// them and gives them their feed positions. Returns how many events were dispatched.
pub async fn dispatch(store: &dyn Store, batch: i64) -> DomainResult<usize> {
    let mut tx = store.begin().await?;
    tx.lock_dispatch().await?;
    let events = tx.undispatched_events(batch).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut tenants: Vec<String> = events.iter().map(|e| e.tenant_id.clone()).collect();
    tenants.sort();
    tenants.dedup();
    let subs = tx.active_subscriptions(&tenants).await?;
    let now = crate::time::now();
    let deliveries: Vec<StoredDelivery> = events
        .iter()
        .flat_map(|e| {
            subs.iter()
                .filter(|s| s.tenant_id == e.tenant_id && s.wants(e))
                .map(move |s| StoredDelivery {
                    tenant_id: e.tenant_id.clone(),
                    delivery: Delivery {
                        id: new_id(prefix::DELIVERY),
                        subscription_id: s.subscription.id.clone(),
                        event_id: e.id.clone(),
                        event_type: e.event_type.clone(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        next_attempt_at: Some(now),
                        last_attempt_at: None,
                        last_status_code: None,
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    },
                })
        })
        .collect();
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    tx.mark_dispatched(&ids, now).await?;
    tx.insert_deliveries(&deliveries).await?;
    tx.commit().await?;
    Ok(events.len())
}

/// A delivery leased for sending, with everything needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: StoredDelivery,
    pub event: Event,
    pub subscription: std::sync::Arc<StoredSubscription>,
}

/// Limits of one claim round.
#[derive(Debug, Clone)]
pub struct ClaimLimits {
    /// Deliveries one subscription may have in flight, across every process.
    pub per_subscription: i64,
    /// Deliveries claimed in this round at most.
    pub batch: i64,
    /// How long a claim holds a delivery; a process that dies loses its claims after this.
    pub lease: Duration,
}

/// Leases due deliveries to `owner`, never letting a subscription exceed its in-flight cap:
/// `in_flight` says how many requests this process has open per subscription, and deliveries
/// leased by other processes count too.
pub async fn claim(
    store: &dyn Store,
    owner: &str,
    limits: &ClaimLimits,
    in_flight: &(dyn Fn(&str) -> i64 + Sync),
) -> DomainResult<Vec<Claimed>> {
    let now = crate::time::now();
    let mut tx = store.begin().await?;
    let due = tx.due_subscriptions(now, limits.batch).await?;
    let mut claimed = Vec::new();
    for (_tenant, sub_id) in due {
        let room = limits.batch - claimed.len() as i64;
        if room <= 0 {
            break;
        }
        let mine = in_flight(&sub_id);
        if mine >= limits.per_subscription {
            continue;
        }
        let Some(sub) = tx.lock_subscription_for_claim(&sub_id).await? else {
            continue;
        };
        let others = tx.count_leased_by_others(&sub_id, owner, now).await?;
        let free = (limits.per_subscription - mine - others).min(room);
        if free <= 0 {
            continue;
        }
        let sub = std::sync::Arc::new(sub);
        let leased = tx
            .lease_deliveries(&sub_id, now, owner, now + limits.lease, free)
            .await?;
        claimed.extend(leased.into_iter().map(|(delivery, event)| Claimed {
            delivery,
            event,
            subscription: sub.clone(),
        }));
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Records a batch of attempts: their log, each delivery's next state and each
/// subscription's run of failures, switching off (with an audit record and a
/// `webhook.disabled` event) those that crossed the line. Returns the ids switched off.
pub async fn record_attempts(
    store: &dyn Store,
    done: &[(StoredDelivery, AttemptOutcome)],
    retry: &RetryPolicy,
    disable: &DisablePolicy,
) -> DomainResult<Vec<String>> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_sub: BTreeMap<(&str, &str), Vec<&AttemptOutcome>> = BTreeMap::new();
    for (d, o) in done {
        by_sub
            .entry((d.tenant_id.as_str(), d.delivery.subscription_id.as_str()))
            .or_default()
            .push(o);
    }
    let mut tx = store.begin().await?;
    // Subscriptions first, in one order, as every other writer locks them before their
    // deliveries: the other way round, a concurrent delete could deadlock with us.
    let mut subs = Vec::with_capacity(by_sub.len());
    for ((tenant, sub_id), outcomes) in by_sub {
        if let Some(sub) = tx.lock_subscription(tenant, sub_id).await? {
            subs.push((tenant, sub, outcomes));
        }
    }
    // A subscription deleted meanwhile took its deliveries with it; their attempts go too.
    let live: Vec<_> = done
        .iter()
        .filter(|(d, _)| {
            subs.iter()
                .any(|(_, s, _)| s.subscription.id == d.delivery.subscription_id)
        })
        .collect();
    let attempts: Vec<_> = live.iter().map(|(_, o)| o.attempt.clone()).collect();
    tx.insert_attempts(&attempts).await?;
    let next: Vec<Delivery> = live
        .iter()
        .map(|(d, outcome)| after_attempt(&d.delivery, outcome, retry, rand::random::<f64>()))
        .collect();
    tx.update_deliveries(&next).await?;
    let mut disabled = Vec::new();
    for (tenant, mut sub, outcomes) in subs {
        let before = sub.clone();
        let mut reason = None;
        for o in outcomes {
            if let Some(r) = count_attempt(&mut sub, o, disable) {
                reason.get_or_insert(r);
            }
        }
        if let Some(reason) = reason {
            let now = crate::time::now();
            let s = &mut sub.subscription;
            s.is_active = false;
            s.disabled_at = Some(now);
            s.disabled_reason = Some(reason.clone());
            s.revision += 1;
            s.updated_at = now;
            let data = WebhookDisabledData {
                webhook_id: s.id.clone(),
                url: s.url.clone(),
                reason,
                consecutive_failures: sub.consecutive_failures,
                disabled_at: now,
            };
            tx.update_subscription(&sub).await?;
            record(
                tx.as_mut(),
                &Actor::system(tenant),
                webhook_change(
                    "webhook.disabled",
                    &sub.subscription,
                    Some(before.subscription.revision),
                    Some(serde_json::to_value(data).unwrap_or_default()),
                ),
            )
            .await?;
            disabled.push(sub.subscription.id.clone());
        } else if sub != before {
            tx.update_subscription(&sub).await?;
        }
    }
    tx.commit().await?;
    Ok(disabled)
}

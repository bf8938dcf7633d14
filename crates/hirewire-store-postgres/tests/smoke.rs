//! Smoke tests against a live PostgreSQL: `postgres://postgres@127.0.0.1:5432/test`, or the URL
//! in `HIREWIRE_TEST_POSTGRES_URL`. Each test works in a fresh schema and drops it at the end.

use std::collections::HashSet;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use chrono::Duration;
use hirewire_core::event::Event;
use hirewire_core::ids::{new_id, prefix};
use hirewire_core::model::{
    ApiKey, Attempt, AttemptOutcome, AuditEvent, AuditKind, AuditQuery, DeliveryQuery,
    DeliveryStatus, DisablePolicy, Job, JobQuery, JobSkill, JobStatus, KeyQuery, KeyStatus,
    RetryPolicy, StoredKey, StoredSubscription, Subscription, SubscriptionQuery, Tenant,
    WebhookFilter,
};
use hirewire_core::page::PageRequest;
use hirewire_core::scope::Scope;
use hirewire_core::service::webhooks::{ClaimLimits, claim, dispatch, record_attempts};
use hirewire_core::store::{
    AuditStore, EventStore, IdempotencyClaim, IdempotencyStore, JobStore, KeyStore, Store,
    StoredResponse, TenantStore, WebhookStore,
};
use hirewire_core::time::now;
use hirewire_store_postgres::PostgresStore;
use sqlx::Connection;

fn url() -> String {
    std::env::var("HIREWIRE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn random_hex() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// Runs `body` on a migrated store in a fresh schema, then drops the schema even if `body` panicked.
async fn with_store<F, Fut>(body: F)
where
    F: FnOnce(Arc<PostgresStore>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = url();
    let schema = format!("hw_smoke_{}", random_hex());
    let store = match PostgresStore::connect_in_schema(&url, &schema).await {
        Ok(s) => Arc::new(s),
        // Like the HTTP suite: skipped without PostgreSQL, except under CI, where it must run.
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL is unreachable at {url} under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("skipping: PostgreSQL is unreachable at {url}: {e}");
            return;
        }
    };
    let outcome = tokio::spawn({
        let store = store.clone();
        async move {
            assert!(!store.is_migrated().await.unwrap());
            store.migrate().await.expect("migrate");
            assert!(store.is_migrated().await.unwrap());
            store.ping().await.unwrap();
            assert_eq!(store.backend(), "postgres");
            body(store).await;
        }
    })
    .await;
    store.close().await;
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to drop the schema");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&mut conn)
    .await
    .expect("drop schema");
    conn.close().await.ok();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn tenant() -> Tenant {
    Tenant {
        id: new_id(prefix::TENANT),
        name: format!("acme-{}", random_hex()),
        credits: 10,
        require_key_approval: true,
        created_at: now(),
    }
}

fn job(title: &str, status: JobStatus, expires_in: Duration) -> Job {
    let t = now();
    Job {
        id: new_id(prefix::JOB),
        title: title.into(),
        reference: Some("REF-1".into()),
        description: Some("Builds things.".into()),
        city: Some("Berlin".into()),
        country: Some("DE".into()),
        employment_type: Some(hirewire_core::model::EmploymentType::FullTime),
        remote_type: None,
        apply_method: None,
        apply_email: None,
        apply_url: None,
        skills: vec![JobSkill {
            name: "rust".into(),
            required: true,
            weight: 2.5,
            min_years: Some(1.5),
        }],
        min_experience_years: Some(3.0),
        scoring_weights: None,
        status,
        posted_at: Some(t),
        expires_at: Some(t + expires_in),
        closed_at: None,
        revision: 1,
        created_at: t,
        updated_at: t,
    }
}

#[tokio::test]
async fn tx_reads_and_skip_locked_claims() {
    with_store(|store| async move {
        let tenant = tenant();
        let main = job("Backend engineer", JobStatus::Draft, Duration::days(30));
        let due: Vec<Job> = (0..6).map(|i| job(&format!("Due {i}"), JobStatus::Active, Duration::seconds(-60 - i))).collect();
        let event = Event {
            id: new_id(prefix::EVENT),
            event_type: "job.created".into(),
            created_at: now(),
            tenant_id: tenant.id.clone(),
            reference_id: None,
            data: serde_json::json!({ "job_id": main.id, "nested": { "n": 1, "list": [true, null] } }),
            causation_id: Some("req_1".into()),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            subscription_id: None,
        };

        let mut tx = store.begin().await.unwrap();
        tx.insert_tenant(&tenant).await.unwrap();
        tx.insert_job(&tenant.id, &main).await.unwrap();
        for j in &due {
            tx.insert_job(&tenant.id, j).await.unwrap();
        }
        tx.append_event(&event).await.unwrap();
        assert!(tx.debit_credit(&tenant.id).await.unwrap());
        tx.commit().await.unwrap();

        // Read back through the read traits.
        let stored = store.tenant(&tenant.id).await.unwrap().expect("tenant");
        assert_eq!(stored, Tenant { credits: 9, ..tenant.clone() });
        assert_eq!(store.tenant_by_name(&tenant.name).await.unwrap().map(|t| t.id), Some(tenant.id.clone()));
        assert_eq!(store.count_tenants().await.unwrap(), 1);
        assert_eq!(store.job(&tenant.id, &main.id).await.unwrap(), Some(main.clone()));
        assert_eq!(store.job("ten_other", &main.id).await.unwrap(), None);
        // The feed shows events once dispatched.
        assert!(store.list_events(&tenant.id, 0, 10).await.unwrap().is_empty());
        assert_eq!(store.outbox_depth().await.unwrap(), 1);
        assert_eq!(dispatch(store.as_ref(), 10).await.unwrap(), 1);
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
        let events = store.list_events(&tenant.id, 0, 10).await.unwrap();
        assert_eq!(events, vec![(1, event.clone())]);
        assert!(store.list_events(&tenant.id, events[0].0, 10).await.unwrap().is_empty());

        // Listing: filters, keyset pages by title, totals.
        let q = JobQuery { statuses: vec![JobStatus::Active], sort: hirewire_core::model::job::JobSortField::Title, page: PageRequest { limit: 4, after: None, include_total: true }, ..Default::default() };
        let first = store.list_jobs(&tenant.id, &q).await.unwrap();
        assert_eq!(first.total, Some(6));
        assert_eq!(first.items.iter().map(|j| j.title.as_str()).collect::<Vec<_>>(), ["Due 0", "Due 1", "Due 2", "Due 3"]);
        let after = hirewire_core::page::Cursor::decode(first.next_cursor.as_deref().expect("more pages"));
        let second = store.list_jobs(&tenant.id, &JobQuery { page: PageRequest { after, ..q.page.clone() }, ..q.clone() }).await.unwrap();
        assert_eq!(second.items.iter().map(|j| j.title.as_str()).collect::<Vec<_>>(), ["Due 4", "Due 5"]);
        assert!(second.next_cursor.is_none());
        let by_time = JobQuery { descending: true, page: PageRequest { limit: 5, after: None, include_total: false }, ..Default::default() };
        let page = store.list_jobs(&tenant.id, &by_time).await.unwrap();
        let after = hirewire_core::page::Cursor::decode(page.next_cursor.as_deref().expect("more pages"));
        let rest = store.list_jobs(&tenant.id, &JobQuery { page: PageRequest { after, ..by_time.page.clone() }, ..by_time.clone() }).await.unwrap();
        let ids: HashSet<String> = page.items.iter().chain(&rest.items).map(|j| j.id.clone()).collect();
        assert_eq!(ids.len(), 7);

        // Two open transactions claim disjoint sets of due jobs.
        let t = now();
        let mut a = store.begin().await.unwrap();
        let mut b = store.begin().await.unwrap();
        let claimed_a = a.claim_due_jobs(t, 4).await.unwrap();
        let claimed_b = b.claim_due_jobs(t, 4).await.unwrap();
        assert_eq!(claimed_a.len(), 4);
        assert_eq!(claimed_b.len(), 2, "b skips the rows a holds");
        let ids_a: HashSet<String> = claimed_a.iter().map(|(_, j)| j.id.clone()).collect();
        let ids_b: HashSet<String> = claimed_b.iter().map(|(_, j)| j.id.clone()).collect();
        assert!(ids_a.is_disjoint(&ids_b));
        assert_eq!(ids_a.union(&ids_b).cloned().collect::<HashSet<_>>(), due.iter().map(|j| j.id.clone()).collect());
        assert!(claimed_a.iter().chain(&claimed_b).all(|(tid, _)| *tid == tenant.id));
        drop(a);
        drop(b);

        // The same, racing: both claimers run at once on their own connections.
        let race = |store: Arc<PostgresStore>| async move {
            let mut tx = store.begin().await.unwrap();
            let claimed = tx.claim_due_jobs(now(), 3).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let ids: Vec<String> = claimed.into_iter().map(|(_, j)| j.id).collect();
            drop(tx);
            ids
        };
        let (x, y) = tokio::join!(tokio::spawn(race(store.clone())), tokio::spawn(race(store.clone())));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.len() + y.len(), 6);
        assert!(x.iter().all(|id| !y.contains(id)), "{x:?} and {y:?} overlap");

        // A locked job is reported by lock_job and updated with its revision.
        let mut tx = store.begin().await.unwrap();
        let mut locked = tx.lock_job(&tenant.id, &main.id).await.unwrap().expect("job");
        locked.status = JobStatus::Active;
        locked.revision = 2;
        assert!(tx.update_job(&tenant.id, &locked, 1).await.unwrap());
        assert!(!tx.update_job(&tenant.id, &locked, 1).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(store.job(&tenant.id, &main.id).await.unwrap(), Some(locked));
    })
    .await;
}

#[tokio::test]
async fn keys_idempotency_and_audit() {
    with_store(|store| async move {
        let tenant = tenant();
        let t = now();
        let key = StoredKey {
            tenant_id: tenant.id.clone(),
            hash: format!("hash-{}", random_hex()),
            previous_hash: Some("old-hash".into()),
            key: ApiKey {
                id: new_id(prefix::KEY),
                name: "ci".into(),
                prefix: "hw_live_abcd".into(),
                scopes: vec![Scope::JobsRead, Scope::Admin],
                status: KeyStatus::Active,
                expires_at: None,
                allowed_ips: vec!["10.0.0.0/8".parse().unwrap()],
                last_used_at: None,
                previous_secret_expires_at: Some(t + Duration::hours(1)),
                revoked_at: None,
                revision: 1,
                created_at: t,
                updated_at: t,
            },
        };
        let change = AuditEvent {
            id: new_id(prefix::AUDIT),
            kind: AuditKind::Change,
            action: "key.created".into(),
            occurred_at: t,
            tenant_id: tenant.id.clone(),
            actor_key_id: None,
            attributed_user_id: None,
            client_id: None,
            request_id: None,
            trace_id: None,
            method: None,
            route: None,
            path: None,
            status: Some(201),
            ip: None,
            user_agent: None,
            duration_ms: Some(1.25),
            entity_type: Some("key".into()),
            entity_id: Some(key.key.id.clone()),
            revision_before: None,
            revision_after: Some(1),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_tenant(&tenant).await.unwrap();
        tx.insert_key(&key).await.unwrap();
        tx.record_change(&change).await.unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            store.key_by_hash(&key.hash, t).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(
            store
                .key_by_hash("old-hash", t)
                .await
                .unwrap()
                .map(|k| k.key.id),
            Some(key.key.id.clone())
        );
        assert_eq!(
            store
                .key_by_hash("old-hash", t + Duration::hours(2))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.key(None, &key.key.id).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(
            store.key(Some(&tenant.id), &key.key.id).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(
            store.key(Some("ten_other"), &key.key.id).await.unwrap(),
            None
        );
        let page = store
            .list_keys(
                &tenant.id,
                &KeyQuery {
                    page: PageRequest {
                        include_total: true,
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!((page.items, page.total), (vec![key.clone()], Some(1)));
        store
            .touch_keys(&[
                (key.key.id.clone(), t + Duration::seconds(5)),
                (key.key.id.clone(), t + Duration::seconds(2)),
            ])
            .await
            .unwrap();
        assert_eq!(
            store
                .key(None, &key.key.id)
                .await
                .unwrap()
                .unwrap()
                .key
                .last_used_at,
            Some(t + Duration::seconds(5))
        );

        let mut tx = store.begin().await.unwrap();
        let mut locked = tx
            .lock_key(&tenant.id, &key.key.id)
            .await
            .unwrap()
            .expect("key");
        locked.key.status = KeyStatus::Revoked;
        locked.key.revoked_at = Some(t);
        locked.key.revision = 2;
        tx.update_key(&locked).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .key(None, &key.key.id)
                .await
                .unwrap()
                .unwrap()
                .key
                .status,
            KeyStatus::Revoked
        );

        let audit = store
            .list_audit_events(
                &tenant.id,
                &AuditQuery {
                    entity: Some("key".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(audit.items, vec![change.clone()]);
        let none = store
            .list_audit_events(
                &tenant.id,
                &AuditQuery {
                    since: Some(t + Duration::seconds(1)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(none.items.is_empty());

        let claim = |fp: &'static str, at| {
            let store = store.clone();
            let tenant_id = tenant.id.clone();
            async move {
                store
                    .claim_idempotency_key(&tenant_id, "idem-1", fp, at, 86_400)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("fp-a", t).await, IdempotencyClaim::Claimed);
        assert_eq!(claim("fp-a", t).await, IdempotencyClaim::InProgress);
        assert_eq!(claim("fp-b", t).await, IdempotencyClaim::Mismatch);
        let response = StoredResponse {
            status: 201,
            body: b"{\"id\":1}".to_vec(),
        };
        store
            .complete_idempotency_key(&tenant.id, "idem-1", &response)
            .await
            .unwrap();
        assert_eq!(claim("fp-a", t).await, IdempotencyClaim::Replay(response));
        store
            .release_idempotency_key(&tenant.id, "idem-1")
            .await
            .unwrap(); // completed: kept
        assert_eq!(
            claim("fp-b", t + Duration::days(2)).await,
            IdempotencyClaim::Claimed,
            "an expired key is taken over"
        );
        assert_eq!(
            claim("fp-b", t + Duration::days(2)).await,
            IdempotencyClaim::InProgress
        );
        store
            .release_idempotency_key(&tenant.id, "idem-1")
            .await
            .unwrap();
        assert_eq!(claim("fp-c", t).await, IdempotencyClaim::Claimed);
        assert_eq!(
            store
                .purge_idempotency_keys(t + Duration::seconds(1))
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

fn subscription(tenant_id: &str, events: &[&str]) -> StoredSubscription {
    let t = now();
    StoredSubscription {
        tenant_id: tenant_id.into(),
        subscription: Subscription {
            id: new_id(prefix::WEBHOOK),
            url: "https://example.com/hooks".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            description: Some("smoke".into()),
            is_active: true,
            filter: WebhookFilter {
                job_id: None,
                new_status: Some(vec!["hired".into()]),
            },
            include_pii: false,
            disabled_reason: None,
            disabled_at: None,
            previous_secret_expires_at: None,
            revision: 1,
            created_at: t,
            updated_at: t,
        },
        secret: "whsec_current".into(),
        previous_secret: None,
        consecutive_failures: 0,
        failing_since: None,
    }
}

fn event(tenant_id: &str, event_type: &str, target: Option<&str>) -> Event {
    Event {
        id: new_id(prefix::EVENT),
        event_type: event_type.into(),
        created_at: now(),
        tenant_id: tenant_id.into(),
        reference_id: None,
        data: serde_json::json!({ "job": { "id": "job_1" } }),
        causation_id: Some(new_id(prefix::REQUEST)),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        subscription_id: target.map(str::to_string),
    }
}

#[tokio::test]
async fn webhooks_dispatch_claim_and_record() {
    with_store(|store| async move {
        let tenant = tenant();
        let sub = subscription(&tenant.id, &["*"]);
        let closed_only = subscription(&tenant.id, &["job.closed"]);
        let mut tx = store.begin().await.unwrap();
        tx.insert_tenant(&tenant).await.unwrap();
        tx.insert_subscription(&sub).await.unwrap();
        tx.insert_subscription(&closed_only).await.unwrap();
        tx.commit().await.unwrap();
        let sub_id = sub.subscription.id.clone();
        assert_eq!(
            store.subscription(&tenant.id, &sub_id).await.unwrap(),
            Some(sub.clone())
        );
        assert_eq!(
            store.subscription("ten_other", &sub_id).await.unwrap(),
            None
        );
        let subs = store
            .list_subscriptions(
                &tenant.id,
                &SubscriptionQuery {
                    page: PageRequest {
                        limit: 1,
                        after: None,
                        include_total: true,
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!((subs.items.len(), subs.total), (1, Some(2)));
        assert!(subs.next_cursor.is_some());

        // Two events in one transaction, dispatched together.
        let first = event(&tenant.id, "job.created", None);
        let second = event(&tenant.id, "job.updated", None);
        let mut tx = store.begin().await.unwrap();
        tx.append_event(&first).await.unwrap();
        tx.append_event(&second).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.outbox_depth().await.unwrap(), 2);
        assert_eq!(dispatch(store.as_ref(), 100).await.unwrap(), 2);
        assert_eq!(dispatch(store.as_ref(), 100).await.unwrap(), 0);
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
        assert_eq!(
            store.list_events(&tenant.id, 0, 10).await.unwrap(),
            vec![(1, first.clone()), (2, second.clone())]
        );
        assert_eq!(
            store.list_events(&tenant.id, 1, 10).await.unwrap(),
            vec![(2, second.clone())]
        );
        assert!(
            store
                .list_events("ten_other", 0, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A ping gets a delivery and a position but stays out of the feed.
        let ping = event(&tenant.id, "ping", Some(&sub_id));
        let mut tx = store.begin().await.unwrap();
        tx.append_event(&ping).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(dispatch(store.as_ref(), 100).await.unwrap(), 1);
        assert!(
            store
                .list_events(&tenant.id, 2, 10)
                .await
                .unwrap()
                .is_empty()
        );

        let all = DeliveryQuery {
            status: None,
            page: PageRequest {
                include_total: true,
                ..Default::default()
            },
        };
        let deliveries = store
            .list_deliveries(&tenant.id, &sub_id, &all)
            .await
            .unwrap();
        assert_eq!(deliveries.total, Some(3));
        let mut event_ids: Vec<&str> = deliveries
            .items
            .iter()
            .map(|d| d.event_id.as_str())
            .collect();
        event_ids.sort();
        let mut expected = vec![first.id.as_str(), second.id.as_str(), ping.id.as_str()];
        expected.sort();
        assert_eq!(event_ids, expected);
        assert!(
            deliveries
                .items
                .iter()
                .all(|d| d.status == DeliveryStatus::Pending
                    && d.attempts == 0
                    && d.subscription_id == sub_id)
        );
        let pending = DeliveryQuery {
            status: Some(DeliveryStatus::Pending),
            ..all.clone()
        };
        assert_eq!(
            store
                .list_deliveries(&tenant.id, &sub_id, &pending)
                .await
                .unwrap()
                .total,
            Some(3)
        );
        let other = store
            .list_deliveries(&tenant.id, &closed_only.subscription.id, &all)
            .await
            .unwrap();
        assert_eq!((other.items.len(), other.total), (0, Some(0)));
        let one = &deliveries.items[0];
        assert_eq!(
            store
                .delivery(&tenant.id, &one.id)
                .await
                .unwrap()
                .map(|d| d.delivery),
            Some(one.clone())
        );
        assert_eq!(store.delivery("ten_other", &one.id).await.unwrap(), None);

        // A claimer holding the subscription makes the others skip it.
        let mut a = store.begin().await.unwrap();
        let mut b = store.begin().await.unwrap();
        assert!(
            a.lock_subscription_for_claim(&sub_id)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            b.lock_subscription_for_claim(&sub_id)
                .await
                .unwrap()
                .is_none()
        );
        drop(a);
        drop(b);

        // Claims respect the cap per subscription, counting other owners' leases.
        let limits = ClaimLimits {
            per_subscription: 2,
            batch: 10,
            lease: Duration::seconds(60),
        };
        let idle = |_: &str| 0;
        let claimed = claim(store.as_ref(), "worker-a", &limits, &idle)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(
            claimed
                .iter()
                .all(|c| c.subscription.subscription.id == sub_id
                    && c.event.id == c.delivery.delivery.event_id)
        );
        assert!(claimed[0].delivery.delivery.id < claimed[1].delivery.delivery.id);
        let by_event = |id: &str| {
            [&first, &second, &ping]
                .into_iter()
                .find(|e| e.id == id)
                .cloned()
        };
        for c in &claimed {
            assert_eq!(Some(c.event.clone()), by_event(&c.event.id));
        }
        let none = claim(store.as_ref(), "worker-b", &limits, &idle)
            .await
            .unwrap();
        assert!(none.is_empty(), "worker-a's leases fill the cap");
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.count_leased_by_others(&sub_id, "worker-b", now())
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            tx.count_leased_by_others(&sub_id, "worker-a", now())
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            tx.count_leased_by_others(&sub_id, "worker-b", now() + Duration::seconds(61))
                .await
                .unwrap(),
            0,
            "leases run out"
        );
        drop(tx);
        let busy = |_: &str| 2;
        assert!(
            claim(store.as_ref(), "worker-a", &limits, &busy)
                .await
                .unwrap()
                .is_empty()
        );

        // A failed attempt schedules a retry and counts against the subscription.
        let done = &claimed[0];
        let started = now();
        let attempt = Attempt {
            id: new_id(prefix::ATTEMPT),
            delivery_id: done.delivery.delivery.id.clone(),
            attempt: 1,
            started_at: started,
            duration_ms: 42,
            status_code: Some(503),
            response_headers: [("content-type".to_string(), "text/plain".to_string())].into(),
            response_body: Some("down for maintenance".into()),
            error: None,
            succeeded: false,
        };
        let outcome = AttemptOutcome {
            attempt: attempt.clone(),
            retry_after: None,
        };
        let disabled = record_attempts(
            store.as_ref(),
            &[(done.delivery.clone(), outcome)],
            &RetryPolicy::default(),
            &DisablePolicy::default(),
        )
        .await
        .unwrap();
        assert!(disabled.is_empty());
        let after = store
            .delivery(&tenant.id, &attempt.delivery_id)
            .await
            .unwrap()
            .expect("delivery")
            .delivery;
        assert_eq!((after.status, after.attempts), (DeliveryStatus::Failed, 1));
        assert_eq!(after.last_status_code, Some(503));
        assert_eq!(after.last_attempt_at, Some(started));
        assert!(after.next_attempt_at.unwrap() > started + Duration::seconds(50));
        assert_eq!(
            store.attempts(&attempt.delivery_id).await.unwrap(),
            vec![attempt.clone()]
        );
        let counted = store
            .subscription(&tenant.id, &sub_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (counted.consecutive_failures, counted.failing_since),
            (1, Some(started))
        );
        let failed = DeliveryQuery {
            status: Some(DeliveryStatus::Failed),
            ..all.clone()
        };
        assert_eq!(
            store
                .list_deliveries(&tenant.id, &sub_id, &failed)
                .await
                .unwrap()
                .total,
            Some(1)
        );

        // The released delivery is not due yet; the third one is, and worker-b may take it
        // now that only one lease of worker-a remains.
        let third = claim(store.as_ref(), "worker-b", &limits, &idle)
            .await
            .unwrap();
        assert_eq!(third.len(), 1);
        assert!(
            claimed
                .iter()
                .all(|c| c.delivery.delivery.id != third[0].delivery.delivery.id)
        );

        // Recovery schedules failed deliveries for now; a locked delivery reads back.
        let mut tx = store.begin().await.unwrap();
        let t = now();
        assert_eq!(
            tx.recover_deliveries(&sub_id, started - Duration::hours(1), t)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            tx.recover_deliveries(&sub_id, started + Duration::seconds(1), t)
                .await
                .unwrap(),
            0
        );
        let locked = tx
            .lock_delivery(&tenant.id, &attempt.delivery_id)
            .await
            .unwrap()
            .expect("delivery");
        assert_eq!(locked.delivery.next_attempt_at, Some(t));
        assert!(
            tx.lock_delivery("ten_other", &attempt.delivery_id)
                .await
                .unwrap()
                .is_none()
        );
        tx.commit().await.unwrap();

        // Updating and deleting a subscription; the delivery log goes with it.
        let mut tx = store.begin().await.unwrap();
        let mut locked = tx
            .lock_subscription(&tenant.id, &sub_id)
            .await
            .unwrap()
            .expect("subscription");
        locked.subscription.is_active = false;
        locked.subscription.disabled_reason = Some("smoke".into());
        locked.subscription.disabled_at = Some(t);
        locked.subscription.revision += 1;
        locked.previous_secret = Some("whsec_old".into());
        locked.subscription.previous_secret_expires_at = Some(t + Duration::hours(24));
        tx.update_subscription(&locked).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.subscription(&tenant.id, &sub_id).await.unwrap(),
            Some(locked.clone())
        );
        assert!(
            claim(store.as_ref(), "worker-c", &limits, &idle)
                .await
                .unwrap()
                .is_empty(),
            "inactive"
        );
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.lock_subscription_for_claim(&sub_id)
                .await
                .unwrap()
                .is_none()
        );
        tx.delete_subscription(&tenant.id, &sub_id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.subscription(&tenant.id, &sub_id).await.unwrap(), None);
        assert_eq!(
            store
                .delivery(&tenant.id, &attempt.delivery_id)
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .attempts(&attempt.delivery_id)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.list_events(&tenant.id, 0, 10).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn concurrent_dispatchers_hand_out_positions_in_commit_order() {
    with_store(|store| async move {
        let tenant = tenant();
        let sub = subscription(&tenant.id, &["*"]);
        let mut tx = store.begin().await.unwrap();
        tx.insert_tenant(&tenant).await.unwrap();
        tx.insert_subscription(&sub).await.unwrap();
        tx.commit().await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..24 {
            let e = event(&tenant.id, "job.updated", None);
            let mut tx = store.begin().await.unwrap();
            tx.append_event(&e).await.unwrap();
            tx.commit().await.unwrap();
            ids.push(e.id);
        }
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut n = 0;
                    loop {
                        let done = dispatch(store.as_ref(), 3).await.unwrap();
                        if done == 0 {
                            return n;
                        }
                        n += done;
                    }
                })
            })
            .collect();
        let mut total = 0;
        for w in workers {
            total += w.await.unwrap();
        }
        assert_eq!(total, 24, "each event is dispatched once");
        let feed = store.list_events(&tenant.id, 0, 100).await.unwrap();
        let positions: Vec<i64> = feed.iter().map(|(p, _)| *p).collect();
        assert_eq!(positions, (1..=24).collect::<Vec<_>>());
        // One dispatcher at a time takes the oldest events, so the feed keeps their order.
        assert_eq!(feed.into_iter().map(|(_, e)| e.id).collect::<Vec<_>>(), ids);
        let deliveries = store
            .list_deliveries(
                &tenant.id,
                &sub.subscription.id,
                &DeliveryQuery {
                    status: None,
                    page: PageRequest {
                        include_total: true,
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap();
        assert_eq!(deliveries.total, Some(24));
    })
    .await;
}

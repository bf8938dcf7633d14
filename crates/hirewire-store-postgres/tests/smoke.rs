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
    ApiKey, AuditEvent, AuditKind, AuditQuery, Job, JobQuery, JobSkill, JobStatus, KeyQuery,
    KeyStatus, StoredKey, Tenant,
};
use hirewire_core::page::PageRequest;
use hirewire_core::scope::Scope;
use hirewire_core::store::{
    AuditStore, EventStore, IdempotencyClaim, IdempotencyStore, JobStore, KeyStore, Store,
    StoredResponse, TenantStore,
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
        let events = store.list_events(&tenant.id, 0, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].1, event);
        assert!(store.list_events(&tenant.id, events[0].0, 10).await.unwrap().is_empty());
        assert_eq!(store.outbox_depth().await.unwrap(), 1);

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

//! The transactional outbox: an event exists exactly when its change committed.

use hirewire_core::Actor;
use hirewire_core::event::Event;
use hirewire_core::ids::{new_id, prefix};
use hirewire_core::model::{Job, NewJob};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, send, spawn};

crate::on_both_backends!(
    events_are_written_exactly_for_committed_changes,
    a_failed_transaction_leaves_neither_change_nor_event
);

async fn events_are_written_exactly_for_committed_changes(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (tenant, key) = app.other_tenant("outbox", 1).await;
    let call =
        |m: Method, p: String, body: serde_json::Value| send(app.with_key(&key, m, &p).json(&body));
    let (_, a) = call(Method::POST, "/api/v1/jobs".into(), json!({"title": "A"})).await;
    let (_, b2) = call(Method::POST, "/api/v1/jobs".into(), json!({"title": "B"})).await;
    let a = a["id"].as_str().unwrap().to_string();
    let b2 = b2["id"].as_str().unwrap().to_string();
    let outcomes = [
        call(
            Method::PATCH,
            format!("/api/v1/jobs/{a}"),
            json!({"city": "Oslo"}),
        )
        .await
        .0,
        call(
            Method::PATCH,
            format!("/api/v1/jobs/{a}"),
            json!({"city": "Rome", "revision": 1}),
        )
        .await
        .0,
        call(Method::POST, "/api/v1/jobs".into(), json!({"title": ""}))
            .await
            .0,
        call(Method::POST, format!("/api/v1/jobs/{a}/publish"), json!({}))
            .await
            .0,
        call(
            Method::POST,
            format!("/api/v1/jobs/{b2}/publish"),
            json!({}),
        )
        .await
        .0,
        call(Method::POST, format!("/api/v1/jobs/{a}/close"), json!({}))
            .await
            .0,
        call(Method::POST, format!("/api/v1/jobs/{a}/close"), json!({}))
            .await
            .0,
    ];
    assert_eq!(outcomes, [200, 409, 400, 200, 402, 200, 400]);
    let events = app.events(&tenant).await;
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.data["job"]["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("job.created", a.as_str()),
            ("job.created", b2.as_str()),
            ("job.updated", a.as_str()),
            ("job.published", a.as_str()),
            ("job.closed", a.as_str())
        ]
    );
    // Each event carries the revision its change produced, and the change is in the store.
    let revisions: Vec<i64> = events
        .iter()
        .filter(|e| e.data["job"]["id"] == a.as_str())
        .map(|e| e.data["job"]["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revisions, [1, 2, 3, 4]);
    let job = app.store.job(&tenant, &a).await.unwrap().unwrap();
    assert_eq!(job.revision, 4);
    assert_eq!(events[2].data["changed_fields"], json!(["city"]));
    // The feed serves the same events, in the same order.
    let (_, feed) = send(app.with_key(&key, Method::GET, "/api/v1/events?limit=200")).await;
    let feed_ids: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(feed_ids, ids);
    let (_, tail) = send(app.with_key(
        &key,
        Method::GET,
        &format!(
            "/api/v1/events?after={}&types=job.closed",
            feed["next_cursor"].as_str().unwrap()
        ),
    ))
    .await;
    assert!(tail["items"].as_array().unwrap().is_empty());
}

fn event(tenant: &str, job: &Job) -> Event {
    Event {
        id: new_id(prefix::EVENT),
        event_type: "job.created".into(),
        created_at: hirewire_core::time::now(),
        tenant_id: tenant.into(),
        reference_id: None,
        data: json!({"job": job}),
        causation_id: None,
        trace_id: None,
        subscription_id: None,
    }
}

async fn a_failed_transaction_leaves_neither_change_nor_event(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let store = app.store.as_ref();
    let tenant = app.tenant_id.clone();
    let existing = hirewire_core::service::jobs::create(
        store,
        &Actor::system(&tenant),
        NewJob {
            title: "Existing".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let before = app.events(&tenant).await.len();

    // The event is written first, then the change fails (duplicate id): the unit rolls back.
    let mut tx = store.begin().await.unwrap();
    tx.append_event(&event(&tenant, &existing)).await.unwrap();
    assert!(tx.insert_job(&tenant, &existing).await.is_err());
    drop(tx);
    assert_eq!(app.events(&tenant).await.len(), before);

    // A unit abandoned before commit leaves neither its change nor its event.
    let fresh = Job::new_draft(
        new_id(prefix::JOB),
        NewJob {
            title: "Ghost".into(),
            ..Default::default()
        },
        hirewire_core::time::now(),
    )
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_job(&tenant, &fresh).await.unwrap();
    tx.append_event(&event(&tenant, &fresh)).await.unwrap();
    drop(tx);
    assert!(store.job(&tenant, &fresh.id).await.unwrap().is_none());
    assert_eq!(app.events(&tenant).await.len(), before);

    // And a committed one has both.
    let mut tx = store.begin().await.unwrap();
    tx.insert_job(&tenant, &fresh).await.unwrap();
    tx.append_event(&event(&tenant, &fresh)).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.job(&tenant, &fresh.id).await.unwrap().is_some());
    assert_eq!(app.events(&tenant).await.len(), before + 1);
}

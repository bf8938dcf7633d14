//! The audit trail: a record of every call and of every change, with filters and paging.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use hirewire_core::model::key::hash_secret;
use hirewire_core::scope::Scope;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn, spawn_with};

crate::on_both_backends!(
    calls_are_recorded_with_their_details,
    changes_carry_revisions_and_attribution,
    filters_narrow_the_trail,
    pages_walk_every_record_once,
    reading_the_trail_needs_audit_read,
    the_recorded_ip_is_the_client_behind_a_trusted_proxy,
);

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The id of the app's admin key.
async fn admin_key_id(app: &TestApp) -> String {
    app.store
        .key_by_hash(&hash_secret(&app.key), hirewire_core::time::now())
        .await
        .unwrap()
        .expect("admin key")
        .key
        .id
}

/// Sends a request; returns status, `X-Request-Id` and JSON body.
async fn call(req: reqwest::RequestBuilder) -> (u16, String, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let request_id = res
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id")
        .to_str()
        .unwrap()
        .to_string();
    let bytes = res.bytes().await.unwrap();
    (
        status,
        request_id,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `/api/v1/audit-events` with filters, a page size and maybe a cursor.
fn audit_path(query: &str, limit: u32, cursor: Option<&str>) -> String {
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    parts.push(format!("limit={limit}"));
    if let Some(c) = cursor {
        parts.push(format!("cursor={c}"));
    }
    format!("/api/v1/audit-events?{}", parts.join("&"))
}

/// Every record a query finds, following `next_cursor`.
async fn all(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = audit_path(query, 200, cursor.as_deref());
        let (s, page) = app.get(&path).await;
        assert_eq!(s, 200, "{path}: {page}");
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Waits until the call record of each request id has been written; returns them by id.
async fn request_records(app: &TestApp, request_ids: &[&str]) -> Vec<Value> {
    let found = eventually(10, || async {
        let records = all(app, "kind=request").await;
        let picked: Vec<Value> = request_ids
            .iter()
            .filter_map(|id| records.iter().find(|r| r["request_id"] == *id).cloned())
            .collect();
        (picked.len() == request_ids.len()).then_some(picked)
    })
    .await;
    found.unwrap_or_else(|| panic!("call records for {request_ids:?} never appeared"))
}

fn actions(records: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["entity_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn calls_are_recorded_with_their_details(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = admin_key_id(&app).await;
    let ua = "audit-test/1.0 (+https://example.com)";
    let (s, create_rid, job) = call(
        app.req(Method::POST, "/api/v1/jobs")
            .header("User-Agent", ua)
            .json(&json!({"title": "Audited"})),
    )
    .await;
    assert_eq!(s, 201);
    let id = job["id"].as_str().unwrap().to_string();
    let (s, get_rid, _) = call(
        app.req(Method::GET, &format!("/api/v1/jobs/{id}"))
            .header("User-Agent", ua)
            .header("X-Request-Id", "client-chosen.id_1"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(get_rid, "client-chosen.id_1");
    let missing = hirewire_core::ids::new_id("job");
    let (s, missing_rid, body) = call(
        app.req(Method::GET, &format!("/api/v1/jobs/{missing}"))
            .header("User-Agent", ua),
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(body["request_id"], missing_rid.as_str());
    let (s, publish_rid, _) = call(
        app.req(Method::POST, &format!("/api/v1/jobs/{id}/publish"))
            .header("User-Agent", ua),
    )
    .await;
    assert_eq!(s, 200);
    let reader = app.key_for(&app.tenant_id, vec![Scope::JobsRead]).await;
    let reader_id = app
        .store
        .key_by_hash(&hash_secret(&reader), hirewire_core::time::now())
        .await
        .unwrap()
        .unwrap()
        .key
        .id;
    let (s, refused_rid, _) = call(
        app.with_key(&reader, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": "x"})),
    )
    .await;
    assert_eq!(s, 403);

    let records = request_records(
        &app,
        &[
            &create_rid,
            &get_rid,
            &missing_rid,
            &publish_rid,
            &refused_rid,
        ],
    )
    .await;
    let expected = [
        (
            "POST",
            "/api/v1/jobs",
            "/api/v1/jobs".to_string(),
            201,
            &admin,
        ),
        (
            "GET",
            "/api/v1/jobs/{id}",
            format!("/api/v1/jobs/{id}"),
            200,
            &admin,
        ),
        (
            "GET",
            "/api/v1/jobs/{id}",
            format!("/api/v1/jobs/{missing}"),
            404,
            &admin,
        ),
        (
            "POST",
            "/api/v1/jobs/{id}/publish",
            format!("/api/v1/jobs/{id}/publish"),
            200,
            &admin,
        ),
        (
            "POST",
            "/api/v1/jobs",
            "/api/v1/jobs".to_string(),
            403,
            &reader_id,
        ),
    ];
    for (r, (method, route, path, status, actor)) in records.iter().zip(expected) {
        assert_eq!(r["kind"], "request", "{r}");
        assert_eq!(r["action"], "request", "{r}");
        assert_eq!(r["method"], method, "{r}");
        assert_eq!(r["route"], route, "{r}");
        assert_eq!(r["path"], path.as_str(), "{r}");
        assert_eq!(r["status"], status, "{r}");
        assert_eq!(r["actor_key_id"], actor.as_str(), "{r}");
        assert_eq!(r["ip"], "127.0.0.1", "{r}");
        let duration = r["duration_ms"]
            .as_f64()
            .unwrap_or_else(|| panic!("no duration: {r}"));
        assert!((0.0..30_000.0).contains(&duration), "{r}");
        assert!(r["id"].as_str().is_some_and(|i| !i.is_empty()), "{r}");
        let at = chrono::DateTime::parse_from_rfc3339(r["occurred_at"].as_str().unwrap()).unwrap();
        assert!(
            (Utc::now() - at.with_timezone(&Utc)).num_seconds().abs() < 60,
            "{r}"
        );
        assert!(
            r["entity_id"].is_null() && r["revision_after"].is_null(),
            "{r}"
        );
        assert!(
            r["attributed_user_id"].is_null()
                && r["client_id"].is_null()
                && r["trace_id"].is_null(),
            "{r}"
        );
    }
    for r in &records[..4] {
        assert_eq!(r["user_agent"], ua, "{r}");
    }
    // Each request id appears on exactly one call record.
    let all_calls = all(&app, "kind=request").await;
    for rid in [&create_rid, &get_rid, &missing_rid, &publish_rid] {
        assert_eq!(
            all_calls
                .iter()
                .filter(|r| r["request_id"] == rid.as_str())
                .count(),
            1,
            "{rid}"
        );
    }
    // The change made by a call carries the call's request id.
    let changes = all(&app, &format!("kind=change&entity={id}")).await;
    let created = changes
        .iter()
        .find(|c| c["action"] == "job.created")
        .expect("job.created");
    assert_eq!(created["request_id"], create_rid.as_str());
    let published = changes
        .iter()
        .find(|c| c["action"] == "job.published")
        .expect("job.published");
    assert_eq!(published["request_id"], publish_rid.as_str());
}

async fn changes_carry_revisions_and_attribution(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = admin_key_id(&app).await;
    let (s, create_rid, job) = call(
        app.req(Method::POST, "/api/v1/jobs")
            .header("X-ATS-User-ID", "user-42")
            .header("X-ATS-Client-ID", "crm-7")
            .header("traceparent", TRACEPARENT)
            .json(&json!({"title": "Attributed"})),
    )
    .await;
    assert_eq!(s, 201);
    let id = job["id"].as_str().unwrap().to_string();
    let (s, publish_rid, _) = call(
        app.req(Method::POST, &format!("/api/v1/jobs/{id}/publish"))
            .header("X-ATS-User-ID", "user-43")
            .header("X-ATS-Client-ID", "crm-7"),
    )
    .await;
    assert_eq!(s, 200);
    let (s, patch_rid, _) = call(
        app.req(Method::PATCH, &format!("/api/v1/jobs/{id}"))
            .json(&json!({"city": "Hull"})),
    )
    .await;
    assert_eq!(s, 200);

    let changes = all(&app, &format!("kind=change&entity={id}")).await;
    assert_eq!(changes.len(), 3, "{changes:?}");
    // Newest first.
    let (updated, published, created) = (&changes[0], &changes[1], &changes[2]);
    assert_eq!(created["action"], "job.created");
    assert_eq!(published["action"], "job.published");
    assert_eq!(updated["action"], "job.updated");
    for c in &changes {
        assert_eq!(c["kind"], "change", "{c}");
        assert_eq!(c["entity_type"], "job", "{c}");
        assert_eq!(c["entity_id"], id.as_str(), "{c}");
        assert_eq!(c["actor_key_id"], admin.as_str(), "{c}");
        assert!(
            c["method"].is_null() && c["status"].is_null(),
            "a change is not a call record: {c}"
        );
    }
    assert_eq!(
        (
            created["revision_before"].clone(),
            created["revision_after"].clone()
        ),
        (Value::Null, json!(1)),
        "{created}"
    );
    assert_eq!(
        (
            published["revision_before"].clone(),
            published["revision_after"].clone()
        ),
        (json!(1), json!(2)),
        "{published}"
    );
    assert_eq!(
        (
            updated["revision_before"].clone(),
            updated["revision_after"].clone()
        ),
        (json!(2), json!(3)),
        "{updated}"
    );

    assert_eq!(created["attributed_user_id"], "user-42", "{created}");
    assert_eq!(created["client_id"], "crm-7", "{created}");
    assert_eq!(created["trace_id"], TRACE_ID, "{created}");
    assert_eq!(created["request_id"], create_rid.as_str());
    assert_eq!(published["attributed_user_id"], "user-43", "{published}");
    assert_eq!(published["client_id"], "crm-7");
    assert!(published["trace_id"].is_null(), "{published}");
    assert_eq!(published["request_id"], publish_rid.as_str());
    assert!(
        updated["attributed_user_id"].is_null()
            && updated["client_id"].is_null()
            && updated["trace_id"].is_null(),
        "{updated}"
    );
    assert_eq!(updated["request_id"], patch_rid.as_str());

    // The call records carry the same attribution.
    let calls = request_records(&app, &[&create_rid, &publish_rid]).await;
    assert_eq!(calls[0]["attributed_user_id"], "user-42");
    assert_eq!(calls[0]["client_id"], "crm-7");
    assert_eq!(calls[0]["trace_id"], TRACE_ID);
    assert_eq!(calls[1]["attributed_user_id"], "user-43");

    // Key changes are recorded too.
    let (_, created_key) = app
        .post(
            "/api/v1/keys",
            json!({"name": "k", "scopes": ["jobs:read"]}),
        )
        .await;
    let key_id = created_key["id"].as_str().unwrap().to_string();
    assert_eq!(
        send(app.req(Method::POST, &format!("/api/v1/keys/{key_id}/revoke")))
            .await
            .0,
        200
    );
    let key_changes = all(&app, &format!("entity={key_id}")).await;
    assert_eq!(
        actions(&key_changes),
        [
            ("key.created".to_string(), key_id.clone()),
            ("key.revoked".to_string(), key_id.clone())
        ]
    );
    let revoked = key_changes
        .iter()
        .find(|c| c["action"] == "key.revoked")
        .unwrap();
    assert_eq!(
        (
            revoked["revision_before"].clone(),
            revoked["revision_after"].clone()
        ),
        (json!(1), json!(2))
    );
    assert!(
        !key_changes
            .iter()
            .any(|c| c.to_string().contains(created_key["key"].as_str().unwrap())),
        "the audit trail holds a plaintext key"
    );
}

async fn filters_narrow_the_trail(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let admin = admin_key_id(&app).await;
    let (s, created) = app
        .post(
            "/api/v1/keys",
            json!({"name": "second", "scopes": ["jobs:read", "jobs:write"]}),
        )
        .await;
    assert_eq!(s, 201);
    let k2_id = created["id"].as_str().unwrap().to_string();
    let k2 = created["key"].as_str().unwrap().to_string();
    let j1 = app.create_job("First").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let pause = || tokio::time::sleep(Duration::from_millis(60));
    pause().await;
    let t1 = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    pause().await;
    let (s, rid_create, j2) = call(
        app.with_key(&k2, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": "Second"})),
    )
    .await;
    assert_eq!(s, 201);
    let j2 = j2["id"].as_str().unwrap().to_string();
    let (s, rid_publish, _) =
        call(app.with_key(&k2, Method::POST, &format!("/api/v1/jobs/{j2}/publish"))).await;
    assert_eq!(s, 200);
    pause().await;
    let t2 = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    pause().await;
    assert_eq!(
        app.post(&format!("/api/v1/jobs/{j1}/close"), json!({}))
            .await
            .0,
        200
    );
    // K2's calls are all written before the filters are read.
    request_records(&app, &[&rid_create, &rid_publish]).await;

    // actor
    let by_k2 = all(&app, &format!("actor={k2_id}")).await;
    assert!(
        by_k2.iter().all(|r| r["actor_key_id"] == k2_id.as_str()),
        "{by_k2:?}"
    );
    let mut kinds: Vec<(String, String)> = by_k2
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    kinds.sort();
    let expect = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kinds,
        expect(&[
            ("change", "job.created"),
            ("change", "job.published"),
            ("request", "request"),
            ("request", "request")
        ])
    );
    let by_admin = all(&app, &format!("actor={admin}&kind=change")).await;
    assert_eq!(
        actions(&by_admin),
        [
            ("job.closed".into(), j1.clone()),
            ("job.created".into(), j1.clone()),
            ("key.created".into(), k2_id.clone())
        ]
    );
    assert!(
        all(
            &app,
            &format!("actor={}", hirewire_core::ids::new_id("key"))
        )
        .await
        .is_empty()
    );

    // entity: an id, or a type
    assert_eq!(
        actions(&all(&app, &format!("entity={j1}")).await),
        [
            ("job.closed".into(), j1.clone()),
            ("job.created".into(), j1.clone())
        ]
    );
    assert_eq!(
        actions(&all(&app, &format!("entity={j2}")).await),
        [
            ("job.created".into(), j2.clone()),
            ("job.published".into(), j2.clone())
        ]
    );
    let jobs = all(&app, "entity=job").await;
    assert!(jobs.iter().all(|r| r["entity_type"] == "job"), "{jobs:?}");
    assert_eq!(
        actions(&jobs),
        [
            ("job.closed".into(), j1.clone()),
            ("job.created".into(), j1.clone()),
            ("job.created".into(), j2.clone()),
            ("job.published".into(), j2.clone())
        ]
    );
    let keys = all(&app, "entity=key").await;
    assert!(
        keys.iter()
            .all(|r| r["entity_type"] == "key" && r["action"] == "key.created"),
        "{keys:?}"
    );
    assert_eq!(keys.len(), 2, "the bootstrap key and K2: {keys:?}");

    // action
    let published = all(&app, "action=job.published").await;
    assert_eq!(actions(&published), [("job.published".into(), j2.clone())]);
    assert!(all(&app, "action=job.expired").await.is_empty());
    let requests = all(&app, "action=request").await;
    assert!(!requests.is_empty() && requests.iter().all(|r| r["kind"] == "request"));

    // time range: since is inclusive, until exclusive
    let since = all(&app, &format!("kind=change&since={t1}")).await;
    assert_eq!(
        actions(&since),
        [
            ("job.closed".into(), j1.clone()),
            ("job.created".into(), j2.clone()),
            ("job.published".into(), j2.clone())
        ]
    );
    let until = all(&app, &format!("kind=change&entity=job&until={t1}")).await;
    assert_eq!(actions(&until), [("job.created".into(), j1.clone())]);
    let between = all(&app, &format!("since={t1}&until={t2}")).await;
    let between_changes: Vec<Value> = between
        .iter()
        .filter(|r| r["kind"] == "change")
        .cloned()
        .collect();
    assert_eq!(
        actions(&between_changes),
        [
            ("job.created".into(), j2.clone()),
            ("job.published".into(), j2.clone())
        ]
    );
    let between_calls: HashSet<&str> = between
        .iter()
        .filter(|r| r["kind"] == "request")
        .filter_map(|r| r["request_id"].as_str())
        .collect();
    assert_eq!(
        between_calls,
        HashSet::from([rid_create.as_str(), rid_publish.as_str()])
    );
    for r in &between {
        let at = chrono::DateTime::parse_from_rfc3339(r["occurred_at"].as_str().unwrap()).unwrap();
        assert!(
            at >= chrono::DateTime::parse_from_rfc3339(&t1).unwrap()
                && at < chrono::DateTime::parse_from_rfc3339(&t2).unwrap(),
            "{r}"
        );
    }
    // Filters combine.
    let combined = all(
        &app,
        &format!("actor={k2_id}&entity={j2}&action=job.published&since={t1}&until={t2}"),
    )
    .await;
    assert_eq!(actions(&combined), [("job.published".into(), j2.clone())]);
    assert!(
        all(&app, &format!("actor={admin}&entity={j2}"))
            .await
            .is_empty()
    );

    // Bad filters are refused.
    for q in [
        "since=yesterday",
        "until=2024-13-01T00:00:00Z",
        "kind=everything",
        "limit=0",
        "limit=201",
        "cursor=garbage",
        "colour=red",
    ] {
        let (s, body) = app.get(&format!("/api/v1/audit-events?{q}")).await;
        assert_eq!(s, 400, "{q}: {body}");
        assert_envelope(&body, "invalid_query");
    }
}

async fn pages_walk_every_record_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let mut rids = Vec::new();
    for i in 0..5 {
        let (s, rid, job) = call(
            app.req(Method::POST, "/api/v1/jobs")
                .json(&json!({"title": format!("Job {i}")})),
        )
        .await;
        assert_eq!(s, 201);
        rids.push(rid);
        let (s, rid, _) = call(app.req(
            Method::POST,
            &format!("/api/v1/jobs/{}/publish", job["id"].as_str().unwrap()),
        ))
        .await;
        assert_eq!(s, 200);
        rids.push(rid);
    }
    let rid_refs: Vec<&str> = rids.iter().map(String::as_str).collect();
    request_records(&app, &rid_refs).await;

    for query in ["kind=change", "", "entity=job"] {
        let everything = all(&app, query).await;
        assert!(everything.len() >= 10, "{query}: {}", everything.len());
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = audit_path(query, 2, cursor.as_deref());
            let (s, page) = app.get(&path).await;
            assert_eq!(s, 200, "{path}: {page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            seen.extend(items.iter().map(|r| r["id"].as_str().unwrap().to_string()));
            pages += 1;
            assert!(pages < 500, "paging does not end");
            match page["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(items.len(), 2, "only the last page is short: {page}");
                    cursor = Some(c.to_string());
                }
                None => break,
            }
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{query}: a record appeared on two pages"
        );
        let expected: Vec<String> = everything
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        if query.contains("kind=change") || query.contains("entity") {
            // Nothing new can match while paging: the walk is exactly the whole list, in order.
            assert_eq!(seen, expected, "{query}");
        } else {
            // Reading adds call records, newer than the walk's start: every earlier one is seen.
            let missing: Vec<&String> = expected.iter().filter(|id| !unique.contains(id)).collect();
            assert!(missing.is_empty(), "{query}: the walk skipped {missing:?}");
        }
        // Newest first.
        let times: Vec<String> = everything
            .iter()
            .map(|r| r["occurred_at"].as_str().unwrap().to_string())
            .collect();
        let parsed: Vec<_> = times
            .iter()
            .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
            .collect();
        assert!(
            parsed.windows(2).all(|w| w[0] >= w[1]),
            "{query}: not newest first: {times:?}"
        );
    }
    let (_, counted) = app
        .get("/api/v1/audit-events?kind=change&include_total=true&limit=1")
        .await;
    assert_eq!(
        counted["total"].as_u64().unwrap() as usize,
        all(&app, "kind=change").await.len()
    );
}

async fn reading_the_trail_needs_audit_read(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let writer = app
        .key_for(
            &app.tenant_id,
            vec![Scope::JobsRead, Scope::JobsWrite, Scope::KeysManage],
        )
        .await;
    let (s, body) = send(app.with_key(&writer, Method::GET, "/api/v1/audit-events")).await;
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "insufficient_scope");
    assert_eq!(body["details"]["required_scope"], "audit:read");
    let (s, body) =
        send(app.with_key(&writer, Method::GET, "/api/v1/audit-events?kind=change")).await;
    assert_eq!(s, 403, "{body}");
    let auditor = app.key_for(&app.tenant_id, vec![Scope::AuditRead]).await;
    let (s, body) = send(app.with_key(&auditor, Method::GET, "/api/v1/audit-events")).await;
    assert_eq!(s, 200, "{body}");
    assert!(body["items"].is_array());
    assert!(
        app.client
            .get(app.url("/api/v1/audit-events"))
            .send()
            .await
            .unwrap()
            .status()
            == 401
    );
}

async fn the_recorded_ip_is_the_client_behind_a_trusted_proxy(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await
    else {
        return;
    };
    let (s, rid, _) = call(
        app.req(Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "203.0.113.7"),
    )
    .await;
    assert_eq!(s, 200);
    let (s, direct, _) = call(app.req(Method::GET, "/api/v1/jobs")).await;
    assert_eq!(s, 200);
    let records = request_records(&app, &[&rid, &direct]).await;
    assert_eq!(records[0]["ip"], "203.0.113.7");
    assert_eq!(records[1]["ip"], "127.0.0.1");
}

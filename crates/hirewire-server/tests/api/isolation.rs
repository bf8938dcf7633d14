//! Tenant isolation: another tenant's objects are indistinguishable from missing ones, and
//! no list shows them.

use hirewire_core::ids::new_id;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn_with};
use crate::receiver::Receiver;

crate::on_both_backends!(
    another_tenants_ids_answer_exactly_like_missing_ones,
    lists_show_only_the_callers_tenant
);

/// Tenant A subscribes to a local receiver, so its webhooks have real deliveries: the
/// server must allow plain-http loopback targets.
async fn spawn(b: Backend) -> Option<TestApp> {
    spawn_with(b, |c| {
        c.webhooks.allow_insecure_targets = true;
        c.webhooks.poll_interval_ms = 50;
        // Every evaluation opens a review item, so that there is one to walk.
        c.review_confidence_threshold = 1.0;
    })
    .await
}

/// Subscribes the admin key's tenant to `url`; returns the subscription.
async fn subscribe(app: &TestApp, url: &str, events: Value) -> Value {
    let (s, created) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": events, "description": "Tenant A's hook"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    created
}

/// Waits until the subscription has a delivery that succeeded, and returns that delivery.
async fn succeeded_delivery(app: &TestApp, hook: &str) -> Value {
    eventually(15, || async {
        let (s, page) = app
            .get(&format!(
                "/api/v1/webhooks/{hook}/deliveries?status=succeeded"
            ))
            .await;
        assert_eq!(s, 200, "{page}");
        page["items"].as_array().unwrap().first().cloned()
    })
    .await
    .expect("tenant A's delivery never succeeded")
}

/// Sends a request and returns its status and body, with the request id blanked out so that
/// bodies of different requests can be compared byte for byte.
async fn answer(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, String, Value) {
    let mut req = app.with_key(key, method, path);
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let request_id = res
        .headers()
        .get("x-request-id")
        .expect("X-Request-Id")
        .to_str()
        .unwrap()
        .to_string();
    let text = res.text().await.unwrap();
    let needle = format!("\"request_id\":\"{request_id}\"");
    assert_eq!(
        text.matches(&needle).count(),
        1,
        "the body carries the request id once: {text}"
    );
    let parsed = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, text.replace(&needle, "\"request_id\":\"\""), parsed)
}

/// A route to walk: method, path with `{id}`, body, the owner's id, an id of the same kind
/// that exists nowhere, a malformed one.
type Walk<'a> = (
    Method,
    &'a str,
    Option<&'a Value>,
    &'a str,
    &'a str,
    &'a str,
);

async fn another_tenants_ids_answer_exactly_like_missing_ones(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &rx.url, json!(["job.created"])).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let job = app.create_job("Tenant A's job").await;
    let job_id = job["id"].as_str().unwrap().to_string();
    let delivery = succeeded_delivery(&app, &hook_id).await;
    let delivery_id = delivery["id"].as_str().unwrap().to_string();
    let (s, hook) = app.get(&format!("/api/v1/webhooks/{hook_id}")).await;
    assert_eq!(s, 200, "{hook}");
    let (s, delivery) = app
        .get(&format!("/api/v1/webhook-deliveries/{delivery_id}"))
        .await;
    assert_eq!(s, 200, "{delivery}");
    let received = rx.received().len();
    let (s, created) = app
        .post(
            "/api/v1/keys",
            json!({"name": "A's integration", "scopes": ["jobs:read"]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let key_id = created["id"].as_str().unwrap().to_string();
    let a_key_plaintext = created["key"].as_str().unwrap().to_string();
    let a_credits = app.credits(&app.tenant_id).await;
    let (s, candidate) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Ana", "email": "ana@example.com"}),
        )
        .await;
    assert_eq!(s, 201, "{candidate}");
    let candidate_id = candidate["id"].as_str().unwrap().to_string();
    let (s, upload) = send(
        app.req(
            Method::POST,
            &format!("/api/v1/candidates/{candidate_id}/documents"),
        )
        .header("Content-Type", "text/plain")
        .body("Ana Conceição\nana@example.com\n"),
    )
    .await;
    assert_eq!(s, 202, "{upload}");
    let document_id = upload["document_id"].as_str().unwrap().to_string();
    let reference_id = upload["reference_id"].as_str().unwrap().to_string();
    let parsed = eventually(15, || async {
        let (_, op) = app.get(&format!("/api/v1/operations/{reference_id}")).await;
        (op["status"] == "succeeded").then_some(())
    })
    .await;
    assert!(parsed.is_some(), "A's document was not parsed");
    let (_, candidate) = app.get(&format!("/api/v1/candidates/{candidate_id}")).await;
    let (s, application) = app
        .post(
            "/api/v1/applications",
            json!({"candidate_id": candidate_id, "job_id": job_id}),
        )
        .await;
    assert_eq!(s, 201, "{application}");
    let application_id = application["id"].as_str().unwrap().to_string();
    let application = eventually(15, || async {
        let (_, a) = app
            .get(&format!("/api/v1/applications/{application_id}"))
            .await;
        a["latest_evaluation"].is_object().then_some(a)
    })
    .await
    .expect("A's application was scored");
    let evaluation_id = application["latest_evaluation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, reviews) = app.get("/api/v1/reviews").await;
    let review_id = reviews["items"][0]["id"]
        .as_str()
        .expect("A's review item")
        .to_string();
    let (_, review) = app.get(&format!("/api/v1/reviews/{review_id}")).await;
    let (b_tenant, b_key) = app.other_tenant("b", 10).await;

    let patch = json!({"title": "Taken over by B"});
    let rotate = json!({"grace_period_seconds": 3600});
    let hook_patch = json!({"url": "http://127.0.0.1:9/taken-over-by-b", "is_active": false,
                            "description": "Taken over by B"});
    let recover = json!({"since": "2020-01-01T00:00:00Z"});
    // (method, route with `{id}`, body, the owner's id, an id of the same kind that exists nowhere, a malformed one)
    let missing_job = new_id("job");
    let missing_key = new_id("key");
    let missing_hook = new_id("whk");
    let missing_delivery = new_id("dlv");
    let missing_candidate = new_id("cand");
    let missing_document = new_id("doc");
    let missing_reference = hirewire_core::ids::new_reference_id();
    let candidate_patch = json!({"first_name": "Taken over by B"});
    let missing_application = new_id("app");
    let application_move = json!({"status": "rejected", "reason": "Taken over by B"});
    let missing_evaluation = new_id("eval");
    let missing_review = new_id("rev");
    let resolve = json!({"resolution": "dismissed", "note": "Taken over by B"});
    let routes: Vec<Walk> = vec![
        (
            Method::GET,
            "/api/v1/jobs/{id}",
            None,
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::PATCH,
            "/api/v1/jobs/{id}",
            Some(&patch),
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::DELETE,
            "/api/v1/jobs/{id}",
            None,
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/jobs/{id}/publish",
            None,
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/jobs/{id}/close",
            None,
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/keys/{id}",
            None,
            &key_id,
            &missing_key,
            "key_nonsense",
        ),
        (
            Method::DELETE,
            "/api/v1/keys/{id}",
            None,
            &key_id,
            &missing_key,
            "key_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/keys/{id}/revoke",
            None,
            &key_id,
            &missing_key,
            "key_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/keys/{id}/rotate",
            Some(&rotate),
            &key_id,
            &missing_key,
            "key_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/keys/{id}/approve",
            None,
            &key_id,
            &missing_key,
            "key_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/webhooks/{id}",
            None,
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::PATCH,
            "/api/v1/webhooks/{id}",
            Some(&hook_patch),
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::DELETE,
            "/api/v1/webhooks/{id}",
            None,
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/webhooks/{id}/rotate-secret",
            None,
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/webhooks/{id}/test",
            None,
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/webhooks/{id}/recover",
            Some(&recover),
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/webhooks/{id}/deliveries",
            None,
            &hook_id,
            &missing_hook,
            "whk_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/webhook-deliveries/{id}",
            None,
            &delivery_id,
            &missing_delivery,
            "dlv_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/webhook-deliveries/{id}/retry",
            None,
            &delivery_id,
            &missing_delivery,
            "dlv_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/candidates/{id}",
            None,
            &candidate_id,
            &missing_candidate,
            "cand_nonsense",
        ),
        (
            Method::PATCH,
            "/api/v1/candidates/{id}",
            Some(&candidate_patch),
            &candidate_id,
            &missing_candidate,
            "cand_nonsense",
        ),
        (
            Method::DELETE,
            "/api/v1/candidates/{id}",
            None,
            &candidate_id,
            &missing_candidate,
            "cand_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/candidates/{id}/documents",
            Some(&candidate_patch),
            &candidate_id,
            &missing_candidate,
            "cand_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/candidates/{id}/documents",
            None,
            &candidate_id,
            &missing_candidate,
            "cand_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/documents/{id}",
            None,
            &document_id,
            &missing_document,
            "doc_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/documents/{id}/content",
            None,
            &document_id,
            &missing_document,
            "doc_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/applications/{id}",
            None,
            &application_id,
            &missing_application,
            "app_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/applications/{id}/status",
            Some(&application_move),
            &application_id,
            &missing_application,
            "app_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/operations/{id}",
            None,
            &reference_id,
            &missing_reference,
            "nonsense",
        ),
        (
            Method::GET,
            "/api/v1/evaluations/{id}",
            None,
            &evaluation_id,
            &missing_evaluation,
            "eval_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/jobs/{id}/ranking",
            None,
            &job_id,
            &missing_job,
            "job_nonsense",
        ),
        (
            Method::GET,
            "/api/v1/reviews/{id}",
            None,
            &review_id,
            &missing_review,
            "rev_nonsense",
        ),
        (
            Method::POST,
            "/api/v1/reviews/{id}/resolve",
            Some(&resolve),
            &review_id,
            &missing_review,
            "rev_nonsense",
        ),
    ];
    for (method, route, body, owned, missing, malformed) in routes {
        let path = |id: &str| route.replace("{id}", id);
        let (s_owned, owned_body, owned_json) =
            answer(&app, &b_key, method.clone(), &path(owned), body).await;
        let (s_missing, missing_body, _) =
            answer(&app, &b_key, method.clone(), &path(missing), body).await;
        let (s_malformed, malformed_body, _) =
            answer(&app, &b_key, method.clone(), &path(malformed), body).await;
        assert_eq!(
            s_owned, 404,
            "{method} {route} with tenant A's id: {owned_body}"
        );
        assert_envelope(&owned_json, "not_found");
        assert_eq!(
            (s_owned, &owned_body),
            (s_missing, &missing_body),
            "{method} {route}: A's id and a missing id answer differently"
        );
        assert_eq!(
            (s_owned, &owned_body),
            (s_malformed, &malformed_body),
            "{method} {route}: A's id and a malformed id answer differently"
        );
        assert!(
            !owned_body.contains(owned),
            "{method} {route}: the answer names A's id: {owned_body}"
        );
    }

    // Nothing of A's changed.
    let (s, after) = app.get(&format!("/api/v1/jobs/{job_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(after, job, "tenant B changed A's job");
    assert_eq!(after["revision"], 1);
    assert_eq!(after["status"], "draft");
    assert_eq!(app.credits(&app.tenant_id).await, a_credits, "A's credits");
    assert_eq!(app.credits(&b_tenant).await, 10, "B's credits");
    let (_, key) = app.get(&format!("/api/v1/keys/{key_id}")).await;
    assert_eq!(key["status"], "active", "{key}");
    assert_eq!(key["revision"], 1, "{key}");
    assert!(key["previous_secret_expires_at"].is_null(), "{key}");
    assert_eq!(
        send(app.with_key(&a_key_plaintext, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200,
        "A's key still works"
    );
    let (s, candidate_after) = app.get(&format!("/api/v1/candidates/{candidate_id}")).await;
    assert_eq!(s, 200, "tenant B erased A's candidate: {candidate_after}");
    assert_eq!(candidate_after, candidate, "tenant B changed A's candidate");
    let (_, docs) = app
        .get(&format!("/api/v1/candidates/{candidate_id}/documents"))
        .await;
    assert_eq!(docs["items"].as_array().unwrap().len(), 1, "{docs}");
    let (_, application_after) = app
        .get(&format!("/api/v1/applications/{application_id}"))
        .await;
    assert_eq!(
        application_after, application,
        "tenant B moved A's application"
    );
    let (_, review_after) = app.get(&format!("/api/v1/reviews/{review_id}")).await;
    assert_eq!(review_after, review, "tenant B resolved A's review item");
    assert_eq!(review_after["status"], "open");
    let (s, hook_after) = app.get(&format!("/api/v1/webhooks/{hook_id}")).await;
    assert_eq!(s, 200, "tenant B deleted A's webhook: {hook_after}");
    assert_eq!(hook_after, hook, "tenant B changed A's webhook");
    assert_eq!(hook_after["revision"], 1, "{hook_after}");
    assert_eq!(hook_after["is_active"], true, "{hook_after}");
    assert!(
        hook_after["previous_secret_expires_at"].is_null(),
        "tenant B rotated A's secret: {hook_after}"
    );
    let (_, delivery_after) = app
        .get(&format!("/api/v1/webhook-deliveries/{delivery_id}"))
        .await;
    assert_eq!(delivery_after, delivery, "tenant B changed A's delivery");
    let (_, all) = app
        .get(&format!("/api/v1/webhooks/{hook_id}/deliveries"))
        .await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        1,
        "tenant B's ping, retry or recover reached A's webhook: {all}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), received, "A's receiver got more");
    let types: Vec<String> = app
        .events(&app.tenant_id)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "job.created",
            "candidate.created",
            "candidate.parsed",
            "application.created",
            "application.scored",
            "candidate.scored"
        ]
    );
    assert!(app.events(&b_tenant).await.is_empty());
}

async fn lists_show_only_the_callers_tenant(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &rx.url, json!(["job.created", "job.published"])).await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let job = app.create_job("Tenant A's job").await;
    let job_id = job["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.post(&format!("/api/v1/jobs/{job_id}/publish"), json!({}))
            .await
            .0,
        200
    );
    let (s, created) = app
        .post(
            "/api/v1/keys",
            json!({"name": "A's integration", "scopes": ["jobs:read", "audit:read"]}),
        )
        .await;
    assert_eq!(s, 201);
    let a_key_id = created["id"].as_str().unwrap().to_string();
    let a_key = created["key"].as_str().unwrap().to_string();
    assert_eq!(
        send(app.with_key(&a_key, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    let admin_id = app
        .store
        .key_by_hash(
            &hirewire_core::model::key::hash_secret(&app.key),
            hirewire_core::time::now(),
        )
        .await
        .unwrap()
        .unwrap()
        .key
        .id;
    let delivery = succeeded_delivery(&app, &hook_id).await;
    let delivery_id = delivery["id"].as_str().unwrap().to_string();
    let (s, candidate) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Ana", "email": "ana@example.com", "tags": ["shared-tag"]}),
        )
        .await;
    assert_eq!(s, 201, "{candidate}");
    let candidate_id = candidate["id"].as_str().unwrap().to_string();
    let (s, evaluation) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": candidate_id, "job_id": job_id}),
        )
        .await;
    assert_eq!(s, 201, "{evaluation}");
    let evaluation_id = evaluation["id"].as_str().unwrap().to_string();
    let a_ids = [
        evaluation_id.as_str(),
        job_id.as_str(),
        a_key_id.as_str(),
        admin_id.as_str(),
        app.tenant_id.as_str(),
        hook_id.as_str(),
        delivery_id.as_str(),
        candidate_id.as_str(),
    ];

    // A sees its own, in every list: so the checks below look for something that exists.
    let a_seen = eventually(10, || async {
        let (_, audit) = app.get("/api/v1/audit-events?limit=200").await;
        let text = audit.to_string();
        (text.contains(&a_key_id)
            && audit["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "request" && e["actor_key_id"] == a_key_id.as_str()))
        .then_some(())
    })
    .await;
    assert!(a_seen.is_some(), "A's call records never appeared");
    app.settle().await;
    for path in [
        "/api/v1/jobs",
        "/api/v1/keys",
        "/api/v1/events",
        "/api/v1/webhooks",
        "/api/v1/candidates",
    ] {
        let (s, list) = app.get(path).await;
        assert_eq!(s, 200);
        let text = list.to_string();
        assert!(
            text.contains(&job_id)
                || text.contains(&a_key_id)
                || text.contains(&hook_id)
                || text.contains(&candidate_id),
            "A's {path} lacks A's objects: {list}"
        );
    }
    let (s, a_deliveries) = app
        .get(&format!("/api/v1/webhooks/{hook_id}/deliveries"))
        .await;
    assert_eq!(s, 200, "{a_deliveries}");
    assert!(
        a_deliveries.to_string().contains(&delivery_id),
        "A's deliveries lack A's delivery: {a_deliveries}"
    );

    let (b_tenant, b_key) = app.other_tenant("b", 10).await;
    // B does things of its own, so that its lists are not trivially empty.
    let (s, b_job) = send(
        app.with_key(&b_key, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": "Tenant B's job"})),
    )
    .await;
    assert_eq!(s, 201);
    let b_job_id = b_job["id"].as_str().unwrap().to_string();
    let (s, b_hook) =
        send(app.with_key(&b_key, Method::POST, "/api/v1/webhooks").json(
            &json!({"url": "http://127.0.0.1:9/b-hook", "events": ["*"], "is_active": false}),
        ))
        .await;
    assert_eq!(s, 201, "{b_hook}");
    let b_hook_id = b_hook["id"].as_str().unwrap().to_string();
    // Dedupe is per tenant: B may hold a candidate with A's candidate's email.
    let (s, b_candidate) = send(
        app.with_key(&b_key, Method::POST, "/api/v1/candidates")
            .json(&json!({"first_name": "Ana (B)", "email": "ana@example.com"})),
    )
    .await;
    assert_eq!(s, 201, "{b_candidate}");
    let b_seen = eventually(10, || async {
        let (_, audit) =
            send(app.with_key(&b_key, Method::GET, "/api/v1/audit-events?kind=request")).await;
        (!audit["items"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    assert!(b_seen.is_some(), "B's call records never appeared");

    app.settle().await;
    let b_ranking = format!("/api/v1/jobs/{b_job_id}/ranking?pool=all&limit=200");
    let lists = [
        "/api/v1/jobs?limit=200",
        "/api/v1/jobs?status=active",
        "/api/v1/keys?limit=200&include_total=true",
        "/api/v1/audit-events?limit=200",
        "/api/v1/audit-events?kind=change&limit=200",
        "/api/v1/events?limit=200",
        "/api/v1/webhooks?limit=200&include_total=true",
        "/api/v1/candidates?limit=200&include_total=true",
        "/api/v1/candidates?email=ana%40example.com",
        "/api/v1/candidates?tag=shared-tag",
        "/api/v1/candidates?name=ana",
        "/api/v1/evaluations?limit=200&include_total=true",
        "/api/v1/reviews?limit=200&include_total=true",
        &b_ranking,
    ];
    for path in lists {
        let res = app
            .with_key(&b_key, Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        for id in a_ids {
            assert!(!text.contains(id), "B's {path} shows A's {id}: {text}");
        }
    }
    let (_, jobs) = send(app.with_key(&b_key, Method::GET, "/api/v1/jobs")).await;
    let ids: Vec<&str> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b_job_id.as_str()]);
    let (_, active) = send(app.with_key(&b_key, Method::GET, "/api/v1/jobs?status=active")).await;
    assert_eq!(active["items"], json!([]));
    let (_, keys) =
        send(app.with_key(&b_key, Method::GET, "/api/v1/keys?include_total=true")).await;
    assert_eq!(keys["total"], 1, "B has one key: {keys}");
    let (_, hooks) =
        send(app.with_key(&b_key, Method::GET, "/api/v1/webhooks?include_total=true")).await;
    assert_eq!(hooks["total"], 1, "B has one webhook: {hooks}");
    assert_eq!(hooks["items"][0]["id"], b_hook_id.as_str(), "{hooks}");
    // A's webhook's deliveries are not B's to list.
    let (s, body) = send(app.with_key(
        &b_key,
        Method::GET,
        &format!("/api/v1/webhooks/{hook_id}/deliveries"),
    ))
    .await;
    assert_eq!(s, 404, "B lists A's deliveries: {body}");
    assert_envelope(&body, "not_found");
    assert!(!body.to_string().contains(&delivery_id), "{body}");
    let (_, events) = send(app.with_key(&b_key, Method::GET, "/api/v1/events")).await;
    let events = events["items"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["event"], "job.created");
    assert_eq!(events[1]["event"], "candidate.created");
    assert!(events.iter().all(|e| e["tenant_id"] == b_tenant.as_str()));
    let (_, audit) =
        send(app.with_key(&b_key, Method::GET, "/api/v1/audit-events?limit=200")).await;
    for e in audit["items"].as_array().unwrap() {
        assert!(
            e["entity_id"].is_null()
                || e["entity_id"] == b_job_id.as_str()
                || e["entity_id"] == b_tenant.as_str()
                || e["entity_id"] == b_hook_id.as_str()
                || e["entity_id"] == b_candidate["id"]
                || e["entity_type"] == "key",
            "{e}"
        );
    }
    // Filtering by A's ids finds nothing either.
    for path in [
        format!("/api/v1/audit-events?entity={job_id}"),
        format!("/api/v1/audit-events?actor={admin_id}"),
        format!("/api/v1/audit-events?actor={a_key_id}"),
    ] {
        let (s, page) = send(app.with_key(&b_key, Method::GET, &path)).await;
        assert_eq!((s, &page["items"]), (200, &json!([])), "{path}");
    }
    // And the other way round.
    let (_, a_jobs) = app.get("/api/v1/jobs").await;
    assert!(!a_jobs.to_string().contains(&b_job_id));
    let (_, a_events) = app.get("/api/v1/events").await;
    assert!(!a_events.to_string().contains(&b_job_id));
    let (_, a_audit) = app.get("/api/v1/audit-events?limit=200").await;
    assert!(!a_audit.to_string().contains(&b_job_id));
    let (_, a_hooks) = app.get("/api/v1/webhooks").await;
    assert!(!a_hooks.to_string().contains(&b_hook_id));
    assert!(!a_audit.to_string().contains(&b_hook_id));
}

//! Outgoing webhooks over HTTP: subscriptions, signed deliveries, retries, the dead letter,
//! disabling, the in-flight cap, filters, pings, rotation and the SSRF guard.

use std::time::{Duration, Instant};

use hirewire_server::Config;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn_with};
use crate::receiver::{Received, Receiver};

crate::on_both_backends!(
    subscriptions_can_be_managed_and_show_their_secret_once,
    unknown_event_types_and_unsafe_targets_are_refused,
    deliveries_are_signed_and_carry_every_header,
    failed_deliveries_are_retried_then_dead_lettered_and_can_be_retried,
    a_receivers_retry_after_is_respected,
    repeated_failures_disable_a_subscription_loudly,
    a_short_outage_disables_nobody,
    requests_in_flight_never_exceed_the_cap,
    filters_narrow_what_a_subscription_receives,
    a_test_sends_a_ping_to_one_subscription,
    after_rotation_both_secrets_sign_for_a_while,
    event_types_come_with_schemas,
    connections_are_pooled_and_reused,
    redirects_are_not_followed,
);

/// Settings for webhook tests: local plain-http receivers allowed, quick retries.
fn fast(c: &mut Config) {
    c.webhooks.allow_insecure_targets = true;
    c.webhooks.retry_schedule = vec!["100ms".into()];
    c.webhooks.retry_jitter = 0.0;
    c.webhooks.poll_interval_ms = 50;
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let (s, body) = app
        .post("/api/v1/webhooks", json!({"url": url, "events": events}))
        .await;
    assert_eq!(s, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_string(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn deliveries(app: &TestApp, webhook: &str, query: &str) -> Vec<Value> {
    let (s, body) = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries?{query}"))
        .await;
    assert_eq!(s, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// Waits until the subscription has `n` deliveries in `status`.
async fn wait_for_status(app: &TestApp, webhook: &str, status: &str, n: usize) -> Vec<Value> {
    eventually(15, || async {
        let items = deliveries(app, webhook, &format!("status={status}&limit=200")).await;
        (items.len() >= n).then_some(items)
    })
    .await
    .unwrap_or_else(|| panic!("never saw {n} {status} deliveries"))
}

fn verify(r: &Received, secret: &str) {
    let now = chrono::Utc::now().timestamp();
    hirewire_signature::verify_x_webhook_signature(
        secret,
        r.header("x-webhook-signature"),
        &r.body,
        now,
        300,
    )
    .expect("X-Webhook-Signature verifies");
    hirewire_signature::verify_standard(
        secret,
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
        &r.body,
        now,
        300,
    )
    .expect("webhook-signature verifies");
}

async fn subscriptions_can_be_managed_and_show_their_secret_once(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let (s, created) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["job.created", "job.closed"],
                   "description": "Slack alerts", "filter": {"new_status": ["hired"]}}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("whk_"));
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["is_active"], true);
    assert_eq!(created["include_pii"], true);
    assert_eq!(created["filter"], json!({"new_status": ["hired"]}));

    let (s, got) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 200);
    assert!(
        got.get("secret").is_none(),
        "the secret is shown once: {got}"
    );
    let (_, list) = app.get("/api/v1/webhooks").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("whsec_"));

    let patch = |body: Value, if_match: Option<&str>| {
        let mut req = app
            .req(Method::PATCH, &format!("/api/v1/webhooks/{id}"))
            .json(&body);
        if let Some(m) = if_match {
            req = req.header("If-Match", m);
        }
        send(req)
    };
    let (s, changed) = patch(
        json!({"events": ["*"], "description": null, "is_active": false, "include_pii": false}),
        Some("1"),
    )
    .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(
        (
            &changed["events"],
            &changed["description"],
            &changed["is_active"],
            &changed["include_pii"],
            &changed["revision"]
        ),
        (
            &json!(["*"]),
            &Value::Null,
            &json!(false),
            &json!(false),
            &json!(2)
        )
    );
    let (s, stale) = patch(json!({"is_active": true}), Some("1")).await;
    assert_eq!(s, 409);
    assert_envelope(&stale, "revision_conflict");

    let (s, rotated) = app
        .post(&format!("/api/v1/webhooks/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(s, 200, "{rotated}");
    assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(rotated["secret"], created["secret"]);
    assert!(rotated["previous_secret_expires_at"].is_string());

    let (s, gone) = send(app.req(Method::DELETE, &format!("/api/v1/webhooks/{id}"))).await;
    assert_eq!(s, 200);
    assert_eq!(gone["id"], id);
    let (s, body) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 404);
    assert_envelope(&body, "not_found");
}

async fn unknown_event_types_and_unsafe_targets_are_refused(b: Backend) {
    let Some(app) = spawn_with(b, |c| c.webhooks.poll_interval_ms = 50).await else {
        return;
    };
    let (s, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://93.184.216.34/hook", "events": ["job.created", "job.exploded", "candidate.teleported"]}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("job.exploded") && msg.contains("candidate.teleported"),
        "{msg}"
    );
    assert!(!msg.contains("job.created,"), "{msg}");

    for url in [
        "http://93.184.216.34/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.1.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let (s, body) = app
            .post("/api/v1/webhooks", json!({"url": url, "events": ["*"]}))
            .await;
        assert_eq!(s, 400, "{url} was accepted: {body}");
        assert_envelope(&body, "invalid_request");
        assert_eq!(body["details"]["field"], "url", "{body}");
    }
    // A public address is fine, and a PATCH to a private one is refused the same way.
    let (s, ok) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://93.184.216.34/hook", "events": ["*"], "is_active": false}),
        )
        .await;
    assert_eq!(s, 201, "{ok}");
    let (s, body) = send(
        app.req(
            Method::PATCH,
            &format!("/api/v1/webhooks/{}", ok["id"].as_str().unwrap()),
        )
        .json(&json!({"url": "https://192.168.1.1/hook"})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert_envelope(&body, "invalid_request");
}

async fn deliveries_are_signed_and_carry_every_header(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let rx = Receiver::start().await;
    let (hook, secret) = subscribe(&app, &rx.url, json!(["job.created", "job.published"])).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let started = Instant::now();
    let res = app
        .req(Method::POST, "/api/v1/jobs")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .json(&json!({"title": "Rust engineer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let job: Value = res.json().await.unwrap();
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got.len(), 1, "one delivery for job.created");
    assert!(
        got[0].at.duration_since(started) < Duration::from_secs(1),
        "first attempt within 1 s of the commit"
    );
    let r = &got[0];
    verify(r, &secret);
    assert_eq!(r.header("x-webhook-event"), "job.created");
    assert_eq!(r.json["event"], "job.created");
    assert_eq!(r.json["data"]["job"]["id"], job["id"]);
    assert_eq!(r.json["tenant_id"], app.tenant_id.as_str());
    assert!(r.json["reference_id"].is_null());
    let keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        6,
        "exactly event_id, event, timestamp, tenant_id, reference_id, data: {keys:?}"
    );
    assert!(r.delivery_id().starts_with("dlv_"));
    assert_eq!(r.delivery_id(), r.header("webhook-id"));
    assert_eq!(r.header("x-causation-id"), request_id);
    assert!(
        r.header("traceparent").starts_with(&format!("00-{trace}-")),
        "{}",
        r.header("traceparent")
    );
    assert!(r.header("user-agent").starts_with("Hirewire-Webhooks/"));
    assert_eq!(r.header("content-type"), "application/json");

    // The feed carries the same event id, and the delivery log shows the success.
    let (_, feed) = app.get("/api/v1/events").await;
    assert_eq!(feed["items"][0]["event_id"], r.json["event_id"]);
    let done = wait_for_status(&app, &hook, "succeeded", 1).await;
    assert_eq!(done[0]["id"], r.delivery_id());
    assert_eq!(done[0]["attempts"], 1);
    assert_eq!(done[0]["event_id"], r.json["event_id"]);
    let (s, one) = app
        .get(&format!("/api/v1/webhook-deliveries/{}", r.delivery_id()))
        .await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["attempts"], 1);
    let attempt = &one["attempt_log"][0];
    assert_eq!(attempt["status_code"], 200);
    assert_eq!(attempt["succeeded"], true);
    assert_eq!(attempt["response_body"], "receiver says hello");
    assert!(attempt["duration_ms"].as_i64().unwrap() >= 0);

    // job.updated is not subscribed; job.published is.
    let id = job["id"].as_str().unwrap();
    send(
        app.req(Method::PATCH, &format!("/api/v1/jobs/{id}"))
            .json(&json!({"city": "Oslo"})),
    )
    .await;
    let (s, _) = app
        .post(&format!("/api/v1/jobs/{id}/publish"), json!({}))
        .await;
    assert!(s == 200 || s == 402);
    if s == 200 {
        let got = rx.wait_for(2, 10).await;
        assert_eq!(got[1].header("x-webhook-event"), "job.published");
        assert_ne!(got[1].delivery_id(), got[0].delivery_id());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rx.received()
            .iter()
            .all(|r| r.header("x-webhook-event") != "job.updated")
    );
}

async fn failed_deliveries_are_retried_then_dead_lettered_and_can_be_retried(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        fast(c);
        c.webhooks.max_attempts = 3;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    rx.answer(500);
    let (hook, _) = subscribe(&app, &rx.url, json!(["job.created"])).await;
    app.create_job("Flaky receiver").await;
    let dead = wait_for_status(&app, &hook, "dead", 1).await;
    let got = rx.received();
    assert_eq!(got.len(), 3, "three attempts, then the dead letter");
    assert!(got.iter().all(|r| r.delivery_id() == got[0].delivery_id()));
    assert!(got[1].at.duration_since(got[0].at) >= Duration::from_millis(90));
    let id = dead[0]["id"].as_str().unwrap();
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["last_status_code"], 500);
    let (_, one) = app.get(&format!("/api/v1/webhook-deliveries/{id}")).await;
    assert_eq!(one["attempts"], 3);
    let attempts = one["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(
        attempts
            .iter()
            .map(|a| a["attempt"].clone())
            .collect::<Vec<_>>(),
        vec![json!(1), json!(2), json!(3)]
    );
    assert!(
        attempts
            .iter()
            .all(|a| a["status_code"] == 500 && a["succeeded"] == false)
    );
    assert_eq!(attempts[0]["response_body"], "receiver says hello");

    // Retrying a dead delivery sends it once more, with the same delivery id.
    rx.answer(200);
    let (s, retried) = app
        .post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 200, "{retried}");
    assert_eq!(retried["status"], "failed");
    let ok = wait_for_status(&app, &hook, "succeeded", 1).await;
    assert_eq!(ok[0]["id"], id);
    assert_eq!(rx.received()[3].delivery_id(), id);
    let (s, body) = app
        .post(&format!("/api/v1/webhook-deliveries/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 400, "a succeeded delivery is not retried");
    assert_envelope(&body, "invalid_state");

    // After an outage, `recover` sends every dead delivery since a time again.
    rx.answer(503);
    let since = chrono::Utc::now().to_rfc3339();
    app.create_job("During the outage 1").await;
    app.create_job("During the outage 2").await;
    wait_for_status(&app, &hook, "dead", 2).await;
    rx.answer(200);
    let (s, rec) = app
        .post(
            &format!("/api/v1/webhooks/{hook}/recover"),
            json!({"since": since}),
        )
        .await;
    assert_eq!(s, 200, "{rec}");
    assert_eq!(rec["retried"], 2);
    wait_for_status(&app, &hook, "succeeded", 3).await;
    assert!(deliveries(&app, &hook, "status=dead").await.is_empty());
}

async fn a_receivers_retry_after_is_respected(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        fast(c);
        c.webhooks.max_attempts = 2;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    rx.answer(429);
    rx.retry_after(1);
    subscribe(&app, &rx.url, json!(["*"])).await;
    app.create_job("Busy receiver").await;
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    let gap = got[1].at.duration_since(got[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "the retry came {gap:?} after a Retry-After of 1 s"
    );
}

async fn repeated_failures_disable_a_subscription_loudly(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        fast(c);
        c.webhooks.disable_after_failures = 3;
        c.webhooks.disable_min_span_secs = 0;
    })
    .await
    else {
        return;
    };
    let failing = Receiver::start().await;
    failing.answer(500);
    let watcher = Receiver::start().await;
    let (hook, _) = subscribe(&app, &failing.url, json!(["job.created"])).await;
    let (_, watcher_secret) = subscribe(&app, &watcher.url, json!(["webhook.disabled"])).await;
    app.create_job("Will fail").await;
    let notice = watcher.wait_for(1, 15).await;
    assert_eq!(notice.len(), 1, "webhook.disabled was delivered");
    verify(&notice[0], &watcher_secret);
    assert_eq!(notice[0].json["event"], "webhook.disabled");
    assert_eq!(notice[0].json["data"]["webhook_id"], hook.as_str());
    assert_eq!(notice[0].json["data"]["consecutive_failures"], 3);
    let (_, sub) = app.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(sub["is_active"], false);
    assert!(
        sub["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("3 attempts")
    );
    assert!(sub["disabled_at"].is_string());
    let seen = failing.received().len();
    assert_eq!(seen, 3);
    let (_, audit) = app
        .get(&format!("/api/v1/audit-events?entity={hook}&kind=change"))
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "webhook.disabled"),
        "the audit trail records it: {audit}"
    );
    // Nothing more goes out while it is off; re-enabling resumes the waiting delivery.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(failing.received().len(), seen);
    failing.answer(200);
    let (s, _) = send(
        app.req(Method::PATCH, &format!("/api/v1/webhooks/{hook}"))
            .json(&json!({"is_active": true})),
    )
    .await;
    assert_eq!(s, 200);
    wait_for_status(&app, &hook, "succeeded", 1).await;
    let (_, sub) = app.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(
        (&sub["is_active"], &sub["disabled_reason"]),
        (&json!(true), &Value::Null)
    );

    // 410 Gone disables at once.
    let gone = Receiver::start().await;
    gone.answer(410);
    let (hook2, _) = subscribe(&app, &gone.url, json!(["job.created"])).await;
    app.create_job("Gone").await;
    let off = eventually(10, || async {
        let (_, s) = app.get(&format!("/api/v1/webhooks/{hook2}")).await;
        (s["is_active"] == false).then_some(s)
    })
    .await
    .expect("410 disables the subscription");
    assert!(off["disabled_reason"].as_str().unwrap().contains("410"));
    assert_eq!(gone.received().len(), 1);
    assert_eq!(deliveries(&app, &hook2, "status=dead").await.len(), 1);
}

async fn a_short_outage_disables_nobody(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        fast(c);
        c.webhooks.max_attempts = 2;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    rx.answer(503);
    let (hook, _) = subscribe(&app, &rx.url, json!(["job.created"])).await;
    for i in 0..15 {
        app.create_job(&format!("Outage {i}")).await;
    }
    wait_for_status(&app, &hook, "dead", 15).await;
    assert!(rx.received().len() >= 30, "30 failed attempts in a row");
    let (_, sub) = app.get(&format!("/api/v1/webhooks/{hook}")).await;
    assert_eq!(
        sub["is_active"], true,
        "failures spanning less than an hour disable nobody: {sub}"
    );
}

async fn requests_in_flight_never_exceed_the_cap(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let rx = Receiver::start().await;
    rx.delay(Duration::from_secs(1));
    let (hook, _) = subscribe(&app, &rx.url, json!(["job.created"])).await;
    for i in 0..120 {
        app.create_job(&format!("Burst {i}")).await;
    }
    wait_for_status(&app, &hook, "succeeded", 120).await;
    assert_eq!(rx.received().len(), 120);
    let max = rx.max_in_flight();
    assert!(max <= 50, "{max} requests were in flight at once");
    assert!(max >= 25, "the cap is used: only {max} at once");
}

async fn filters_narrow_what_a_subscription_receives(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let a = app.create_job("Job A").await;
    let a_id = a["id"].as_str().unwrap();
    let rx = Receiver::start().await;
    let (s, _) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": rx.url, "events": ["job.updated", "job.closed"], "filter": {"job_id": a_id}}),
        )
        .await;
    assert_eq!(s, 201);
    let bj = app.create_job("Job B").await;
    for id in [a_id, bj["id"].as_str().unwrap()] {
        send(
            app.req(Method::PATCH, &format!("/api/v1/jobs/{id}"))
                .json(&json!({"city": "Lisbon"})),
        )
        .await;
        app.post(&format!("/api/v1/jobs/{id}/close"), json!({}))
            .await;
    }
    let got = rx.wait_for(2, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got_all = rx.received();
    assert_eq!(got_all.len(), 2, "only job A's two events");
    assert!(got.iter().all(|r| r.json["data"]["job"]["id"] == a_id));
}

async fn a_test_sends_a_ping_to_one_subscription(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let rx = Receiver::start().await;
    let other = Receiver::start().await;
    let (hook, secret) = subscribe(&app, &rx.url, json!(["job.closed"])).await;
    subscribe(&app, &other.url, json!(["*"])).await;
    let (s, body) = app
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    verify(&got[0], &secret);
    assert_eq!(got[0].json["event"], "ping");
    assert_eq!(got[0].json["data"]["webhook_id"], hook.as_str());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        other.received().is_empty(),
        "a ping goes to its subscription only"
    );
    let (_, feed) = app.get("/api/v1/events").await;
    assert!(
        !feed.to_string().contains("\"ping\""),
        "pings stay out of the feed: {feed}"
    );
    // An inactive subscription cannot be pinged.
    send(
        app.req(Method::PATCH, &format!("/api/v1/webhooks/{hook}"))
            .json(&json!({"is_active": false})),
    )
    .await;
    let (s, body) = app
        .post(&format!("/api/v1/webhooks/{hook}/test"), json!({}))
        .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_state");
}

async fn after_rotation_both_secrets_sign_for_a_while(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let rx = Receiver::start().await;
    let (hook, old) = subscribe(&app, &rx.url, json!(["job.created"])).await;
    let (_, rotated) = app
        .post(&format!("/api/v1/webhooks/{hook}/rotate-secret"), json!({}))
        .await;
    let new = rotated["secret"].as_str().unwrap();
    app.create_job("After rotation").await;
    let got = rx.wait_for(1, 10).await;
    let r = &got[0];
    assert_eq!(r.header("x-webhook-signature").matches("v1=").count(), 2);
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
    verify(r, &old);
    verify(r, new);
}

async fn event_types_come_with_schemas(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let (s, body) = app.get("/api/v1/event-types").await;
    assert_eq!(s, 200);
    let items = body["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    for t in [
        "job.created",
        "job.updated",
        "job.published",
        "job.closed",
        "job.expired",
        "webhook.disabled",
        "ping",
    ] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }
    let created = items.iter().find(|i| i["type"] == "job.created").unwrap();
    assert!(created["description"].as_str().unwrap().len() > 5);
    let schema = &created["schema"];
    assert_eq!(schema["$ref"], "#/$defs/JobEventData");
    assert!(schema["$defs"]["Job"].is_object(), "{schema}");
    assert!(
        !schema.to_string().contains("#/components/"),
        "the schema stands alone"
    );
}

async fn connections_are_pooled_and_reused(b: Backend) {
    let Some(app) = spawn_with(b, fast).await else {
        return;
    };
    let rx = Receiver::start().await;
    subscribe(&app, &rx.url, json!(["job.created"])).await;
    for i in 0..30 {
        app.create_job(&format!("Pooled {i}")).await;
        rx.wait_for(i + 1, 10).await;
    }
    let got = rx.received();
    assert_eq!(got.len(), 30);
    let mut peers: Vec<_> = got.iter().map(|r| r.peer).collect();
    peers.sort();
    peers.dedup();
    assert!(
        peers.len() <= 3,
        "30 deliveries one after another used {} connections",
        peers.len()
    );
}

async fn redirects_are_not_followed(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        fast(c);
        c.webhooks.max_attempts = 1;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    rx.answer(307);
    let (hook, _) = subscribe(&app, &rx.url, json!(["job.created"])).await;
    app.create_job("Redirected").await;
    let dead = wait_for_status(&app, &hook, "dead", 1).await;
    assert_eq!(dead[0]["last_status_code"], 307);
    assert_eq!(
        rx.received().len(),
        1,
        "a redirect is a failed attempt, never followed"
    );
}

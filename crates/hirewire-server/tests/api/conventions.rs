//! The v1 conventions (DESIGN §3, §9): envelope, request ids, pagination, filters, sort,
//! revisions, idempotency, JSON errors, limits and media types.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, assert_envelope, send, spawn, spawn_with};

crate::on_both_backends!(
    errors_carry_the_envelope_and_the_request_id,
    every_response_has_a_request_id,
    pagination_neither_skips_nor_repeats_under_concurrent_inserts,
    filters_sort_and_bad_queries,
    stale_revisions_conflict,
    idempotency_keys_replay_and_refuse_reuse,
    bad_json_is_named,
    bodies_over_the_limit_and_wrong_media_types,
    nul_characters_are_refused_not_stored,
);

async fn nul_characters_are_refused_not_stored(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    for path in [
        "/api/v1/audit-events?entity=a%00b",
        "/api/v1/jobs?city=x%00",
        "/api/v1/keys?cursor=%00",
    ] {
        let (s, body) = app.get(path).await;
        assert_eq!(s, 400, "{path}: {body}");
        assert_envelope(&body, "invalid_query");
    }
    let (s, body) = app
        .post(
            "/api/v1/keys",
            json!({"name": "a\u{0}b", "scopes": ["jobs:read"]}),
        )
        .await;
    assert_eq!(
        (s, body["details"]["field"].as_str()),
        (400, Some("name")),
        "{body}"
    );
    let (s, body) = app.post("/api/v1/jobs", json!({"title": "a\u{0}b"})).await;
    assert_eq!(
        (s, body["details"]["field"].as_str()),
        (400, Some("title")),
        "{body}"
    );
}

async fn errors_carry_the_envelope_and_the_request_id(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let missing = hirewire_core::ids::new_id("job");
    let res = app
        .req(Method::GET, &format!("/api/v1/jobs/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let header = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_envelope(&body, "not_found");
    assert_eq!(body["request_id"], header);

    let res = app
        .req(Method::GET, &format!("/api/v1/jobs/{missing}"))
        .header("x-request-id", "client-chosen.id_42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-chosen.id_42");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], "client-chosen.id_42");

    let res = app
        .req(Method::GET, "/api/v1/jobs")
        .header("x-request-id", "not allowed!")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "not allowed!");
}

async fn every_response_has_a_request_id(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let cases = [
        app.client.get(app.url("/api/v1/jobs")),
        app.req(Method::GET, "/api/v1/jobs"),
        app.req(Method::GET, "/api/v1/nowhere"),
        app.req(Method::PUT, "/api/v1/jobs"),
        app.client.get(app.url("/healthz/live")),
        app.client.get(app.url("/healthz/ready")),
        app.client.get(app.url("/metrics")),
        app.client.get(app.url("/api/v1/openapi.json")),
    ];
    for req in cases {
        let res = req.send().await.unwrap();
        let status = res.status();
        assert!(
            res.headers().contains_key("x-request-id"),
            "{status} {:?}",
            res.url()
        );
        if status.as_u16() == 404 || status.as_u16() == 405 {
            let code = if status.as_u16() == 404 {
                "not_found"
            } else {
                "method_not_allowed"
            };
            assert_envelope(&res.json::<Value>().await.unwrap(), code);
        }
    }
}

async fn collect_pages(app: &crate::helpers::TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/jobs?{query}&cursor={c}"),
            None => format!("/api/v1/jobs?{query}"),
        };
        let (s, page) = app.get(&path).await;
        assert_eq!(s, 200, "{page}");
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

async fn pagination_neither_skips_nor_repeats_under_concurrent_inserts(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let app = std::sync::Arc::new(app);
    let mut originals = HashSet::new();
    for i in 0..45 {
        originals.insert(
            app.create_job(&format!("Original {i:02}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for query in [
        "limit=7",
        "limit=7&sort=created_at",
        "limit=6&sort=title",
        "limit=5&sort=-updated_at",
    ] {
        let writer = {
            let app = app.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    app.create_job(&format!("Concurrent {i:02}")).await;
                }
            })
        };
        let seen = collect_pages(&app, query).await;
        writer.await.unwrap();
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{query}: an item was repeated");
        for id in &originals {
            assert!(seen.contains(id), "{query}: {id} was skipped");
        }
    }
}

async fn filters_sort_and_bad_queries(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    for title in ["Charlie", "Alpha", "Bravo"] {
        app.create_job(title).await;
    }
    let id = app.create_job("Delta").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post(&format!("/api/v1/jobs/{id}/publish"), json!({}))
            .await
            .0,
        200
    );

    let titles = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (_, page) = app.get("/api/v1/jobs?sort=title").await;
    assert_eq!(titles(&page), ["Alpha", "Bravo", "Charlie", "Delta"]);
    let (_, page) = app.get("/api/v1/jobs?sort=-title").await;
    assert_eq!(titles(&page), ["Delta", "Charlie", "Bravo", "Alpha"]);
    let (_, page) = app.get("/api/v1/jobs?status=active").await;
    assert_eq!(titles(&page), ["Delta"]);
    let (_, page) = app
        .get("/api/v1/jobs?status=draft,active&sort=title&include_total=true&limit=2")
        .await;
    assert_eq!(titles(&page), ["Alpha", "Bravo"]);
    assert_eq!(page["total"], 4);
    let (_, page) = app.get("/api/v1/jobs").await;
    assert!(page.get("total").is_none(), "total only when asked for");

    let cursor = page["next_cursor"].clone();
    assert!(cursor.is_null());
    let (_, first) = app.get("/api/v1/jobs?sort=title&limit=1").await;
    let c = first["next_cursor"].as_str().unwrap();
    for bad in [
        "limit=0",
        "limit=201",
        "limit=abc",
        "sort=salary",
        "status=open",
        "colour=red",
        "include_total=maybe",
        "cursor=garbage",
        &format!("cursor={c}&sort=-title"),
    ] {
        let (s, body) = app.get(&format!("/api/v1/jobs?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {body}");
        assert_envelope(&body, "invalid_query");
    }
}

async fn stale_revisions_conflict(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job = app.create_job("Plumber").await;
    let path = format!("/api/v1/jobs/{}", job["id"].as_str().unwrap());
    let res = app
        .req(Method::PATCH, &path)
        .header("if-match", "1")
        .json(&json!({"city": "Hull"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .header("if-match", "1")
            .json(&json!({"city": "Bath"})),
    )
    .await;
    assert_eq!(s, 409);
    assert_envelope(&body, "revision_conflict");
    assert_eq!(body["details"]["current_revision"], 2);
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .json(&json!({"city": "Bath", "revision": 1})),
    )
    .await;
    assert_eq!((s, body["code"].as_str()), (409, Some("revision_conflict")));
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .header("if-match", "\"2\"")
            .json(&json!({"city": "Bath"})),
    )
    .await;
    assert_eq!((s, body["city"].as_str()), (200, Some("Bath")));
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .header("if-match", "soon")
            .json(&json!({"city": "Ely"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    let (_, now) = app.get(&path).await;
    assert_eq!(
        (now["city"].as_str(), now["revision"].as_i64()),
        (Some("Bath"), Some(3))
    );
    let updates = app
        .events(&app.tenant_id)
        .await
        .into_iter()
        .filter(|e| e.event_type == "job.updated")
        .count();
    assert_eq!(updates, 2, "refused writes emit nothing");
}

async fn idempotency_keys_replay_and_refuse_reuse(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let create = |key: &'static str, title: &'static str| {
        app.req(Method::POST, "/api/v1/jobs")
            .header("idempotency-key", key)
            .json(&json!({"title": title}))
    };
    let first = create("k-1", "Baker").send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = create("k-1", "Baker").send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let (s, body) = send(create("k-1", "Butcher")).await;
    assert_eq!(s, 409);
    assert_envelope(&body, "idempotency_key_reused");
    let (_, list) = app.get("/api/v1/jobs?include_total=true").await;
    assert_eq!(list["total"], 1, "the replay created nothing");

    let id = first["id"].as_str().unwrap();
    let credits = app.credits(&app.tenant_id).await;
    let publish = || {
        send(
            app.req(Method::POST, &format!("/api/v1/jobs/{id}/publish"))
                .header("idempotency-key", "pub-1"),
        )
    };
    let (s1, b1) = publish().await;
    let (s2, b2) = publish().await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(b1, b2);
    assert_eq!(
        app.credits(&app.tenant_id).await,
        credits - 1,
        "a replayed publish spends once"
    );
    // Keys are per tenant: another tenant may use the same key freely.
    let (_, other) = app.other_tenant("other", 1).await;
    let (s, _) = send(
        app.with_key(&other, Method::POST, "/api/v1/jobs")
            .header("idempotency-key", "k-1")
            .json(&json!({"title": "Butcher"})),
    )
    .await;
    assert_eq!(s, 201);
}

async fn bad_json_is_named(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let post = |body: &'static str| {
        app.req(Method::POST, "/api/v1/jobs")
            .header("content-type", "application/json")
            .body(body)
    };
    let (s, body) = send(post(r#"{"title": "x", "salary": 10}"#)).await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    assert!(
        body["message"].as_str().unwrap().contains("salary"),
        "{body}"
    );
    let (s, body) = send(post(
        r#"{"title": "x", "skills": [{"name": "Go", "weight": "high"}]}"#,
    ))
    .await;
    assert_eq!(s, 400);
    assert_eq!(body["details"]["field"], "skills[0].weight", "{body}");
    let (s, body) = send(post("{\"title\": \n \"x\",,}")).await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    assert_eq!(body["details"]["line"], 2, "{body}");
    let (s, body) = send(post(r#"{"title": 5}"#)).await;
    assert_eq!((s, body["details"]["field"].as_str()), (400, Some("title")));
    let (s, body) = send(post("{}")).await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("title"),
        "{body}"
    );
}

async fn bodies_over_the_limit_and_wrong_media_types(b: Backend) {
    let Some(app) = spawn_with(b, |c| c.json_body_limit = 64 * 1024).await else {
        return;
    };
    let big = json!({"title": "x", "description": "a".repeat(70 * 1024)});
    let (s, body) = app.post("/api/v1/jobs", big).await;
    assert_eq!(s, 413);
    assert_envelope(&body, "payload_too_large");
    let (s, body) = send(
        app.req(Method::POST, "/api/v1/jobs")
            .header("content-type", "text/plain")
            .body(r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(s, 415);
    assert_envelope(&body, "unsupported_media_type");
    let (s, _) = send(
        app.req(Method::POST, "/api/v1/jobs")
            .body(r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(s, 415);
    let (_, list) = app.get("/api/v1/jobs?include_total=true").await;
    assert_eq!(list["total"], 0);
}

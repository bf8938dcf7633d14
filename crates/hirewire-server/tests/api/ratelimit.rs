//! Rate limits per key and family, with headers on every answer.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, assert_envelope, send, spawn_with};

crate::on_both_backends!(
    limits_count_per_key_and_family,
    a_limited_request_has_no_effect
);

async fn limits_count_per_key_and_family(b: Backend) {
    let Some(app) = spawn_with(b, |c| c.rate_limits.jobs = 5).await else {
        return;
    };
    for expected in (0..5).rev() {
        let res = app.req(Method::GET, "/api/v1/jobs").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            res.headers()["x-ratelimit-remaining"],
            expected.to_string().as_str()
        );
        assert!(
            res.headers()["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= 60
        );
    }
    let res = app.req(Method::GET, "/api/v1/jobs").send().await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=12).contains(&retry),
        "one request refills every 12 s: {retry}"
    );
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    assert!(res.headers().contains_key("x-ratelimit-reset"));
    assert_envelope(&res.json().await.unwrap(), "rate_limited");
    // Another family of the same key, and another key, are counted apart.
    let res = app.req(Method::GET, "/api/v1/keys").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-ratelimit-limit"], "100000");
    let other = app
        .key_for(&app.tenant_id, vec![hirewire_core::scope::Scope::JobsRead])
        .await;
    assert_eq!(
        app.with_key(&other, Method::GET, "/api/v1/jobs")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn a_limited_request_has_no_effect(b: Backend) {
    let Some(app) = spawn_with(b, |c| c.rate_limits.jobs = 2).await else {
        return;
    };
    let id = app.create_job("Limited").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.0, 200);
    let credits = app.credits(&app.tenant_id).await;
    let (s, body) = send(
        app.req(Method::POST, &format!("/api/v1/jobs/{id}/publish"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 429, "{body}");
    let job = app.store.job(&app.tenant_id, &id).await.unwrap().unwrap();
    assert_eq!(job.status.as_str(), "draft");
    assert_eq!(
        app.credits(&app.tenant_id).await,
        credits,
        "a limited publish spends no credit"
    );
    let published = app
        .events(&app.tenant_id)
        .await
        .into_iter()
        .filter(|e| e.event_type == "job.published")
        .count();
    assert_eq!(published, 0);
}

//! The Jobs API: lifecycle, credits, expiry.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Db, assert_envelope, eventually, send, spawn, spawn_on};

crate::on_both_backends!(
    a_job_walks_its_lifecycle,
    publish_takes_expires_at_from_the_body,
    publishing_without_credits_changes_nothing,
    only_drafts_can_be_published,
    concurrent_publishes_spend_the_last_credit_once,
    delete_closes_and_keeps_the_job_readable,
    patch_changes_any_subset_and_validates,
    jobs_past_expiry_expire_once_with_two_processes,
);

async fn a_job_walks_its_lifecycle(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let res = app
        .req(Method::POST, "/api/v1/jobs")
        .json(&json!({"title": "Senior Rust engineer", "city": "Leeds", "country": "GB", "employment_type": "full_time", "remote_type": "hybrid",
            "skills": [{"name": "Rust", "required": true, "weight": 3, "min_years": 3}, {"name": "Kubernetes", "required": false}], "min_experience_years": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let job: serde_json::Value = res.json().await.unwrap();
    let id = job["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{id}"));
    assert_eq!(job["status"], "draft");
    assert_eq!(
        job["skills"][1],
        json!({"name": "Kubernetes", "required": false, "weight": 1.0, "min_years": null})
    );
    assert!(job["posted_at"].is_null());

    let (s, got) = app.get(&location).await;
    assert_eq!((s, &got), (200, &job));

    let before = app.credits(&app.tenant_id).await;
    let (s, published) = app.post(&format!("{location}/publish"), json!({})).await;
    assert_eq!(s, 200, "{published}");
    assert_eq!(published["status"], "active");
    assert_eq!(published["revision"], 2);
    let posted =
        chrono::DateTime::parse_from_rfc3339(published["posted_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(published["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires - posted, chrono::Duration::days(30));
    assert_eq!(app.credits(&app.tenant_id).await, before - 1);

    // An action takes no body at all, too.
    let (s, closed) = send(app.req(Method::POST, &format!("{location}/close"))).await;
    assert_eq!(s, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    let (s, again) = app.post(&format!("{location}/close"), json!({})).await;
    assert_eq!(s, 400);
    assert_envelope(&again, "invalid_state");

    let types: Vec<String> = app
        .events(&app.tenant_id)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["job.created", "job.published", "job.closed"]);
}

async fn publish_takes_expires_at_from_the_body(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let id = app.create_job("Data engineer").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, body) = app
        .post(
            &format!("/api/v1/jobs/{id}/publish"),
            json!({"expires_at": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    let (s, body) = app
        .post(
            &format!("/api/v1/jobs/{id}/publish"),
            json!({"expires_at": "2099-06-30T12:00:00Z"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["expires_at"], "2099-06-30T12:00:00Z");
}

async fn publishing_without_credits_changes_nothing(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (tenant, key) = app.other_tenant("broke", 0).await;
    let (s, job) = send(
        app.with_key(&key, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": "Nurse"})),
    )
    .await;
    assert_eq!(s, 201);
    let id = job["id"].as_str().unwrap();
    let (s, body) =
        send(app.with_key(&key, Method::POST, &format!("/api/v1/jobs/{id}/publish"))).await;
    assert_eq!(s, 402);
    assert_envelope(&body, "no_credits");
    let (_, after) = send(app.with_key(&key, Method::GET, &format!("/api/v1/jobs/{id}"))).await;
    assert_eq!(after, job);
    assert_eq!(app.credits(&tenant).await, 0);
    let types: Vec<String> = app
        .events(&tenant)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["job.created"]);
}

async fn only_drafts_can_be_published(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let id = app.create_job("Welder").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.post(&format!("/api/v1/jobs/{id}/publish"), json!({}))
            .await
            .0,
        200
    );
    let credits = app.credits(&app.tenant_id).await;
    let (s, body) = app
        .post(&format!("/api/v1/jobs/{id}/publish"), json!({}))
        .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_state");
    assert_eq!(
        app.credits(&app.tenant_id).await,
        credits,
        "a refused publish spends nothing"
    );
}

async fn concurrent_publishes_spend_the_last_credit_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (tenant, key) = app.other_tenant("one-credit", 1).await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let (_, job) = send(
            app.with_key(&key, Method::POST, "/api/v1/jobs")
                .json(&json!({"title": format!("Job {i}")})),
        )
        .await;
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let calls = ids
        .iter()
        .map(|id| send(app.with_key(&key, Method::POST, &format!("/api/v1/jobs/{id}/publish"))));
    let results = futures_join_all(calls).await;
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let refused = results
        .iter()
        .filter(|(s, b)| *s == 402 && b["code"] == "no_credits")
        .count();
    assert_eq!((ok, refused), (1, 7), "{results:?}");
    assert_eq!(app.credits(&tenant).await, 0);
    let published = app
        .events(&tenant)
        .await
        .into_iter()
        .filter(|e| e.event_type == "job.published")
        .count();
    assert_eq!(published, 1);
}

/// Runs futures concurrently on the runtime and collects their outputs in order.
pub async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn delete_closes_and_keeps_the_job_readable(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let id = app.create_job("Chef").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/jobs/{id}");
    let (s, deleted) = send(app.req(Method::DELETE, &path)).await;
    assert_eq!(s, 200);
    assert_eq!(deleted["status"], "closed");
    let (s, again) = send(app.req(Method::DELETE, &path)).await;
    assert_eq!((s, &again), (200, &deleted), "DELETE is idempotent");
    let (s, read) = app.get(&path).await;
    assert_eq!((s, read["status"].as_str()), (200, Some("closed")));
    let (s, body) = send(app.req(Method::PATCH, &path).json(&json!({"title": "x"}))).await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_state");
}

async fn patch_changes_any_subset_and_validates(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job = app.create_job("Driver").await;
    let path = format!("/api/v1/jobs/{}", job["id"].as_str().unwrap());
    let (s, patched) = send(app.req(Method::PATCH, &path).json(
        &json!({"city": "York", "apply_method": "email", "apply_email": "jobs@example.com"}),
    ))
    .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["city"], "York");
    assert_eq!(patched["title"], "Driver");
    assert_eq!(patched["revision"], 2);
    let (s, cleared) = send(app.req(Method::PATCH, &path).json(&json!({"city": null}))).await;
    assert_eq!(
        (s, cleared["city"].is_null(), cleared["revision"].as_i64()),
        (200, true, Some(3))
    );
    let (s, unchanged) = send(
        app.req(Method::PATCH, &path)
            .json(&json!({"title": "Driver"})),
    )
    .await;
    assert_eq!(
        (s, unchanged["revision"].as_i64()),
        (200, Some(3)),
        "a no-op patch makes no revision"
    );
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .json(&json!({"skills": [{"name": "Rust"}, {"name": "rust"}]})),
    )
    .await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_request");
    assert_eq!(body["details"]["field"], "skills[1].name");
    let (s, body) = send(
        app.req(Method::PATCH, &path)
            .json(&json!({"status": "active"})),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body["message"].as_str().unwrap().contains("publish"));
    let types: Vec<String> = app
        .events(&app.tenant_id)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["job.created", "job.updated", "job.updated"]);
}

async fn jobs_past_expiry_expire_once_with_two_processes(b: Backend) {
    let Some(db) = Db::create(b).await else {
        return;
    };
    let one = spawn_on(db, |_| {}).await;
    let two = spawn_on(one.db.same_database(), |_| {}).await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = one.create_job(&format!("Temp {i}")).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, body) = one
            .post(
                &format!("/api/v1/jobs/{id}/publish"),
                json!({"expires_at": soon}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        ids.push(id);
    }
    let all_expired = eventually(30, || async {
        let (_, list) = one.get("/api/v1/jobs?status=expired&limit=200").await;
        (list["items"].as_array().map_or(0, Vec::len) == ids.len()).then_some(())
    })
    .await;
    assert!(all_expired.is_some(), "jobs did not expire in time");
    // Give the second process a few more ticks to (wrongly) expire anything twice.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let expired = one
        .events(&one.tenant_id)
        .await
        .into_iter()
        .filter(|e| e.event_type == "job.expired")
        .count();
    assert_eq!(expired, ids.len(), "each job expires exactly once");
    drop(two);
}

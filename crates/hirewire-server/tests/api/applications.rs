//! The Applications API: one per candidate and job, validated moves with a full history, and
//! their events.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, send, spawn};

crate::on_both_backends!(
    an_application_moves_through_the_pipeline_with_its_history,
    bad_applications_and_moves_are_refused,
    applications_are_listed_with_filters_and_go_with_an_erased_candidate,
);

async fn candidate(app: &TestApp, email: &str) -> String {
    let (s, c) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Ana", "email": email}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_str().unwrap().to_string()
}

async fn apply(app: &TestApp, candidate_id: &str, job_id: &str) -> Value {
    let (s, a) = app
        .post(
            "/api/v1/applications",
            json!({"candidate_id": candidate_id, "job_id": job_id, "source": "job_board"}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn status(app: &TestApp, id: &str, body: Value) -> (u16, Value) {
    send(
        app.req(Method::POST, &format!("/api/v1/applications/{id}/status"))
            .header("X-ATS-User-ID", "recruiter-9")
            .json(&body),
    )
    .await
}

async fn an_application_moves_through_the_pipeline_with_its_history(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job = app.create_job("Nurse").await;
    let job_id = job["id"].as_str().unwrap();
    let cand = candidate(&app, "ana@example.com").await;
    let a = apply(&app, &cand, job_id).await;
    let id = a["id"].as_str().unwrap();
    assert!(id.starts_with("app_"));
    assert_eq!(a["status"], "new");
    assert_eq!(a["source"], "job_board");
    assert_eq!(a["status_history"].as_array().unwrap().len(), 1);

    // Skipping forward is allowed.
    let (s, a) = status(
        &app,
        id,
        json!({"status": "shortlisted", "reason": "Strong ward experience"}),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["revision"], 2);
    let last = a["status_history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["from"], "new");
    assert_eq!(last["to"], "shortlisted");
    assert_eq!(last["user_id"], "recruiter-9");
    assert_eq!(last["reason"], "Strong ward experience");
    assert!(last["actor_key_id"].as_str().unwrap().starts_with("key_"));
    assert!(last["at"].is_string());

    // Back needs reopen; the refusal names the moves allowed.
    let (s, e) = status(&app, id, json!({"status": "screened"})).await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_state");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("interviewed, offered, hired, rejected, withdrawn"),
        "{e}"
    );
    let (s, a) = status(
        &app,
        id,
        json!({"status": "screened", "reopen": true, "reason": "Check references first"}),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status_history"][2]["reopened"], true);

    // Rejection needs a reason and ends the pipeline until a reopen.
    let (s, e) = status(&app, id, json!({"status": "rejected"})).await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");
    let (s, a) = status(
        &app,
        id,
        json!({"status": "rejected", "reason": "No right to work"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(a["rejection_reason"], "No right to work");
    let (s, e) = status(&app, id, json!({"status": "offered"})).await;
    assert_eq!(s, 400);
    assert!(e["message"].as_str().unwrap().contains("reopen"), "{e}");

    // Revisions guard moves too.
    let (s, e) = send(
        app.req(Method::POST, &format!("/api/v1/applications/{id}/status"))
            .header("If-Match", "1")
            .json(&json!({"status": "screened", "reopen": true})),
    )
    .await;
    assert_eq!(s, 409);
    assert_envelope(&e, "revision_conflict");

    let (s, mut got) = app.get(&format!("/api/v1/applications/{id}")).await;
    // The background scoring may land between the move and this read; it is not an edit.
    let mut a = a;
    for v in [&mut got, &mut a] {
        v["latest_evaluation"] = Value::Null;
    }
    assert_eq!((s, &got), (200, &a));

    let events = app.events(&app.tenant_id).await;
    let types: Vec<&str> = events
        .iter()
        .filter(|e| {
            e.event_type.starts_with("application.") && e.event_type != "application.scored"
        })
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "application.created",
            "application.status_changed",
            "application.shortlisted",
            "application.status_changed",
            "application.status_changed",
            "application.rejected",
        ]
    );
    let changed = events
        .iter()
        .find(|e| e.event_type == "application.status_changed")
        .unwrap();
    assert_eq!(changed.data["previous_status"], "new");
    assert_eq!(changed.data["new_status"], "shortlisted");
    assert!(changed.data["changed_at"].is_string());
    let audit = crate::helpers::eventually(5, || async {
        let (_, page) = app
            .get(&format!(
                "/api/v1/audit-events?entity={id}&action=application.status_changed"
            ))
            .await;
        page["items"].as_array().filter(|i| i.len() == 3).cloned()
    })
    .await
    .expect("three audited moves");
    assert_eq!(audit[0]["attributed_user_id"], "recruiter-9");
}

async fn bad_applications_and_moves_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job = app.create_job("Accountant").await;
    let job_id = job["id"].as_str().unwrap().to_string();
    let cand = candidate(&app, "bo@example.com").await;
    let first = apply(&app, &cand, &job_id).await;
    let (s, e) = app
        .post(
            "/api/v1/applications",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    assert_eq!(s, 409);
    assert_envelope(&e, "duplicate");
    assert_eq!(e["details"]["existing_id"], first["id"]);

    let closed = app.create_job("Closed job").await;
    let closed_id = closed["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/api/v1/jobs/{closed_id}/close"), json!({}))
            .await
            .0,
        200
    );
    let (s, e) = app
        .post(
            "/api/v1/applications",
            json!({"candidate_id": cand, "job_id": closed_id}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_state");

    for (body, field) in [
        (
            json!({"candidate_id": "cand_nope", "job_id": job_id}),
            "candidate_id",
        ),
        (
            json!({"candidate_id": cand, "job_id": hirewire_core::ids::new_id("job")}),
            "job_id",
        ),
        (
            json!({"candidate_id": cand, "job_id": job_id, "source": "carrier_pigeon"}),
            "source",
        ),
    ] {
        let (s, e) = app.post("/api/v1/applications", body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert!(e.to_string().contains(field), "{body}: {e}");
    }
    let id = first["id"].as_str().unwrap();
    let (s, e) = status(&app, id, json!({"status": "new"})).await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_state");
    let (s, e) = status(&app, id, json!({"status": "promoted"})).await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");
    let (s, e) = status(&app, "app_nonsense", json!({"status": "screened"})).await;
    assert_eq!(s, 404);
    assert_envelope(&e, "not_found");
}

async fn applications_are_listed_with_filters_and_go_with_an_erased_candidate(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let j1 = app.create_job("Driver").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let j2 = app.create_job("Picker").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c1 = candidate(&app, "c1@example.com").await;
    let c2 = candidate(&app, "c2@example.com").await;
    let a1 = apply(&app, &c1, &j1).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let _a2 = apply(&app, &c2, &j1).await;
    let a3 = apply(&app, &c1, &j2).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        status(&app, &a1, json!({"status": "interviewed"})).await.0,
        200
    );
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, p) = app
        .get(&format!(
            "/api/v1/applications?job_id={j1}&include_total=true"
        ))
        .await;
    assert_eq!(p["total"], 2);
    let (_, p) = app
        .get(&format!(
            "/api/v1/applications?candidate_id={c1}&sort=created_at"
        ))
        .await;
    assert_eq!(ids(&p), [a1.clone(), a3.clone()]);
    let (_, p) = app
        .get("/api/v1/applications?status=interviewed,offered")
        .await;
    assert_eq!(ids(&p), std::slice::from_ref(&a1));
    let (_, p) = app
        .get("/api/v1/applications?source=job_board&limit=1")
        .await;
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    assert!(p["next_cursor"].is_string());
    let (s, e) = app.get("/api/v1/applications?status=promoted").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");

    // Erasing a candidate takes their applications, evaluations and review items with them.
    let scored = crate::helpers::eventually(15, || async {
        let (_, a) = app.get(&format!("/api/v1/applications/{a1}")).await;
        a["latest_evaluation"]["id"].as_str().map(str::to_string)
    })
    .await
    .expect("the application was scored");
    let (_, reviews) = app
        .get(&format!(
            "/api/v1/reviews?candidate_id={c1}&include_total=true"
        ))
        .await;
    assert!(
        reviews["total"].as_i64().unwrap() >= 1,
        "an empty profile is an unsure evaluation: {reviews}"
    );
    assert_eq!(
        send(app.req(Method::DELETE, &format!("/api/v1/candidates/{c1}")))
            .await
            .0,
        200
    );
    let (s, _) = app.get(&format!("/api/v1/evaluations/{scored}")).await;
    assert_eq!(s, 404);
    let (_, left) = app
        .get(&format!(
            "/api/v1/evaluations?candidate_id={c1}&include_total=true"
        ))
        .await;
    assert_eq!(left["total"], 0);
    let (_, reviews) = app
        .get(&format!(
            "/api/v1/reviews?candidate_id={c1}&include_total=true"
        ))
        .await;
    assert_eq!(reviews["total"], 0);
    let (s, _) = app.get(&format!("/api/v1/applications/{a1}")).await;
    assert_eq!(s, 404);
    let (_, p) = app.get("/api/v1/applications?include_total=true").await;
    assert_eq!(p["total"], 1);
}

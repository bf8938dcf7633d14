//! Evaluations over HTTP: automatic scoring when an application is created and after a CV
//! parse, on-demand evaluations with their history, per-job weights, review items for unsure
//! evaluations, application filters by score, and rankings.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn};

crate::on_both_backends!(
    applications_are_scored_in_the_background_and_after_a_cv_parse,
    an_evaluation_on_demand_explains_itself_and_keeps_the_history,
    unsure_evaluations_open_one_review_item_that_a_person_resolves,
    applications_filter_and_sort_by_their_latest_score,
    rankings_order_applicants_and_the_talent_pool,
    bad_evaluation_requests_are_refused,
);

const CV: &str = "Maria Keller
maria.keller@example.com
+49 30 1234567
Berlin, Germany

Summary
Backend engineer building distributed systems in Rust.

Skills
Rust, Kubernetes, PostgreSQL, Docker, Terraform

Experience
Senior Backend Engineer, Acme GmbH, Berlin
Jan 2017 - Present
- Built payment services in Rust running on Kubernetes
- Ran PostgreSQL clusters with Terraform

Software Engineer, Globex AG, Munich
Mar 2013 - Dec 2016
- Wrote Java and Go microservices

Education
BSc Computer Science, Technische Universität Berlin, 2009 - 2013
";

async fn job(app: &TestApp, body: Value) -> String {
    let (s, j) = app.post("/api/v1/jobs", body).await;
    assert_eq!(s, 201, "{j}");
    j["id"].as_str().unwrap().to_string()
}

fn backend_job() -> Value {
    json!({
        "title": "Senior Backend Engineer",
        "city": "Berlin",
        "country": "DE",
        "min_experience_years": 5,
        "skills": [
            {"name": "Rust", "required": true, "weight": 3},
            {"name": "k8s", "required": true},
            {"name": "Go", "required": false}
        ]
    })
}

async fn candidate(app: &TestApp, body: Value) -> String {
    let (s, c) = app.post("/api/v1/candidates", body).await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_str().unwrap().to_string()
}

/// A candidate with a structured profile that fits the backend job well.
fn strong_profile(email: &str) -> Value {
    json!({
        "first_name": "Maria", "last_name": "Keller", "email": email,
        "profile": {
            "basics": {"name": "Maria Keller", "label": "Senior Backend Engineer",
                       "location": {"city": "Berlin", "countryCode": "DE"}},
            "skills": [{"name": "Rust"}, {"name": "Kubernetes"}, {"name": "PostgreSQL"}],
            "work": [
                {"name": "Acme", "position": "Senior Backend Engineer", "startDate": "2016-01",
                 "highlights": ["Built Rust services on Kubernetes"]}
            ],
            "education": [{"institution": "TU Berlin", "studyType": "Bachelor", "area": "Computer Science"}]
        }
    })
}

async fn apply(app: &TestApp, candidate_id: &str, job_id: &str) -> Value {
    let (s, a) = app
        .post(
            "/api/v1/applications",
            json!({"candidate_id": candidate_id, "job_id": job_id}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a
}

/// The application once its latest evaluation is `evaluation_id`-different from `before`.
async fn scored(app: &TestApp, id: &str, before: Option<&str>) -> Value {
    eventually(15, || async {
        let (_, a) = app.get(&format!("/api/v1/applications/{id}")).await;
        let latest = a["latest_evaluation"]["id"].as_str().map(str::to_string);
        (latest.is_some() && latest.as_deref() != before).then_some(a)
    })
    .await
    .unwrap_or_else(|| panic!("application {id} was not scored"))
}

/// Uploads [`CV`] as the candidate's CV (202); returns the parse's reference id.
async fn upload_cv(app: &TestApp, candidate_id: &str) -> String {
    let (s, accepted) = send(
        app.req(
            Method::POST,
            &format!("/api/v1/candidates/{candidate_id}/documents"),
        )
        .header("content-type", "text/plain")
        .body(CV),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    accepted["reference_id"].as_str().unwrap().to_string()
}

async fn operation(app: &TestApp, reference_id: &str) -> Value {
    eventually(15, || async {
        let (_, op) = app.get(&format!("/api/v1/operations/{reference_id}")).await;
        (op["status"] != "pending").then_some(op)
    })
    .await
    .expect("operation finished")
}

async fn applications_are_scored_in_the_background_and_after_a_cv_parse(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let cand = candidate(
        &app,
        json!({"first_name": "Maria", "email": "maria@example.com"}),
    )
    .await;
    let a = apply(&app, &cand, &job_id).await;
    let app_id = a["id"].as_str().unwrap();
    assert!(a["latest_evaluation"].is_null(), "{a}");
    let first_ref = a["evaluation_reference_id"].as_str().unwrap().to_string();

    let a = scored(&app, app_id, None).await;
    let thin = a["latest_evaluation"].clone();
    assert!(thin["id"].as_str().unwrap().starts_with("eval_"));
    assert_eq!(thin["band"], "red", "an empty profile fits nothing: {thin}");
    assert_eq!(a["revision"], 1, "scoring is not an edit");
    let op = operation(&app, &first_ref).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["kind"], "evaluation.run");
    assert_eq!(op["result"]["evaluations"][0]["application_id"], app_id);

    // A CV arrives: parsed, merged, and the application re-scored with evidence from the CV.
    let parse_ref = upload_cv(&app, &cand).await;
    let parsed = operation(&app, &parse_ref).await;
    assert_eq!(parsed["status"], "succeeded", "{parsed}");
    let eval_ref = parsed["result"]["evaluation_reference_id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = scored(&app, app_id, thin["id"].as_str()).await;
    assert_eq!(a["evaluation_reference_id"], eval_ref.as_str());
    let latest = a["latest_evaluation"].clone();
    assert!(
        latest["score"].as_u64().unwrap() > thin["score"].as_u64().unwrap() + 30,
        "the parsed CV should lift the score: {thin} → {latest}"
    );
    assert!(latest["confidence"].as_f64().unwrap() > thin["confidence"].as_f64().unwrap());
    let (_, e) = app
        .get(&format!(
            "/api/v1/evaluations/{}",
            latest["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(e["trigger"], "cv_parsed");
    assert_eq!(e["reference_id"], eval_ref.as_str());
    let skills = e["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "skills")
        .unwrap()
        .clone();
    assert!(
        skills["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ev| ev["line"].as_u64().is_some() && ev["excerpt"].is_string()),
        "evidence points at CV lines: {skills}"
    );

    // Both scorings are in the history, newest first.
    let (_, history) = app
        .get(&format!("/api/v1/evaluations?application_id={app_id}"))
        .await;
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[0]["id"], latest["id"]);
    assert_eq!(items[1]["trigger"], "application_created");

    // Events: application.scored and candidate.scored for each; the ones after the parse
    // carry the upload's reference id, so one id leads from the upload to the score.
    let events = app.events(&app.tenant_id).await;
    let scored_events: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "application.scored")
        .collect();
    assert_eq!(scored_events.len(), 2);
    assert_eq!(
        scored_events[0].reference_id.as_deref(),
        Some(first_ref.as_str())
    );
    assert_eq!(
        scored_events[1].reference_id.as_deref(),
        Some(parse_ref.as_str())
    );
    let data = &scored_events[1].data;
    assert_eq!(data["application_id"], app_id);
    assert_eq!(data["evaluation_id"], latest["id"]);
    assert!(data["missing_skills"].is_array() && data["band"].is_string());
    assert!(
        data.get("rationale").is_none(),
        "CV quotes stay out of events"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == "candidate.scored")
            .count(),
        2
    );
}

async fn an_evaluation_on_demand_explains_itself_and_keeps_the_history(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let cand = candidate(&app, strong_profile("maria@example.com")).await;
    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    for field in [
        "id",
        "candidate_id",
        "job_id",
        "score",
        "band",
        "dimensions",
        "matched_skills",
        "missing_skills",
        "rationale",
        "confidence",
        "evaluator",
        "model_version",
        "created_at",
    ] {
        assert!(e.get(field).is_some(), "missing `{field}`: {e}");
    }
    assert!(e["application_id"].is_null(), "no application yet");
    assert_eq!(e["trigger"], "api");
    assert_eq!(e["evaluator"], "builtin-matcher");
    let names: Vec<&str> = e["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["skills", "experience", "title", "location", "education"]
    );
    let weight_sum: f64 = e["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["weight"].as_f64().unwrap())
        .sum();
    assert!((weight_sum - 1.0).abs() < 1e-6);
    // k8s is a synonym of Kubernetes; the preferred Go is not listed, and a related skill
    // earns partial credit, stated in the evidence.
    let matched = e["matched_skills"].as_array().unwrap();
    let find = |n: &str| matched.iter().find(|m| m["name"] == n).cloned();
    assert_eq!(find("Rust").unwrap()["credit"], 1.0);
    assert_eq!(find("Kubernetes").unwrap()["via"], "synonym k8s");
    let go = find("Go").expect("Go gets partial credit");
    assert!(go["credit"].as_f64().unwrap() < 1.0, "{go}");
    assert_eq!(go["required"], false);
    assert!(go["via"].as_str().unwrap().starts_with("related"), "{go}");
    assert!(e["missing_skills"].as_array().unwrap().is_empty(), "{e}");
    assert!(!e["rationale"].as_str().unwrap().is_empty());
    assert!(e["score"].as_u64().unwrap() >= 60, "{e}");
    let (s, got) = app
        .get(&format!(
            "/api/v1/evaluations/{}",
            e["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(got, e, "stored as shown");

    // Same input, same output.
    let (_, again) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    assert_eq!(again["score"], e["score"]);
    assert_eq!(again["dimensions"], e["dimensions"]);
    assert_ne!(again["id"], e["id"]);

    // Weights per job: with everything on location, the breakdown follows.
    let (s, j) = send(
        app.req(Method::PATCH, &format!("/api/v1/jobs/{job_id}"))
            .json(&json!({"scoring_weights": {"skills": 0, "experience": 0, "title": 0, "location": 1, "education": 0}})),
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["scoring_weights"]["location"], 1.0);
    let (_, weighted) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    let location = weighted["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "location")
        .unwrap()
        .clone();
    assert_eq!(location["weight"], 1.0, "{weighted}");

    // An application made now joins the history; on demand ones become its latest.
    let a = apply(&app, &cand, &job_id).await;
    let a = scored(&app, a["id"].as_str().unwrap(), None).await;
    let (_, fresh) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    assert_eq!(fresh["application_id"], a["id"]);
    let (_, a) = app
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(a["latest_evaluation"]["id"], fresh["id"]);
    let (_, history) = app
        .get(&format!(
            "/api/v1/evaluations?candidate_id={cand}&job_id={job_id}&limit=2"
        ))
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
    let cursor = history["next_cursor"].as_str().unwrap();
    let (_, rest) = app
        .get(&format!(
            "/api/v1/evaluations?candidate_id={cand}&job_id={job_id}&cursor={cursor}&include_total=true"
        ))
        .await;
    assert_eq!(rest["total"], 5, "{rest}");
    assert_eq!(rest["items"].as_array().unwrap().len(), 3);
}

async fn unsure_evaluations_open_one_review_item_that_a_person_resolves(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let thin = candidate(
        &app,
        json!({"first_name": "Tom", "email": "tom@example.com"}),
    )
    .await;
    let strong = candidate(&app, strong_profile("maria@example.com")).await;
    let evaluate = |c: String| {
        let app = &app;
        let job_id = job_id.clone();
        async move {
            let (s, e) = app
                .post(
                    "/api/v1/evaluations",
                    json!({"candidate_id": c, "job_id": job_id}),
                )
                .await;
            assert_eq!(s, 201, "{e}");
            e
        }
    };
    let unsure = evaluate(thin.clone()).await;
    assert!(unsure["confidence"].as_f64().unwrap() < 0.5, "{unsure}");
    let sure = evaluate(strong.clone()).await;
    assert!(sure["confidence"].as_f64().unwrap() >= 0.5, "{sure}");

    let (s, open) = app.get("/api/v1/reviews?status=open").await;
    assert_eq!(s, 200, "{open}");
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the unsure one: {open}");
    let r = items[0].clone();
    assert!(r["id"].as_str().unwrap().starts_with("rev_"));
    assert_eq!(r["kind"], "low_confidence_evaluation");
    assert_eq!(r["subject_type"], "evaluation");
    assert_eq!(r["subject_id"], unsure["id"]);
    assert_eq!(r["candidate_id"], thin.as_str());
    assert_eq!(r["details"]["threshold"], 0.5);
    assert!(r["reason"].as_str().unwrap().contains("confidence"));

    // Still unsure on re-evaluation: the same item points at the newer evaluation.
    let again = evaluate(thin.clone()).await;
    let (_, open) = app.get("/api/v1/reviews?status=open").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let r = open["items"][0].clone();
    assert_eq!(r["subject_id"], again["id"]);
    assert_eq!(r["revision"], 2);

    // Resolving it: needs reviews:manage, records who, emits review.resolved.
    let id = r["id"].as_str().unwrap();
    let reader = app
        .key_for(
            &app.tenant_id,
            vec![hirewire_core::scope::Scope::ApplicationsRead],
        )
        .await;
    let (s, body) = send(app.with_key(&reader, Method::GET, "/api/v1/reviews")).await;
    assert_eq!(s, 403);
    assert_envelope(&body, "insufficient_scope");
    let (s, stale) = send(
        app.req(Method::POST, &format!("/api/v1/reviews/{id}/resolve"))
            .header("If-Match", "1")
            .json(&json!({"resolution": "accepted"})),
    )
    .await;
    assert_eq!(s, 409);
    assert_envelope(&stale, "revision_conflict");
    let (s, done) = send(
        app.req(Method::POST, &format!("/api/v1/reviews/{id}/resolve"))
            .header("X-ATS-User-ID", "recruiter-7")
            .json(&json!({"resolution": "dismissed", "note": "CV requested from the candidate"})),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "resolved");
    assert_eq!(done["resolution"], "dismissed");
    assert_eq!(done["resolution_note"], "CV requested from the candidate");
    assert_eq!(done["resolved_by_user_id"], "recruiter-7");
    assert!(
        done["resolved_by_key_id"]
            .as_str()
            .unwrap()
            .starts_with("key_")
    );
    assert!(done["resolved_at"].is_string());
    let (s, twice) = app
        .post(
            &format!("/api/v1/reviews/{id}/resolve"),
            json!({"resolution": "accepted"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&twice, "invalid_state");
    let (s, bad) = app
        .post(
            &format!("/api/v1/reviews/{id}/resolve"),
            json!({"resolution": "maybe"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&bad, "invalid_request");
    let (_, open) = app.get("/api/v1/reviews?status=open").await;
    assert!(open["items"].as_array().unwrap().is_empty());
    let (_, got) = app.get(&format!("/api/v1/reviews/{id}")).await;
    assert_eq!(got, done);

    // Once resolved, a new unsure evaluation opens a new item.
    evaluate(thin.clone()).await;
    let (_, all) = app
        .get(&format!(
            "/api/v1/reviews?candidate_id={thin}&include_total=true"
        ))
        .await;
    assert_eq!(all["total"], 2, "{all}");
    let (s, bad) = app.get("/api/v1/reviews?status=pending").await;
    assert_eq!(s, 400);
    assert_envelope(&bad, "invalid_query");

    let events = app.events(&app.tenant_id).await;
    let resolved: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "review.resolved")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].data["review"]["id"], id);
}

async fn applications_filter_and_sort_by_their_latest_score(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let strong = candidate(&app, strong_profile("maria@example.com")).await;
    let thin = candidate(
        &app,
        json!({"first_name": "Tom", "email": "tom@example.com"}),
    )
    .await;
    let a_strong = apply(&app, &strong, &job_id).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a_thin = apply(&app, &thin, &job_id).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let strong_app = scored(&app, &a_strong, None).await;
    let thin_app = scored(&app, &a_thin, None).await;
    let strong_score = strong_app["latest_evaluation"]["score"].as_u64().unwrap();
    let thin_score = thin_app["latest_evaluation"]["score"].as_u64().unwrap();
    assert!(strong_score > thin_score);

    let (s, page) = app
        .get(&format!("/api/v1/applications?job_id={job_id}&sort=-score"))
        .await;
    assert_eq!(s, 200, "{page}");
    let ids: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a_strong.as_str(), a_thin.as_str()]);

    // Paging by score with a cursor neither skips nor repeats.
    let (_, first) = app
        .get(&format!(
            "/api/v1/applications?job_id={job_id}&sort=score&limit=1"
        ))
        .await;
    assert_eq!(first["items"][0]["id"], a_thin.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let (s, second) = app
        .get(&format!(
            "/api/v1/applications?job_id={job_id}&sort=score&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["items"][0]["id"], a_strong.as_str());
    assert!(second["next_cursor"].is_null());

    let (_, above) = app
        .get(&format!(
            "/api/v1/applications?min_score={}",
            thin_score + 1
        ))
        .await;
    let ids: Vec<&str> = above["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a_strong.as_str()]);
    let band = strong_app["latest_evaluation"]["band"].as_str().unwrap();
    let (_, banded) = app
        .get(&format!("/api/v1/applications?job_id={job_id}&band={band}"))
        .await;
    assert!(
        banded["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["latest_evaluation"]["band"] == band)
    );
    assert!(!banded["items"].as_array().unwrap().is_empty());

    let (s, bad) = app.get("/api/v1/applications?band=purple").await;
    assert_eq!(s, 400);
    assert_envelope(&bad, "invalid_query");
    let (s, bad) = app.get("/api/v1/applications?min_score=101").await;
    assert_eq!(s, 400);
    assert_envelope(&bad, "invalid_query");
    // A cursor made for another sort is refused, not compared across types.
    let (s, _) = app
        .get(&format!(
            "/api/v1/applications?sort=created_at&cursor={cursor}"
        ))
        .await;
    assert_eq!(s, 400);
}

async fn rankings_order_applicants_and_the_talent_pool(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let strong = candidate(&app, strong_profile("maria@example.com")).await;
    let thin = candidate(
        &app,
        json!({"first_name": "Tom", "email": "tom@example.com"}),
    )
    .await;
    let partial = candidate(
        &app,
        json!({"first_name": "Ola", "email": "ola@example.com",
               "profile": {"skills": [{"name": "Go"}, {"name": "Kubernetes"}],
                           "work": [{"name": "Initech", "position": "Backend Developer", "startDate": "2019-01"}]}}),
    )
    .await;
    let outsider = candidate(&app, strong_profile("zed@example.com")).await;
    for c in [&strong, &thin, &partial] {
        apply(&app, c, &job_id).await;
    }
    let (s, r) = app.get(&format!("/api/v1/jobs/{job_id}/ranking")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["pool"], "applicants");
    assert_eq!(r["pool_size"], 3);
    assert_eq!(r["evaluated"], 3);
    assert_eq!(r["prescreened"], false);
    let order: Vec<&str> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["candidate_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [strong.as_str(), partial.as_str(), thin.as_str()]);
    let top = &r["items"][0];
    assert_eq!(top["rank"], 1);
    assert_eq!(top["name"], "Maria Keller");
    assert!(top["application_id"].as_str().unwrap().starts_with("app_"));
    assert_eq!(top["application_status"], "new");
    assert!(top["dimensions"].as_array().unwrap().len() == 5);
    assert!(top["rationale"].is_string());
    let scores: Vec<u64> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]));

    // min_score and limit.
    let cut = scores[1];
    let (_, r) = app
        .get(&format!(
            "/api/v1/jobs/{job_id}/ranking?min_score={cut}&limit=1"
        ))
        .await;
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["candidate_id"], strong.as_str());

    // The whole pool takes in the candidate who never applied; it needs cv_search.
    let (s, r) = app
        .get(&format!("/api/v1/jobs/{job_id}/ranking?pool=all&limit=10"))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["pool_size"], 4);
    let outsider_row = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["candidate_id"] == outsider.as_str())
        .expect("the outsider is ranked")
        .clone();
    assert!(outsider_row["application_id"].is_null());
    let reader = app
        .key_for(
            &app.tenant_id,
            vec![hirewire_core::scope::Scope::ApplicationsRead],
        )
        .await;
    let (s, body) = send(app.with_key(
        &reader,
        Method::GET,
        &format!("/api/v1/jobs/{job_id}/ranking?pool=all"),
    ))
    .await;
    assert_eq!(s, 403);
    assert_envelope(&body, "insufficient_scope");
    let (s, _) = send(app.with_key(
        &reader,
        Method::GET,
        &format!("/api/v1/jobs/{job_id}/ranking"),
    ))
    .await;
    assert_eq!(s, 200);

    // Rejected applicants leave the ranking unless asked for.
    let (_, apps) = app
        .get(&format!("/api/v1/applications?candidate_id={thin}"))
        .await;
    let thin_app = apps["items"][0]["id"].as_str().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/applications/{thin_app}/status"),
            json!({"status": "rejected", "reason": "No Rust"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, r) = app.get(&format!("/api/v1/jobs/{job_id}/ranking")).await;
    assert_eq!(r["pool_size"], 2);
    let (_, r) = app
        .get(&format!(
            "/api/v1/jobs/{job_id}/ranking?include_rejected=true"
        ))
        .await;
    assert_eq!(r["pool_size"], 3);
    assert_eq!(r["items"][2]["application_status"], "rejected");
}

async fn bad_evaluation_requests_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let job_id = job(&app, backend_job()).await;
    let cand = candidate(&app, strong_profile("maria@example.com")).await;
    for (body, field) in [
        (
            json!({"candidate_id": "nope", "job_id": job_id}),
            "candidate_id",
        ),
        (
            json!({"candidate_id": cand, "job_id": "job_0000"}),
            "job_id",
        ),
        (
            json!({"candidate_id": "cand_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0", "job_id": job_id}),
            "candidate_id",
        ),
    ] {
        let (s, e) = app.post("/api/v1/evaluations", body).await;
        assert_eq!(s, 400, "{e}");
        assert_envelope(&e, "invalid_request");
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id, "extra": 1}),
        )
        .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");
    let (s, e) = app.get("/api/v1/evaluations/eval_nope").await;
    assert_eq!(s, 404);
    assert_envelope(&e, "not_found");
    for q in [
        "limit=0",
        "limit=201",
        "min_score=x",
        "pool=some",
        "include_rejected=maybe",
    ] {
        let (s, e) = app.get(&format!("/api/v1/jobs/{job_id}/ranking?{q}")).await;
        assert_eq!(s, 400, "{q}: {e}");
        assert_envelope(&e, "invalid_query");
    }
    let (s, e) = app
        .get("/api/v1/jobs/job_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0/ranking")
        .await;
    assert_eq!(s, 404, "{e}");
    assert_envelope(&e, "not_found");
    // Weights: each 0–100, not all zero, no unknown dimension.
    for (weights, field) in [
        (json!({"skills": -1}), "scoring_weights.skills"),
        (
            json!({"skills": 0, "experience": 0, "title": 0, "location": 0, "education": 0}),
            "scoring_weights",
        ),
    ] {
        let (s, e) = send(
            app.req(Method::PATCH, &format!("/api/v1/jobs/{job_id}"))
                .json(&json!({ "scoring_weights": weights })),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let (s, e) = send(
        app.req(Method::PATCH, &format!("/api/v1/jobs/{job_id}"))
            .json(&json!({ "scoring_weights": {"salary": 1} })),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert_envelope(&e, "invalid_request");
}

/// Everything of an evaluation but its ids and time, to compare across backends.
fn substance(e: &Value) -> Value {
    let mut e = e.clone();
    for k in [
        "id",
        "candidate_id",
        "job_id",
        "application_id",
        "created_at",
        "reference_id",
    ] {
        e.as_object_mut().unwrap().remove(k);
    }
    e
}

/// Seeds the same job, candidates and CV; returns the evaluations of the CV's candidate
/// after its parse and on demand, and the job's ranking.
async fn seed_and_score(app: &TestApp) -> (Value, Value, Value) {
    let job_id = job(app, backend_job()).await;
    let cand = candidate(
        app,
        json!({"first_name": "Maria", "email": "maria@example.com"}),
    )
    .await;
    candidate(app, strong_profile("ana@example.com")).await;
    candidate(
        app,
        json!({"first_name": "Ola", "email": "ola@example.com",
               "profile": {"skills": [{"name": "Go"}, {"name": "Kubernetes"}]}}),
    )
    .await;
    let a = apply(app, &cand, &job_id).await;
    let first = scored(app, a["id"].as_str().unwrap(), None).await;
    upload_cv(app, &cand).await;
    let after = scored(
        app,
        a["id"].as_str().unwrap(),
        first["latest_evaluation"]["id"].as_str(),
    )
    .await;
    let (_, parsed_eval) = app
        .get(&format!(
            "/api/v1/evaluations/{}",
            after["latest_evaluation"]["id"].as_str().unwrap()
        ))
        .await;
    let (_, on_demand) = app
        .post(
            "/api/v1/evaluations",
            json!({"candidate_id": cand, "job_id": job_id}),
        )
        .await;
    let (_, ranking) = app
        .get(&format!("/api/v1/jobs/{job_id}/ranking?pool=all"))
        .await;
    (parsed_eval, on_demand, ranking)
}

/// The same data gives the same evaluations, to the last evidence line, and the same
/// ranking on SQLite and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_are_the_same_on_both_backends() {
    let Some(sqlite) = spawn(Backend::Sqlite).await else {
        return;
    };
    let Some(postgres) = spawn(Backend::Postgres).await else {
        return;
    };
    let (a_parsed, a_demand, a_rank) = seed_and_score(&sqlite).await;
    let (b_parsed, b_demand, b_rank) = seed_and_score(&postgres).await;
    assert_eq!(substance(&a_parsed), substance(&b_parsed));
    assert_eq!(substance(&a_demand), substance(&b_demand));
    assert_eq!(a_parsed["trigger"], "cv_parsed");
    // The parsed evaluation and the on-demand one differ only in how they ran.
    let (mut p, mut d) = (substance(&a_parsed), substance(&a_demand));
    p["trigger"] = Value::Null;
    d["trigger"] = Value::Null;
    assert_eq!(p, d, "same input, same output");
    let view = |r: &Value| -> Vec<(Value, Value, Value)> {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["name"].clone(),
                    i["score"].clone(),
                    i["dimensions"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(view(&a_rank), view(&b_rank));
    assert_eq!(a_rank["items"].as_array().unwrap().len(), 3);
}

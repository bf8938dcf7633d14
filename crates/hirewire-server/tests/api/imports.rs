//! Bulk import and export of candidates: JSON Lines and CSV, chunked, with row errors that
//! never stop the other rows.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn};

crate::on_both_backends!(
    a_jsonl_import_creates_updates_and_reports_bad_rows,
    a_csv_export_imports_back_into_another_tenant,
    a_large_import_crosses_chunks_and_numbers_rows,
    bad_imports_and_exports_are_refused,
);

async fn import(app: &TestApp, key: &str, query: &str, content_type: &str, body: Vec<u8>) -> Value {
    let (s, accepted) = send(
        app.with_key(key, Method::POST, &format!("/api/v1/imports{query}"))
            .header("Content-Type", content_type)
            .body(body),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    assert_eq!(accepted["status"], "pending");
    let url = accepted["operation_url"].as_str().unwrap().to_string();
    let op = eventually(60, || async {
        let (_, op) = send(app.with_key(key, Method::GET, &url)).await;
        (op["status"] != "pending").then_some(op)
    })
    .await
    .expect("the import finished");
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["kind"], "candidates.import");
    op
}

async fn export(app: &TestApp, key: &str, query: &str, accept: Option<&str>) -> (String, String) {
    let mut req = app.with_key(
        key,
        Method::GET,
        &format!("/api/v1/exports/candidates{query}"),
    );
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    (ct, res.text().await.unwrap())
}

async fn a_jsonl_import_creates_updates_and_reports_bad_rows(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (s, existing) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Ana", "email": "ana@example.com"}),
        )
        .await;
    assert_eq!(s, 201);
    let body = [
        r#"{"first_name": "Bo", "email": "bo@example.com", "profile": {"skills": [{"name": "k8s"}]}}"#,
        r#"{"email": "ANA@example.com", "tags": ["imported"]}"#,
        r#"{"first_name": "broken"#,
        r#"{"first_name": "Cy", "email": "not-an-email"}"#,
        "",
        r#"{"first_name": "Di", "nickname": "D"}"#,
        r#"{"first_name": "Ed", "email": "ed@example.com"}"#,
    ]
    .join("\n");
    let op = import(
        &app,
        &app.key,
        "",
        "application/x-ndjson",
        body.into_bytes(),
    )
    .await;
    let r = &op["result"];
    assert_eq!(
        (
            r["rows"].as_i64(),
            r["created"].as_i64(),
            r["updated"].as_i64(),
            r["failed"].as_i64()
        ),
        (Some(6), Some(2), Some(1), Some(3)),
        "{r}"
    );
    let errors = r["errors"].as_array().unwrap();
    let rows: Vec<i64> = errors.iter().map(|e| e["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [3, 4, 6]);
    assert_eq!(errors[1]["field"], "email");
    assert_eq!(errors[2]["field"], "nickname");

    let (_, ana) = app
        .get(&format!(
            "/api/v1/candidates/{}",
            existing["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ana["tags"], json!(["imported"]));
    let (_, bo) = app.get("/api/v1/candidates?email=bo%40example.com").await;
    assert_eq!(bo["items"][0]["profile"]["skills"][0]["name"], "k8s");
    let (_, found) = app.get("/api/v1/candidates?skills=kubernetes").await;
    assert_eq!(
        found["items"].as_array().unwrap().len(),
        1,
        "synonyms index too"
    );

    let reference_id = op["reference_id"].as_str().unwrap();
    let events = app.events(&app.tenant_id).await;
    let mut from_import: Vec<&str> = events
        .iter()
        .filter(|e| e.reference_id.as_deref() == Some(reference_id))
        .map(|e| e.event_type.as_str())
        .collect();
    // New records are written together, before the updates: the order within a chunk is not
    // the file's.
    from_import.sort();
    assert_eq!(
        from_import,
        [
            "candidate.created",
            "candidate.created",
            "candidate.updated"
        ]
    );

    // Without upsert, a known email fails as a duplicate naming the candidate.
    let op = import(
        &app,
        &app.key,
        "?upsert=false",
        "application/x-ndjson",
        br#"{"email": "ana@example.com", "first_name": "Again"}"#.to_vec(),
    )
    .await;
    let e = &op["result"]["errors"][0];
    assert_eq!(e["code"], "duplicate");
    assert_eq!(e["existing_id"], existing["id"]);
}

async fn a_csv_export_imports_back_into_another_tenant(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    for body in [
        json!({"first_name": "Zoë", "last_name": "Brontë", "email": "zoe@example.com", "phone": "+44 7700 900123", "tags": ["nurse", "nights"],
            "external_ids": [{"source": "bullhorn", "id": "77"}], "source": "referral",
            "profile": {"basics": {"label": "Ward manager", "summary": "Line one, with a comma\nand \"quotes\" on line two", "location": {"city": "York", "countryCode": "GB"},
                "profiles": [{"network": "LinkedIn", "url": "https://www.linkedin.com/in/zoe"}]},
                "skills": [{"name": "Triage"}, {"name": "Patient care"}], "total_experience_years": 11.5}}),
        json!({"first_name": "Bo", "email": "bo@example.com"}),
    ] {
        assert_eq!(app.post("/api/v1/candidates", body).await.0, 201);
    }
    let (ct, csv) = export(&app, &app.key, "", Some("text/csv")).await;
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(csv.starts_with("id,first_name,last_name,email"), "{csv}");
    let (ct, jsonl) = export(&app, &app.key, "?format=jsonl", Some("text/csv")).await;
    assert_eq!(ct, "application/x-ndjson");
    assert_eq!(jsonl.lines().count(), 2);

    let (_, b_key) = app.other_tenant("b", 0).await;
    let op = import(&app, &b_key, "", "text/csv", csv.into_bytes()).await;
    assert_eq!(op["result"]["created"], 2, "{op}");
    assert_eq!(op["result"]["failed"], 0, "{op}");
    let (_, page) = send(app.with_key(
        &b_key,
        Method::GET,
        "/api/v1/candidates?email=zoe%40example.com",
    ))
    .await;
    let zoe = &page["items"][0];
    assert_eq!(zoe["last_name"], "Brontë");
    assert_eq!(zoe["tags"], json!(["nurse", "nights"]));
    assert_eq!(
        zoe["external_ids"],
        json!([{"source": "bullhorn", "id": "77"}])
    );
    assert_eq!(
        zoe["profile"]["basics"]["summary"],
        "Line one, with a comma\nand \"quotes\" on line two"
    );
    assert_eq!(
        zoe["profile"]["basics"]["location"],
        json!({"city": "York", "countryCode": "GB"})
    );
    assert_eq!(
        zoe["profile"]["skills"],
        json!([{"name": "Triage"}, {"name": "Patient care"}])
    );
    assert_eq!(zoe["profile"]["total_experience_years"], 11.5);
    assert_eq!(
        zoe["profile"]["basics"]["profiles"][0]["url"],
        "https://www.linkedin.com/in/zoe"
    );

    // JSON Lines exports import back too.
    let (_, c_key) = app.other_tenant("c", 0).await;
    let op = import(&app, &c_key, "", "application/x-ndjson", jsonl.into_bytes()).await;
    assert_eq!(op["result"]["created"], 2, "{op}");
}

async fn a_large_import_crosses_chunks_and_numbers_rows(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let filler = "x".repeat(500);
    let mut lines: Vec<String> = (1..=5000)
        .map(|i| json!({"first_name": format!("Person {i}"), "email": format!("p{i}@example.com"), "profile": {"basics": {"summary": filler}}}).to_string())
        .collect();
    lines[3999] = "{not json".into();
    let body = lines.join("\n");
    assert!(
        body.len() > 2 * 1024 * 1024,
        "the body spans several chunks"
    );
    let op = import(&app, &app.key, "", "application/jsonl", body.into_bytes()).await;
    let r = &op["result"];
    assert_eq!(
        (r["created"].as_i64(), r["failed"].as_i64()),
        (Some(4999), Some(1)),
        "{r}"
    );
    assert_eq!(r["errors"][0]["row"], 4000);
    let (_, page) = app
        .get("/api/v1/candidates?include_total=true&limit=1")
        .await;
    assert_eq!(page["total"], 4999);
    let (_, jsonl) = export(&app, &app.key, "", None).await;
    assert_eq!(jsonl.lines().count(), 4999);
}

async fn bad_imports_and_exports_are_refused(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (s, e) = send(
        app.req(Method::POST, "/api/v1/imports")
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(s, 415);
    assert_envelope(&e, "unsupported_media_type");
    let (s, e) = send(
        app.req(Method::POST, "/api/v1/imports")
            .header("Content-Type", "text/csv")
            .body(""),
    )
    .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");
    let (s, e) = send(
        app.req(Method::POST, "/api/v1/imports")
            .header("Content-Type", "text/csv")
            .body("colour,size\nred,L\n"),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("first_name"), "{e}");
    let (s, e) = send(
        app.req(Method::POST, "/api/v1/imports?resource=jobs")
            .header("Content-Type", "text/csv")
            .body("title\nx\n"),
    )
    .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");
    let (s, e) = app.get("/api/v1/exports/jobs").await;
    assert_eq!(s, 404);
    assert_envelope(&e, "not_found");
    let (s, e) = app.get("/api/v1/exports/candidates?format=xml").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");
}

//! The Candidates API: identity, dedupe and upsert, filters, revisions, provenance, erasure,
//! and documents parsed in the background.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn, spawn_with};

crate::on_both_backends!(
    a_candidate_is_created_read_and_listed_with_filters,
    duplicates_answer_409_and_upsert_merges,
    concurrent_creates_with_one_email_make_one_candidate,
    patch_uses_revisions_and_records_provenance,
    erasure_leaves_no_personal_data,
    a_cv_is_stored_parsed_and_merged_without_overwriting_a_recruiter,
    a_candidate_can_be_created_from_a_cv_alone,
    bad_documents_fail_cleanly_and_leave_the_candidate_untouched,
    bad_candidates_are_refused_with_the_field_named,
    search_ranks_filters_and_highlights,
    search_reads_the_cv_text_and_needs_its_scope,
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../hirewire-cv/tests/fixtures/cvs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (s, c) = app.post("/api/v1/candidates", body).await;
    assert_eq!(s, 201, "{c}");
    c
}

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let (s, page) = app.get(&format!("/api/v1/candidates?{query}")).await;
    assert_eq!(s, 200, "{query}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits for an operation to finish and returns it.
async fn finished(app: &TestApp, operation_url: &str) -> Value {
    eventually(20, || async {
        let (s, op) = app.get(operation_url).await;
        assert_eq!(s, 200, "{op}");
        (op["status"] != "pending").then_some(op)
    })
    .await
    .expect("the operation finished")
}

async fn a_candidate_is_created_read_and_listed_with_filters(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let ana = create(
        &app,
        json!({"first_name": "Ana", "last_name": "Conceição", "email": "Ana.C@Example.com", "phone": "+44 7700 900123",
            "external_ids": [{"source": "Bullhorn", "id": "4711"}], "tags": ["Java", "relocate"], "source": "referral",
            "profile": {"basics": {"label": "Backend engineer", "location": {"city": "Lisbon", "countryCode": "PT"}},
                "skills": [{"name": "Rust"}, {"name": "Kubernetes"}],
                "work": [{"name": "Acme", "position": "Engineer", "startDate": "2020-01"}]}}),
    )
    .await;
    let id = ana["id"].as_str().unwrap();
    assert!(id.starts_with("cand_"));
    assert_eq!(ana["revision"], 1);
    assert_eq!(
        ana["external_ids"],
        json!([{"source": "bullhorn", "id": "4711"}])
    );
    assert_eq!(ana["provenance"]["email"], "api");
    assert_eq!(ana["provenance"]["profile.skills"], "api");
    let (s, got) = app.get(&format!("/api/v1/candidates/{id}")).await;
    assert_eq!((s, &got), (200, &ana));

    let bo = create(
        &app,
        json!({"first_name": "Bo", "last_name": "Anders", "email": "bo@example.com", "tags": ["java"],
            "profile": {"basics": {"location": {"city": "London", "countryCode": "GB"}}, "skills": [{"name": "Rust"}]}}),
    )
    .await;
    let bo_id = bo["id"].as_str().unwrap();
    let both = {
        let mut v = vec![id.to_string(), bo_id.to_string()];
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    assert_eq!(ids(&app, "email=ana.c%40example.COM").await, vec![id]);
    // The same number written nationally, internationally and with punctuation.
    assert_eq!(ids(&app, "phone=07700%20900123").await, vec![id]);
    assert_eq!(ids(&app, "phone=%2B447700900123").await, vec![id]);
    assert_eq!(ids(&app, "external_id=bullhorn:4711").await, vec![id]);
    assert!(ids(&app, "external_id=bullhorn:4712").await.is_empty());
    assert_eq!(ids(&app, "name=conc").await, vec![id]);
    assert_eq!(ids(&app, "name=ana%20c").await, vec![id]);
    assert_eq!(sorted(ids(&app, "name=an").await), both);
    assert_eq!(sorted(ids(&app, "skills=rust").await), both);
    assert_eq!(ids(&app, "skills=rust,kubernetes").await, vec![id]);
    assert_eq!(ids(&app, "location=london").await, vec![bo_id]);
    assert_eq!(ids(&app, "location=PT").await, vec![id]);
    assert_eq!(ids(&app, "source=Referral").await, vec![id]);
    assert_eq!(sorted(ids(&app, "tag=JAVA").await), both);
    assert_eq!(ids(&app, "tag=relocate").await, vec![id]);
    let since = bo["created_at"].as_str().unwrap().replace('+', "%2B");
    assert_eq!(
        ids(&app, &format!("updated_since={since}")).await,
        vec![bo_id]
    );
    assert_eq!(ids(&app, "sort=name").await, vec![id, bo_id]);
    assert_eq!(ids(&app, "sort=-name").await, vec![bo_id, id]);

    // Paging by name neither skips nor repeats.
    let (_, p1) = app
        .get("/api/v1/candidates?sort=name&limit=1&include_total=true")
        .await;
    assert_eq!(p1["total"], 2);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let (_, p2) = app
        .get(&format!(
            "/api/v1/candidates?sort=name&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(p2["items"][0]["id"], bo_id);
    assert!(p2["next_cursor"].is_null());

    let (s, e) = app.get("/api/v1/candidates?sort=email").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");
    let (s, e) = app.get("/api/v1/candidates?updated_since=yesterday").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");
    let (s, e) = app.get("/api/v1/candidates?external_id=4711").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");

    let events = app.events(&app.tenant_id).await;
    let created: Vec<&Value> = events
        .iter()
        .filter(|e| e.event_type == "candidate.created")
        .map(|e| &e.data)
        .collect();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["candidate"]["id"], id);
}

async fn duplicates_answer_409_and_upsert_merges(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let first = create(
        &app,
        json!({"first_name": "Ana", "email": "ana@example.com", "tags": ["java"], "external_ids": [{"source": "jobboard", "id": "1"}]}),
    )
    .await;
    let id = first["id"].as_str().unwrap();
    let (s, e) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Anna", "email": "ANA@example.com"}),
        )
        .await;
    assert_eq!(s, 409);
    assert_envelope(&e, "duplicate");
    assert_eq!(e["details"]["existing_id"], id);
    let (s, e) = app
        .post(
            "/api/v1/candidates",
            json!({"first_name": "Other", "external_ids": [{"source": "JobBoard", "id": "1"}]}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(e["details"]["existing_id"], id);

    let (s, merged) = app
        .post(
            "/api/v1/candidates?upsert=true",
            json!({"email": "ana@example.com", "phone": "+351 912 345 678", "tags": ["rust"], "external_ids": [{"source": "linkedin", "id": "ana-c"}]}),
        )
        .await;
    assert_eq!(s, 200, "{merged}");
    assert_eq!(merged["id"], id);
    assert_eq!(merged["revision"], 2);
    assert_eq!(merged["first_name"], "Ana");
    assert_eq!(merged["phone"], "+351 912 345 678");
    assert_eq!(merged["tags"], json!(["java", "rust"]));
    assert_eq!(merged["external_ids"].as_array().unwrap().len(), 2);
    let (_, page) = app.get("/api/v1/candidates?include_total=true").await;
    assert_eq!(page["total"], 1);

    // An upsert that matches nothing creates.
    let (s, created) = app
        .post(
            "/api/v1/candidates?upsert=true",
            json!({"email": "new@example.com"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");

    // A patch may not take another candidate's email.
    let (s, e) = send(
        app.req(
            Method::PATCH,
            &format!("/api/v1/candidates/{}", created["id"].as_str().unwrap()),
        )
        .json(&json!({"email": "ana@example.com"})),
    )
    .await;
    assert_eq!(s, 409, "{e}");
    assert_envelope(&e, "duplicate");
    assert_eq!(e["details"]["existing_id"], id);
}

async fn concurrent_creates_with_one_email_make_one_candidate(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let mut tasks = Vec::new();
    for i in 0..8 {
        let req = app
            .req(Method::POST, "/api/v1/candidates")
            .json(&json!({"first_name": format!("Twin {i}"), "email": "twin@example.com"}));
        tasks.push(tokio::spawn(send(req)));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().0);
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(ids(&app, "email=twin%40example.com").await.len(), 1);
}

async fn patch_uses_revisions_and_records_provenance(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let c = create(
        &app,
        json!({"first_name": "Ana", "profile": {"basics": {"label": "Dev", "summary": "Hi"}}}),
    )
    .await;
    let url = format!("/api/v1/candidates/{}", c["id"].as_str().unwrap());
    let res = app
        .req(Method::PATCH, &url)
        .header("If-Match", "\"1\"")
        .header("X-ATS-User-ID", "recruiter-7")
        .json(&json!({"profile": {"basics": {"label": "CTO", "summary": null}}, "tags": ["vip"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let next: Value = res.json().await.unwrap();
    assert_eq!(next["profile"]["basics"], json!({"label": "CTO"}));
    assert_eq!(next["provenance"]["profile.basics.label"], "recruiter");
    assert_eq!(next["provenance"]["tags"], "recruiter");
    assert_eq!(next["provenance"]["first_name"], "api");
    // A recruiter who clears a field keeps it cleared: parsing will not refill it.
    assert_eq!(next["provenance"]["profile.basics.summary"], "recruiter");

    let (s, e) = send(
        app.req(Method::PATCH, &url)
            .header("If-Match", "1")
            .json(&json!({"first_name": "Anna"})),
    )
    .await;
    assert_eq!(s, 409);
    assert_envelope(&e, "revision_conflict");
    let (s, e) = send(
        app.req(Method::PATCH, &url)
            .json(&json!({"profile": {"basics": {"nickname": "x"}}})),
    )
    .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");
    let (s, same) = send(app.req(Method::PATCH, &url).json(&json!({}))).await;
    assert_eq!((s, &same["revision"]), (200, &json!(2)));

    let events = app.events(&app.tenant_id).await;
    let updated = events
        .iter()
        .find(|e| e.event_type == "candidate.updated")
        .unwrap();
    assert_eq!(
        updated.data["changed_fields"],
        json!(["tags", "profile.basics.label", "profile.basics.summary"])
    );
}

async fn erasure_leaves_no_personal_data(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let c = create(
        &app,
        json!({"first_name": "Erika", "last_name": "Mustermann", "email": "erika@example.com", "phone": "+49 151 2345678"}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_string();
    let res = app
        .req(Method::POST, &format!("/api/v1/candidates/{id}/documents"))
        .header("Content-Type", "text/plain")
        .body("Erika Mustermann\nerika@example.com\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.unwrap();
    finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    let doc_id = accepted["document_id"].as_str().unwrap();

    let (s, gone) = send(app.req(Method::DELETE, &format!("/api/v1/candidates/{id}"))).await;
    assert_eq!(s, 200, "{gone}");
    assert_eq!(gone["id"], id.as_str());
    assert_eq!(gone["deleted"], true);
    for path in [
        format!("/api/v1/candidates/{id}"),
        format!("/api/v1/candidates/{id}/documents"),
        format!("/api/v1/documents/{doc_id}"),
        format!("/api/v1/documents/{doc_id}/content"),
    ] {
        let (s, e) = app.get(&path).await;
        assert_eq!(s, 404, "{path}");
        assert_envelope(&e, "not_found");
    }
    assert!(ids(&app, "email=erika%40example.com").await.is_empty());
    // A new candidate may now use the email.
    create(&app, json!({"email": "erika@example.com"})).await;

    let events = app.events(&app.tenant_id).await;
    let feed = serde_json::to_string(
        &events
            .iter()
            .filter(|e| e.data.to_string().contains(&id))
            .map(|e| &e.data)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(
        !feed.contains("Mustermann") && !feed.contains("2345678"),
        "{feed}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.event_type == "candidate.deleted" && e.data == json!({"candidate_id": id}))
    );
    let audit = eventually(5, || async {
        let (_, page) = app
            .get(&format!(
                "/api/v1/audit-events?entity={id}&action=candidate.deleted"
            ))
            .await;
        page["items"].as_array().filter(|i| !i.is_empty()).cloned()
    })
    .await
    .expect("an audit record of the erasure");
    assert!(
        !serde_json::to_string(&audit)
            .unwrap()
            .contains("Mustermann")
    );
}

async fn a_cv_is_stored_parsed_and_merged_without_overwriting_a_recruiter(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let res = app
        .req(Method::POST, "/api/v1/candidates")
        .header("X-ATS-User-ID", "recruiter-1")
        .json(&json!({"first_name": "José", "profile": {"basics": {"label": "Team lead (typed by a recruiter)"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let c: Value = res.json().await.unwrap();
    let id = c["id"].as_str().unwrap();
    let pdf = fixture("01-jose-martinez-lopez.pdf");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf.clone())
            .file_name("josé cv.pdf")
            .mime_str("application/octet-stream")
            .unwrap(),
    );
    let res = app
        .req(Method::POST, &format!("/api/v1/candidates/{id}/documents"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["status"], "pending");
    assert_eq!(accepted["candidate_id"], id);
    let reference_id = accepted["reference_id"].as_str().unwrap();
    let op = finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["kind"], "document.parse");
    assert_eq!(op["result"]["candidate_id"], id);

    let (_, parsed) = app.get(&format!("/api/v1/candidates/{id}")).await;
    assert_eq!(parsed["email"], "jose.martinez.lopez@example.com");
    assert_eq!(
        parsed["first_name"], "José",
        "the recruiter's first name stays"
    );
    assert_eq!(
        parsed["profile"]["basics"]["label"],
        "Team lead (typed by a recruiter)"
    );
    assert_eq!(parsed["provenance"]["profile.basics.label"], "recruiter");
    assert_eq!(parsed["provenance"]["email"], "parsed");
    assert_eq!(parsed["provenance"]["profile.work"], "parsed");
    assert!(!parsed["profile"]["work"].as_array().unwrap().is_empty());
    assert!(parsed["revision"].as_i64().unwrap() > 1);

    let doc_id = accepted["document_id"].as_str().unwrap();
    let (s, doc) = app.get(&format!("/api/v1/documents/{doc_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(doc["parse_status"], "parsed");
    assert_eq!(doc["format"], "pdf");
    assert_eq!(doc["content_type"], "application/pdf");
    assert_eq!(doc["filename"], "josé cv.pdf");
    assert_eq!(doc["size_bytes"], pdf.len());
    assert_eq!(doc["sha256"], hex::encode(Sha256::digest(&pdf)));
    let res = app
        .req(Method::GET, &format!("/api/v1/documents/{doc_id}/content"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf, "byte-identical");
    let (_, docs) = app.get(&format!("/api/v1/candidates/{id}/documents")).await;
    assert_eq!(docs["items"][0]["id"], doc_id);

    let events = app.events(&app.tenant_id).await;
    let parsed_event = events
        .iter()
        .find(|e| e.event_type == "candidate.parsed")
        .expect("candidate.parsed");
    assert_eq!(parsed_event.reference_id.as_deref(), Some(reference_id));
    assert_eq!(parsed_event.data["document_id"], doc_id);
    assert_eq!(parsed_event.data["candidate"]["id"], id);
}

async fn a_candidate_can_be_created_from_a_cv_alone(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let docx = fixture("02-zoe-bronte-walsh.docx");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(docx).file_name("zoe.docx"),
    );
    let res = app
        .req(Method::POST, "/api/v1/candidates")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.unwrap();
    let op = finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    let (_, c) = app
        .get(&format!(
            "/api/v1/candidates/{}",
            accepted["candidate_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(c["profile"]["basics"]["name"], "Zoë Brontë-Walsh", "{c}");
    assert_eq!(c["first_name"], "Zoë");
    assert_eq!(c["last_name"], "Brontë-Walsh");
    assert_eq!(c["provenance"]["first_name"], "parsed");

    // A raw upload of the same person's CV to a new candidate: the email is already taken,
    // so it is left out and the operation names the other candidate.
    let (s, other) = app
        .post("/api/v1/candidates", json!({"tags": ["second"]}))
        .await;
    assert_eq!(s, 201);
    let res = app
        .req(
            Method::POST,
            &format!(
                "/api/v1/candidates/{}/documents",
                other["id"].as_str().unwrap()
            ),
        )
        .header("Content-Type", "application/octet-stream")
        .header("Content-Disposition", "attachment; filename=\"zoe.docx\"")
        .body(fixture("02-zoe-bronte-walsh.docx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted2: Value = res.json().await.unwrap();
    let op = finished(&app, accepted2["operation_url"].as_str().unwrap()).await;
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["result"]["duplicate_of"], accepted["candidate_id"]);
}

async fn bad_documents_fail_cleanly_and_leave_the_candidate_untouched(b: Backend) {
    let Some(app) = spawn_with(b, |c| c.document_body_limit = 64 * 1024).await else {
        return;
    };
    let c = create(&app, json!({"first_name": "Kim"})).await;
    let url = format!("/api/v1/candidates/{}/documents", c["id"].as_str().unwrap());
    // A PNG declared as a PDF: the content decides.
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let (s, e) = send(
        app.req(Method::POST, &url)
            .header("Content-Type", "application/pdf")
            .body(png),
    )
    .await;
    assert_eq!(s, 415);
    assert_envelope(&e, "unsupported_media_type");
    let (s, e) = send(
        app.req(Method::POST, &url)
            .header("Content-Type", "text/plain")
            .body(vec![b'a'; 65 * 1024]),
    )
    .await;
    assert_eq!(s, 413);
    assert_envelope(&e, "payload_too_large");
    let form = reqwest::multipart::Form::new()
        .part("resume", reqwest::multipart::Part::bytes(b"hello".to_vec()));
    let (s, e) = send(app.req(Method::POST, &url).multipart(form)).await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_request");

    // A truncated PDF is accepted, then its operation fails with a readable reason.
    let mut pdf = fixture("03-lukasz-wojcik.pdf");
    pdf.truncate(pdf.len().min(900));
    let (s, accepted) = send(
        app.req(Method::POST, &url)
            .header("Content-Type", "application/pdf")
            .body(pdf),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    let op = finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    assert_eq!(op["status"], "failed", "{op}");
    assert!(op["error"]["code"].is_string());
    assert!(op["error"]["message"].as_str().unwrap().len() > 10);
    let (_, doc) = app
        .get(&format!(
            "/api/v1/documents/{}",
            accepted["document_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(doc["parse_status"], "failed");
    assert!(doc["parse_error"].is_string());
    // A password-protected PDF fails with its own code and a message that says what to do.
    let encrypted = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n5 0 obj << /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >> endobj\ntrailer << /Root 1 0 R /Encrypt 5 0 R >>\n%%EOF\n";
    let (s, accepted) = send(
        app.req(Method::POST, &url)
            .header("Content-Type", "application/pdf")
            .body(encrypted.to_vec()),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    let op = finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    assert_eq!(op["status"], "failed", "{op}");
    assert_eq!(op["error"]["code"], "encrypted", "{op}");
    assert!(
        op["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{op}"
    );
    let (_, after) = app
        .get(&format!("/api/v1/candidates/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(after, c, "the candidate is untouched");

    let (s, e) = send(
        app.req(Method::POST, "/api/v1/candidates/cand_0000/documents")
            .header("Content-Type", "text/plain")
            .body("x y z"),
    )
    .await;
    assert_eq!(s, 404);
    assert_envelope(&e, "not_found");
    let (s, _) = app.get("/api/v1/operations/not-a-uuid").await;
    assert_eq!(s, 404);
}

async fn bad_candidates_are_refused_with_the_field_named(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    for (body, field) in [
        (json!({}), "first_name"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"phone": "call me maybe"}), "phone"),
        (json!({"first_name": "A", "nickname": "x"}), "nickname"),
        (
            json!({"first_name": "A", "profile": {"work": "yes"}}),
            "profile.work",
        ),
    ] {
        let (s, e) = app.post("/api/v1/candidates", body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert_envelope(&e, "invalid_request");
        assert!(e.to_string().contains(field), "{body} → {e}");
    }
    let (s, e) = send(
        app.req(Method::POST, "/api/v1/candidates")
            .header("Content-Type", "text/csv")
            .body("a,b"),
    )
    .await;
    assert_eq!(s, 415);
    assert_envelope(&e, "unsupported_media_type");
}

/// Four candidates whose differences each query below turns on.
async fn seed_search(app: &TestApp) -> Vec<String> {
    let people = [
        json!({"first_name": "Ana", "last_name": "Alves", "email": "ana@example.com",
            "profile": {"basics": {"label": "Platform engineer", "location": {"city": "London", "countryCode": "GB"}},
                "skills": [{"name": "Rust"}, {"name": "Kubernetes"}], "total_experience_years": 6.5,
                "work": [{"name": "Acme", "position": "Platform engineer", "startDate": "2019-01", "highlights": ["Led the platform team through a move to Kubernetes"]}]}}),
        json!({"first_name": "Ben", "last_name": "Brown", "email": "ben@example.com",
            "profile": {"basics": {"label": "Rust developer", "location": {"city": "London", "countryCode": "GB"}},
                "skills": [{"name": "Go"}], "total_experience_years": 3.0}}),
        json!({"first_name": "Chloé", "last_name": "Côté", "email": "chloe@example.com",
            "profile": {"basics": {"label": "SRE", "summary": "Runs k8s clusters; the team behind the platform.", "location": {"city": "Manchester", "countryCode": "GB"}},
                "skills": [{"name": "Python"}], "total_experience_years": 9.0}}),
        json!({"first_name": "Dev", "last_name": "Dutta", "email": "dev@example.com",
            "profile": {"basics": {"label": "Accountant", "location": {"city": "Leeds", "countryCode": "GB"}},
                "skills": [{"name": "Microsoft Excel"}], "total_experience_years": 12.0}}),
    ];
    let mut ids = Vec::new();
    for p in people {
        ids.push(create(app, p).await["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn search(app: &TestApp, query: &str) -> Value {
    let (s, page) = app.get(&format!("/api/v1/candidates/search?{query}")).await;
    assert_eq!(s, 200, "{query}: {page}");
    page
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["candidate"]["first_name"].as_str().unwrap().to_string())
        .collect()
}

async fn search_ranks_filters_and_highlights(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    seed_search(&app).await;
    // Every term is required; `5+ years` is a filter, not words.
    let page = search(&app, "q=rust%20k8s%20london%205%2B%20years").await;
    assert_eq!(names(&page), ["Ana"]);
    // A skill match outranks a job-title match; score is out of 1.
    let page = search(&app, "q=rust").await;
    assert_eq!(names(&page), ["Ana", "Ben"]);
    assert_eq!(page["items"][0]["score"], 1.0);
    assert!(page["items"][1]["score"].as_f64().unwrap() < 1.0);
    let hl = &page["items"][0]["highlights"][0];
    assert_eq!(hl["field"], "skills");
    assert!(
        hl["snippet"].as_str().unwrap().contains("<em>Rust</em>"),
        "{hl}"
    );
    // Synonyms both ways: `kubernetes` finds `k8s` in a summary, `k8s` finds the skill.
    assert_eq!(names(&search(&app, "q=kubernetes").await), ["Ana", "Chloé"]);
    assert_eq!(names(&search(&app, "q=K8S").await), ["Ana", "Chloé"]);
    // Quoted phrases keep their words together and in order.
    assert_eq!(
        names(&search(&app, "q=%22platform%20team%22").await),
        ["Ana"]
    );
    assert_eq!(names(&search(&app, "q=platform%20team").await).len(), 2);
    // Accents do not matter.
    assert_eq!(names(&search(&app, "q=chloe%20cote").await), ["Chloé"]);
    // Filters alone, and with words.
    assert_eq!(
        names(&search(&app, "location=london&skills=k8s").await),
        ["Ana"]
    );
    assert_eq!(names(&search(&app, "min_years=9").await).len(), 2);
    assert_eq!(
        names(&search(&app, "q=excel&location=leeds").await),
        ["Dev"]
    );
    assert!(names(&search(&app, "q=excel&location=london").await).is_empty());
    // Paging neither skips nor repeats.
    let first = search(&app, "q=platform&limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = search(&app, &format!("q=platform&limit=1&cursor={cursor}")).await;
    assert_eq!(
        [names(&first), names(&second)].concat(),
        names(&search(&app, "q=platform").await)
    );
    assert!(second["next_cursor"].is_null());
    let (s, e) = app.get("/api/v1/candidates/search?min_years=lots").await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");
    let (s, e) = app
        .get("/api/v1/candidates/search?q=rust&cursor=forged")
        .await;
    assert_eq!(s, 400);
    assert_envelope(&e, "invalid_query");

    let (s, skills) = app.get("/api/v1/skills?q=k8s").await;
    assert_eq!(s, 200);
    assert_eq!(skills["items"][0]["name"], "Kubernetes");
    let (_, skills) = app.get("/api/v1/skills?q=postgres").await;
    assert_eq!(skills["items"][0]["name"], "PostgreSQL");
    let (_, skills) = app.get("/api/v1/skills?q=kube&limit=3").await;
    assert!(skills["items"].as_array().unwrap().len() <= 3);
    assert_eq!(skills["items"][0]["name"], "Kubernetes");
    let (s, _) = app.get("/api/v1/skills?q=").await;
    assert_eq!(s, 400);
}

async fn search_reads_the_cv_text_and_needs_its_scope(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let c = create(&app, json!({"first_name": "Zed"})).await;
    let res = app
        .req(Method::POST, &format!("/api/v1/candidates/{}/documents", c["id"].as_str().unwrap()))
        .header("Content-Type", "text/plain")
        .body("Zed Zimmer\nzed@example.com\n\nEXPERIENCE\nHarbour pilot, Port of Zanzibar, 2015 - 2020\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let accepted: Value = res.json().await.unwrap();
    finished(&app, accepted["operation_url"].as_str().unwrap()).await;
    let page = search(&app, "q=zanzibar").await;
    assert_eq!(names(&page), ["Zed"]);
    let hl = &page["items"][0]["highlights"][0];
    assert_eq!(hl["field"], "document", "{hl}");
    assert!(
        hl["snippet"]
            .as_str()
            .unwrap()
            .contains("<em>Zanzibar</em>"),
        "{hl}"
    );

    let reader = app
        .key_for(
            &app.tenant_id,
            vec![hirewire_core::scope::Scope::CandidatesRead],
        )
        .await;
    let (s, e) =
        send(app.with_key(&reader, Method::GET, "/api/v1/candidates/search?q=zanzibar")).await;
    assert_eq!(s, 403);
    assert_envelope(&e, "insufficient_scope");
}

/// The same data and the same queries give the same candidates in the same order on SQLite
/// and PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results_are_the_same_on_both_backends() {
    let Some(sqlite) = spawn(Backend::Sqlite).await else {
        return;
    };
    let Some(postgres) = spawn(Backend::Postgres).await else {
        return;
    };
    seed_search(&sqlite).await;
    seed_search(&postgres).await;
    for q in [
        "q=rust",
        "q=platform",
        "q=kubernetes",
        "q=%22platform%20team%22",
        "q=london",
        "q=gb",
        "location=london",
        "min_years=5",
        "q=engineer%20london",
    ] {
        let a = search(&sqlite, q).await;
        let b = search(&postgres, q).await;
        let view = |p: &Value| -> Vec<(String, Value, Value)> {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h["candidate"]["email"].as_str().unwrap().to_string(),
                        h["score"].clone(),
                        h["highlights"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(view(&a), view(&b), "{q}");
    }
}

//! API keys: authentication, scopes, the plaintext shown once, revocation, rotation,
//! approval, `last_used_at` and IP allowlists.

use hirewire_core::model::key::hash_secret;
use hirewire_core::scope::Scope;
use hirewire_core::service::tenants;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_envelope, eventually, send, spawn, spawn_with};

crate::on_both_backends!(
    every_kind_of_bad_credential_is_401_without_a_body,
    bearer_and_x_api_key_both_authenticate,
    a_missing_scope_is_403_naming_it,
    a_created_key_shows_its_plaintext_once_and_stores_a_hash,
    an_idempotent_retry_of_create_does_not_show_the_plaintext_again,
    a_key_cannot_hand_out_scopes_it_lacks,
    a_key_manager_cannot_take_over_a_stronger_key_by_rotating_it,
    revoking_stops_a_key_at_once,
    rotation_keeps_the_old_secret_for_the_grace_period,
    rotation_without_grace_retires_the_old_secret_at_once,
    cv_search_keys_wait_for_an_admin_in_tenants_that_require_approval,
    last_used_at_is_recorded,
    the_ip_allowlist_is_enforced,
    forwarded_for_is_believed_only_from_trusted_proxies,
);

/// Sends a request and asserts 401 with an empty body.
async fn assert_unauthorized(req: RequestBuilder, what: &str) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let body = res.bytes().await.expect("body");
    assert_eq!(
        status,
        401,
        "{what}: expected 401, got {status} {}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        body.is_empty(),
        "{what}: a 401 has no body, got {:?}",
        String::from_utf8_lossy(&body)
    );
}

/// Creates a key through the API with `with`; returns (id, plaintext, body).
async fn create_key(app: &TestApp, with: &str, body: Value) -> (String, String, Value) {
    let (s, created) = send(app.with_key(with, Method::POST, "/api/v1/keys").json(&body)).await;
    assert_eq!(s, 201, "{created}");
    (
        created["id"].as_str().unwrap().to_string(),
        created["key"].as_str().unwrap().to_string(),
        created,
    )
}

/// The status of a call that any valid key may make.
async fn probe(app: &TestApp, key: &str) -> u16 {
    send(app.with_key(key, Method::GET, "/api/v1/tenant"))
        .await
        .0
}

async fn every_kind_of_bad_credential_is_401_without_a_body(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let url = app.url("/api/v1/jobs");
    let c = &app.client;
    assert_unauthorized(c.get(&url), "no credential").await;
    assert_unauthorized(
        c.get(&url).header("Authorization", "Bearer nonsense"),
        "Bearer nonsense",
    )
    .await;
    assert_unauthorized(
        c.get(&url).header("Authorization", "Basic xyz"),
        "Basic xyz",
    )
    .await;
    assert_unauthorized(
        c.get(&url)
            .header("Authorization", format!("Basic {}", app.key)),
        "a valid key under another scheme",
    )
    .await;
    assert_unauthorized(
        c.get(&url).header("Authorization", "Bearer"),
        "Bearer without a token",
    )
    .await;
    assert_unauthorized(
        c.get(&url).header("Authorization", "Bearer "),
        "Bearer with an empty token",
    )
    .await;
    assert_unauthorized(
        c.get(&url).header("X-Api-Key", "nonsense"),
        "X-Api-Key nonsense",
    )
    .await;
    assert_unauthorized(c.get(&url).header("X-Api-Key", ""), "empty X-Api-Key").await;
    let unknown = format!("hw_live_{}", "A".repeat(40));
    assert_unauthorized(
        c.get(&url).bearer_auth(&unknown),
        "an unknown, well-formed key",
    )
    .await;
    assert_unauthorized(
        c.get(&url).header("X-Api-Key", &unknown),
        "an unknown key in X-Api-Key",
    )
    .await;
    // A near miss of a real key is unknown, not a prefix match.
    let truncated = &app.key[..app.key.len() - 1];
    assert_unauthorized(c.get(&url).bearer_auth(truncated), "a truncated real key").await;
    assert_unauthorized(
        c.post(&url).json(&json!({"title": "x"})),
        "a write without a key",
    )
    .await;

    // Revoked (after having been used, so that it sits in the auth cache).
    let (id, revoked, _) = create_key(
        &app,
        &app.key,
        json!({"name": "soon revoked", "scopes": ["jobs:read"]}),
    )
    .await;
    assert_eq!(
        send(app.with_key(&revoked, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    assert_eq!(
        send(app.req(Method::POST, &format!("/api/v1/keys/{id}/revoke")))
            .await
            .0,
        200
    );
    assert_unauthorized(
        app.with_key(&revoked, Method::GET, "/api/v1/jobs"),
        "a revoked key",
    )
    .await;

    // Expired: creating a key that expired already is allowed.
    let (_, expired, body) = create_key(
        &app,
        &app.key,
        json!({"name": "old", "scopes": ["jobs:read"], "expires_at": "2001-02-03T04:05:06Z"}),
    )
    .await;
    assert_eq!(body["status"], "expired", "{body}");
    assert_eq!(body["expires_at"], "2001-02-03T04:05:06Z");
    assert_unauthorized(
        app.with_key(&expired, Method::GET, "/api/v1/jobs"),
        "an expired key",
    )
    .await;
    assert_unauthorized(
        app.client.get(&url).header("X-Api-Key", &expired),
        "an expired key in X-Api-Key",
    )
    .await;
    // A key that expires in the future works.
    let (_, later, body) = create_key(
        &app,
        &app.key,
        json!({"name": "later", "scopes": ["jobs:read"], "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(body["status"], "active");
    assert_eq!(
        send(app.with_key(&later, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );

    // Pending approval.
    let t = tenants::create(app.store.as_ref(), "strict", 5, true)
        .await
        .unwrap();
    let admin = app.key_for(&t.id, vec![Scope::Admin]).await;
    let (_, pending, body) = create_key(
        &app,
        &admin,
        json!({"name": "searcher", "scopes": ["cv_search"]}),
    )
    .await;
    assert_eq!(body["status"], "pending");
    assert_unauthorized(
        app.with_key(&pending, Method::GET, "/api/v1/tenant"),
        "a pending key",
    )
    .await;

    // None of that touched the real key.
    assert_eq!(send(app.req(Method::GET, "/api/v1/jobs")).await.0, 200);
}

async fn bearer_and_x_api_key_both_authenticate(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let url = app.url("/api/v1/jobs");
    let (s, body) = send(
        app.client
            .get(&url)
            .header("Authorization", format!("Bearer {}", app.key)),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["items"].is_array());
    let (s, _) = send(app.client.get(&url).header("X-Api-Key", &app.key)).await;
    assert_eq!(s, 200);
    // The scheme is case-insensitive.
    let (s, _) = send(
        app.client
            .get(&url)
            .header("Authorization", format!("bearer {}", app.key)),
    )
    .await;
    assert_eq!(s, 200);
    let (s, job) = send(
        app.client
            .post(&url)
            .header("X-Api-Key", &app.key)
            .json(&json!({"title": "Via header"})),
    )
    .await;
    assert_eq!(s, 201, "{job}");
}

async fn a_missing_scope_is_403_naming_it(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let reader = app.key_for(&app.tenant_id, vec![Scope::JobsRead]).await;
    let (s, _) = send(app.with_key(&reader, Method::GET, "/api/v1/jobs")).await;
    assert_eq!(s, 200);
    let (s, body) = send(
        app.with_key(&reader, Method::POST, "/api/v1/jobs")
            .json(&json!({"title": "Not allowed"})),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "insufficient_scope");
    assert_eq!(body["details"]["required_scope"], "jobs:write", "{body}");
    let (_, list) = app.get("/api/v1/jobs").await;
    assert_eq!(list["items"], json!([]), "a refused write creates nothing");
    // Key management needs its own scope, too.
    let (s, body) = send(app.with_key(&reader, Method::GET, "/api/v1/keys")).await;
    assert_eq!(s, 403);
    assert_envelope(&body, "insufficient_scope");
    assert_eq!(body["details"]["required_scope"], "keys:manage");
}

async fn a_created_key_shows_its_plaintext_once_and_stores_a_hash(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let res = app
        .req(Method::POST, "/api/v1/keys")
        .json(&json!({"name": "integration", "scopes": ["jobs:write", "jobs:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let plaintext = created["key"].as_str().unwrap().to_string();
    assert!(id.starts_with("key_"), "{id}");
    assert!(
        plaintext.starts_with("hw_live_") && plaintext.len() > "hw_live_".len() + 16,
        "{plaintext}"
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["name"], "integration");
    assert_eq!(created["scopes"], json!(["jobs:read", "jobs:write"]));
    assert!(created["last_used_at"].is_null());
    assert!(
        plaintext.starts_with(created["prefix"].as_str().unwrap()),
        "the prefix is the start of the key: {created}"
    );
    assert!(created["prefix"].as_str().unwrap().len() < plaintext.len() / 2);

    // The new key works with exactly its scopes.
    assert_eq!(
        send(
            app.with_key(&plaintext, Method::POST, "/api/v1/jobs")
                .json(&json!({"title": "By the new key"}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(app.with_key(&plaintext, Method::GET, "/api/v1/keys"))
            .await
            .0,
        403
    );

    // Never again in the API.
    let res = app
        .req(Method::GET, &format!("/api/v1/keys/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(&plaintext),
        "GET shows the plaintext: {text}"
    );
    let got: Value = serde_json::from_str(&text).unwrap();
    assert!(got.get("key").is_none(), "{got}");
    assert!(got.get("hash").is_none(), "{got}");
    assert_eq!(got["id"], id);
    let res = app
        .req(Method::GET, "/api/v1/keys?limit=200")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(&plaintext),
        "the list shows the plaintext: {text}"
    );
    assert!(
        !text.contains(&app.key),
        "the list shows the admin's plaintext: {text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert!(
        items
            .iter()
            .all(|k| k.get("key").is_none() && k.get("hash").is_none()),
        "{list}"
    );
    assert!(items.iter().any(|k| k["id"] == id));

    // Only a hash is stored.
    let stored = app.store.key(None, &id).await.unwrap().expect("stored");
    assert_ne!(stored.hash, plaintext);
    assert!(
        !stored.hash.contains(&plaintext[8..]),
        "the hash contains the secret"
    );
    assert_eq!(stored.hash, hash_secret(&plaintext));
    assert_eq!(stored.previous_hash, None);
}

async fn an_idempotent_retry_of_create_does_not_show_the_plaintext_again(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let body = json!({"name": "retried", "scopes": ["jobs:read"]});
    let first = app
        .req(Method::POST, "/api/v1/keys")
        .header("Idempotency-Key", "create-key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let plaintext = first["key"].as_str().unwrap().to_string();
    let second = app
        .req(Method::POST, "/api/v1/keys")
        .header("Idempotency-Key", "create-key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = second.status().as_u16();
    let text = second.text().await.unwrap();
    // "Only a hash is stored; the plaintext is shown once" (DESIGN §3): whatever a retry
    // answers, it cannot be the plaintext again, which would mean it was stored.
    assert!(
        !text.contains(&plaintext),
        "a retry with the same Idempotency-Key showed the plaintext again ({status}): {text}"
    );
}

async fn a_key_cannot_hand_out_scopes_it_lacks(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let manager = app
        .key_for(&app.tenant_id, vec![Scope::KeysManage, Scope::JobsRead])
        .await;
    let (_, _, body) = create_key(
        &app,
        &manager,
        json!({"name": "reader", "scopes": ["jobs:read"]}),
    )
    .await;
    assert_eq!(body["scopes"], json!(["jobs:read"]));
    let (_, _, body) = create_key(
        &app,
        &manager,
        json!({"name": "manager", "scopes": ["keys:manage"]}),
    )
    .await;
    assert_eq!(body["scopes"], json!(["keys:manage"]));
    let (_, before) = app.get("/api/v1/keys?include_total=true").await;
    for (scopes, missing) in [
        (json!(["jobs:write"]), "jobs:write"),
        (json!(["jobs:read", "jobs:write"]), "jobs:write"),
        (json!(["admin"]), "admin"),
        (json!(["audit:read"]), "audit:read"),
    ] {
        let (s, body) = send(
            app.with_key(&manager, Method::POST, "/api/v1/keys")
                .json(&json!({"name": "escalate", "scopes": scopes})),
        )
        .await;
        assert_eq!(s, 403, "{scopes}: {body}");
        assert_envelope(&body, "insufficient_scope");
        assert_eq!(body["details"]["required_scope"], missing, "{body}");
        assert!(body.get("key").is_none());
    }
    let (_, after) = app.get("/api/v1/keys?include_total=true").await;
    assert_eq!(
        after["total"], before["total"],
        "a refused create makes no key"
    );
    // The admin may hand out anything.
    let (_, _, body) = create_key(
        &app,
        &app.key,
        json!({"name": "writer", "scopes": ["jobs:write"]}),
    )
    .await;
    assert_eq!(body["scopes"], json!(["jobs:write"]));
}

async fn a_key_manager_cannot_take_over_a_stronger_key_by_rotating_it(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let manager = app.key_for(&app.tenant_id, vec![Scope::KeysManage]).await;
    let (admin_id, _, _) = create_key(
        &app,
        &app.key,
        json!({"name": "second admin", "scopes": ["admin"]}),
    )
    .await;
    // Rotating hands out a working secret of the rotated key: a key that may not create an
    // admin key may not obtain one's secret this way either.
    let (s, body) = send(
        app.with_key(
            &manager,
            Method::POST,
            &format!("/api/v1/keys/{admin_id}/rotate"),
        )
        .json(&json!({"grace_period_seconds": 0})),
    )
    .await;
    if let Some(secret) = body["key"].as_str() {
        let (s2, _) = send(
            app.with_key(secret, Method::POST, "/api/v1/jobs")
                .json(&json!({"title": "escalated"})),
        )
        .await;
        panic!(
            "a keys:manage key rotated an admin key ({s}) and its new secret has admin rights (POST /jobs → {s2})"
        );
    }
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "insufficient_scope");
}

async fn revoking_stops_a_key_at_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (one, one_key, _) = create_key(
        &app,
        &app.key,
        json!({"name": "one", "scopes": ["jobs:read"]}),
    )
    .await;
    let (two, two_key, _) = create_key(
        &app,
        &app.key,
        json!({"name": "two", "scopes": ["jobs:read"]}),
    )
    .await;
    // Used first, so that the auth cache knows them.
    for k in [&one_key, &two_key] {
        assert_eq!(
            send(app.with_key(k, Method::GET, "/api/v1/jobs")).await.0,
            200
        );
    }

    let (s, mut revoked) = send(app.req(Method::POST, &format!("/api/v1/keys/{one}/revoke"))).await;
    assert_eq!(s, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(revoked["revision"], 2);
    assert!(revoked.get("key").is_none());
    assert_unauthorized(
        app.with_key(&one_key, Method::GET, "/api/v1/jobs"),
        "revoked by POST /revoke",
    )
    .await;
    assert_eq!(
        send(app.with_key(&two_key, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200,
        "only the revoked key stops"
    );
    // Revoking again answers the key as it is. `last_used_at` is written in
    // the background (key_use_flush_interval_ms), so it may have landed
    // between the two answers.
    let (s, mut again) = send(
        app.req(Method::POST, &format!("/api/v1/keys/{one}/revoke"))
            .json(&json!({})),
    )
    .await;
    for k in [&mut again, &mut revoked] {
        if let Some(o) = k.as_object_mut() {
            o.remove("last_used_at");
        }
    }
    assert_eq!((s, &again), (200, &revoked));

    let (s, deleted) = send(app.req(Method::DELETE, &format!("/api/v1/keys/{two}"))).await;
    assert_eq!(s, 200, "{deleted}");
    assert_eq!(deleted["status"], "revoked");
    assert_unauthorized(
        app.with_key(&two_key, Method::GET, "/api/v1/jobs"),
        "revoked by DELETE",
    )
    .await;
    let (_, got) = app.get(&format!("/api/v1/keys/{two}")).await;
    assert_eq!(got["status"], "revoked");

    // A revoked key cannot be brought back by rotating it.
    let (s, body) = send(app.req(Method::POST, &format!("/api/v1/keys/{one}/rotate"))).await;
    assert_eq!(s, 400, "{body}");
    assert_envelope(&body, "invalid_state");
    assert_unauthorized(
        app.with_key(&one_key, Method::GET, "/api/v1/jobs"),
        "still revoked",
    )
    .await;
}

async fn rotation_keeps_the_old_secret_for_the_grace_period(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (id, old, _) = create_key(
        &app,
        &app.key,
        json!({"name": "rotating", "scopes": ["jobs:read"]}),
    )
    .await;
    assert_eq!(
        send(app.with_key(&old, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    let before = chrono::Utc::now();
    let (s, rotated) = send(
        app.req(Method::POST, &format!("/api/v1/keys/{id}/rotate"))
            .json(&json!({"grace_period_seconds": 3600})),
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_string();
    assert!(new.starts_with("hw_live_"));
    assert_ne!(new, old);
    assert_eq!(rotated["id"], id, "rotation keeps the key's id");
    assert_eq!(rotated["scopes"], json!(["jobs:read"]));
    assert_eq!(rotated["status"], "active");
    assert!(new.starts_with(rotated["prefix"].as_str().unwrap()));
    let grace_end = chrono::DateTime::parse_from_rfc3339(
        rotated["previous_secret_expires_at"].as_str().unwrap(),
    )
    .unwrap();
    let grace = grace_end.signed_duration_since(before).num_seconds();
    assert!((3590..=3610).contains(&grace), "grace of {grace} s");
    assert_eq!(
        send(app.with_key(&old, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200,
        "the old secret works during the grace period"
    );
    assert_eq!(
        send(app.with_key(&new, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200,
        "the new secret works"
    );
    assert_eq!(
        send(
            app.client
                .get(app.url("/api/v1/jobs"))
                .header("X-Api-Key", &old)
        )
        .await
        .0,
        200
    );
    // Only hashes are kept, of both.
    let stored = app.store.key(None, &id).await.unwrap().unwrap();
    assert_eq!(stored.hash, hash_secret(&new));
    assert_eq!(
        stored.previous_hash.as_deref(),
        Some(hash_secret(&old).as_str())
    );
    let (_, got) = app.get(&format!("/api/v1/keys/{id}")).await;
    assert!(got.get("key").is_none() && !got.to_string().contains(&new));

    // A bad grace period changes nothing.
    for grace in [json!(-1), json!(604_801), json!("soon")] {
        let (s, body) = send(
            app.req(Method::POST, &format!("/api/v1/keys/{id}/rotate"))
                .json(&json!({ "grace_period_seconds": grace })),
        )
        .await;
        assert_eq!(s, 400, "{grace}: {body}");
        assert_envelope(&body, "invalid_request");
    }
    assert_eq!(
        send(app.with_key(&new, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
}

async fn rotation_without_grace_retires_the_old_secret_at_once(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (id, old, _) = create_key(
        &app,
        &app.key,
        json!({"name": "rotating", "scopes": ["jobs:read"]}),
    )
    .await;
    assert_eq!(
        send(app.with_key(&old, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    let (s, rotated) = send(
        app.req(Method::POST, &format!("/api/v1/keys/{id}/rotate"))
            .json(&json!({"grace_period_seconds": 0})),
    )
    .await;
    assert_eq!(s, 200, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_string();
    assert_unauthorized(
        app.with_key(&old, Method::GET, "/api/v1/jobs"),
        "the old secret after a rotation without grace",
    )
    .await;
    assert_eq!(
        send(app.with_key(&new, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );

    // Rotating twice: the first secret is gone even though the second has a grace period.
    let (_, again) = send(
        app.req(Method::POST, &format!("/api/v1/keys/{id}/rotate"))
            .json(&json!({"grace_period_seconds": 3600})),
    )
    .await;
    let newest = again["key"].as_str().unwrap().to_string();
    assert_eq!(
        send(app.with_key(&newest, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    assert_eq!(
        send(app.with_key(&new, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    assert_unauthorized(
        app.with_key(&old, Method::GET, "/api/v1/jobs"),
        "a secret two rotations old",
    )
    .await;
}

async fn cv_search_keys_wait_for_an_admin_in_tenants_that_require_approval(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let t = tenants::create(app.store.as_ref(), "strict", 5, true)
        .await
        .unwrap();
    let admin = app.key_for(&t.id, vec![Scope::Admin]).await;
    let manager = app
        .key_for(&t.id, vec![Scope::KeysManage, Scope::JobsRead])
        .await;

    // Without cv_search a key is active at once, even in this tenant.
    let (_, plain, body) = create_key(
        &app,
        &admin,
        json!({"name": "jobs", "scopes": ["jobs:read"]}),
    )
    .await;
    assert_eq!(body["status"], "active");
    assert_eq!(probe(&app, &plain).await, 200);

    let (id, pending, body) = create_key(
        &app,
        &admin,
        json!({"name": "searcher", "scopes": ["cv_search", "jobs:read"]}),
    )
    .await;
    assert_eq!(body["status"], "pending", "{body}");
    assert_unauthorized(
        app.with_key(&pending, Method::GET, "/api/v1/tenant"),
        "a pending key",
    )
    .await;
    assert_unauthorized(
        app.with_key(&pending, Method::GET, "/api/v1/jobs"),
        "a pending key",
    )
    .await;
    // However it is made.
    let by_cli = app.key_for(&t.id, vec![Scope::CvSearch]).await;
    assert_unauthorized(
        app.with_key(&by_cli, Method::GET, "/api/v1/tenant"),
        "a pending key made outside the API",
    )
    .await;

    // Only an admin of that tenant approves.
    let path = format!("/api/v1/keys/{id}/approve");
    let (s, body) = send(app.with_key(&manager, Method::POST, &path)).await;
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "insufficient_scope");
    assert_eq!(body["details"]["required_scope"], "admin");
    let (s, body) = send(app.req(Method::POST, &path)).await;
    assert_eq!(s, 404, "another tenant's admin: {body}");
    assert_envelope(&body, "not_found");
    assert_unauthorized(
        app.with_key(&pending, Method::GET, "/api/v1/tenant"),
        "still pending",
    )
    .await;
    let (_, got) = send(app.with_key(&admin, Method::GET, &format!("/api/v1/keys/{id}"))).await;
    assert_eq!(got["status"], "pending");

    let (s, approved) = send(app.with_key(&admin, Method::POST, &path)).await;
    assert_eq!(s, 200, "{approved}");
    assert_eq!(approved["status"], "active");
    assert_eq!(approved["revision"], 2);
    assert!(approved.get("key").is_none());
    assert_eq!(
        probe(&app, &pending).await,
        200,
        "an approved key works at once"
    );
    assert_eq!(
        send(app.with_key(&pending, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );

    // Approving an active key is a state error, and changes nothing.
    let (s, body) = send(app.with_key(&admin, Method::POST, &path).json(&json!({}))).await;
    assert_eq!(s, 400, "{body}");
    assert_envelope(&body, "invalid_state");
    let (_, got) = send(app.with_key(&admin, Method::GET, &format!("/api/v1/keys/{id}"))).await;
    assert_eq!(got["revision"], 2);
    let (other, _, _) = create_key(
        &app,
        &app.key,
        json!({"name": "active", "scopes": ["jobs:read"]}),
    )
    .await;
    let (s, body) = send(app.req(Method::POST, &format!("/api/v1/keys/{other}/approve"))).await;
    assert_eq!(s, 400);
    assert_envelope(&body, "invalid_state");
}

async fn last_used_at_is_recorded(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (id, key, created) = create_key(
        &app,
        &app.key,
        json!({"name": "used", "scopes": ["jobs:read"]}),
    )
    .await;
    let (unused, _, _) = create_key(
        &app,
        &app.key,
        json!({"name": "unused", "scopes": ["jobs:read"]}),
    )
    .await;
    assert!(created["last_used_at"].is_null());
    // Nothing is recorded before the key is used.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, got) = app.get(&format!("/api/v1/keys/{id}")).await;
    assert!(got["last_used_at"].is_null(), "{got}");

    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    assert_eq!(
        send(app.with_key(&key, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    let used = eventually(10, || async {
        let (_, got) = app.get(&format!("/api/v1/keys/{id}")).await;
        got["last_used_at"].as_str().map(str::to_string)
    })
    .await
    .expect("last_used_at was never recorded");
    let at = chrono::DateTime::parse_from_rfc3339(&used).unwrap();
    assert!(
        at >= before && at <= chrono::Utc::now() + chrono::Duration::seconds(1),
        "{used}"
    );
    let (_, other) = app.get(&format!("/api/v1/keys/{unused}")).await;
    assert!(
        other["last_used_at"].is_null(),
        "only the used key is touched: {other}"
    );
    // Recording use is not a change: the revision stays.
    let (_, got) = app.get(&format!("/api/v1/keys/{id}")).await;
    assert_eq!(got["revision"], 1);
}

async fn the_ip_allowlist_is_enforced(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (_, elsewhere, body) = create_key(
        &app,
        &app.key,
        json!({"name": "office", "scopes": ["jobs:read"], "allowed_ips": ["10.9.0.0/16"]}),
    )
    .await;
    assert_eq!(body["allowed_ips"], json!(["10.9.0.0/16"]));
    let (s, body) = send(app.with_key(&elsewhere, Method::GET, "/api/v1/jobs")).await;
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "ip_not_allowed");
    let (s, body) = send(
        app.client
            .get(app.url("/api/v1/jobs"))
            .header("X-Api-Key", &elsewhere),
    )
    .await;
    assert_eq!(s, 403);
    assert_envelope(&body, "ip_not_allowed");

    let (_, local, _) = create_key(&app, &app.key, json!({"name": "here", "scopes": ["jobs:read"], "allowed_ips": ["10.9.0.0/16", "127.0.0.1/32"]})).await;
    assert_eq!(
        send(app.with_key(&local, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    let (_, only_local, _) = create_key(
        &app,
        &app.key,
        json!({"name": "only here", "scopes": ["jobs:read"], "allowed_ips": ["127.0.0.1/32"]}),
    )
    .await;
    assert_eq!(
        send(app.with_key(&only_local, Method::GET, "/api/v1/jobs"))
            .await
            .0,
        200
    );
    // Without a trusted proxy, X-Forwarded-For cannot move a caller into or out of the list.
    let (s, _) = send(
        app.with_key(&elsewhere, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "10.9.1.1"),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = send(
        app.with_key(&only_local, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "10.9.1.1"),
    )
    .await;
    assert_eq!(s, 200);

    let (s, body) = send(
        app.req(Method::POST, "/api/v1/keys")
            .json(&json!({"name": "bad", "scopes": ["jobs:read"], "allowed_ips": ["not-an-ip"]})),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert_envelope(&body, "invalid_request");
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(b: Backend) {
    let Some(app) = spawn_with(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await
    else {
        return;
    };
    let (_, key, _) = create_key(
        &app,
        &app.key,
        json!({"name": "behind proxy", "scopes": ["jobs:read"], "allowed_ips": ["203.0.113.0/24"]}),
    )
    .await;
    let (s, body) = send(
        app.with_key(&key, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "203.0.113.7"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // A chain: the right-most untrusted address is the client's.
    let (s, _) = send(
        app.with_key(&key, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 127.0.0.1"),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = send(app.with_key(&key, Method::GET, "/api/v1/jobs")).await;
    assert_eq!(
        s, 403,
        "without X-Forwarded-For the caller is the proxy: {body}"
    );
    assert_envelope(&body, "ip_not_allowed");
    let (s, _) = send(
        app.with_key(&key, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "198.51.100.1"),
    )
    .await;
    assert_eq!(s, 403);
    // A client cannot prepend an allowed address to a chain that ends elsewhere.
    let (s, _) = send(
        app.with_key(&key, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "203.0.113.7, 198.51.100.1"),
    )
    .await;
    assert_eq!(s, 403);

    // The same request to a server that trusts no proxy is refused.
    let Some(plain) = spawn(b).await else { return };
    let (_, key, _) = create_key(
        &plain,
        &plain.key,
        json!({"name": "behind proxy", "scopes": ["jobs:read"], "allowed_ips": ["203.0.113.0/24"]}),
    )
    .await;
    let (s, body) = send(
        plain
            .with_key(&key, Method::GET, "/api/v1/jobs")
            .header("X-Forwarded-For", "203.0.113.7"),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_envelope(&body, "ip_not_allowed");
}

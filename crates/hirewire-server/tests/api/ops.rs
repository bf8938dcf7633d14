//! Health, metrics, graceful shutdown and the API's documentation.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, send, spawn};

crate::on_both_backends!(
    health_reports_the_database,
    metrics_count_requests_and_the_outbox,
    shutdown_finishes_in_flight_requests
);

async fn health_reports_the_database(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let (s, body) = send(app.client.get(app.url("/healthz/live"))).await;
    assert_eq!((s, body["status"].as_str()), (200, Some("ok")));
    let (s, body) = send(app.client.get(app.url("/healthz/ready"))).await;
    assert_eq!((s, body["status"].as_str()), (200, Some("ready")));
    app.closer.close().await;
    let (s, body) = send(app.client.get(app.url("/healthz/ready"))).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    let (s, _) = send(app.client.get(app.url("/healthz/live"))).await;
    assert_eq!(s, 200, "the process is still live");
}

async fn metrics_count_requests_and_the_outbox(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    app.create_job("Counted").await;
    let (s, _) = app.get("/api/v1/jobs").await;
    assert_eq!(s, 200);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needle: &str| {
        text.lines().any(|l| {
            l.starts_with(needle.split('{').next().unwrap())
                && needle.split(['{', ',', '}']).all(|part| l.contains(part))
        })
    };
    assert!(
        has(r#"http_requests_total{method="GET",route="/api/v1/jobs",status="200"}"#),
        "{text}"
    );
    assert!(
        has(r#"http_requests_total{method="POST",route="/api/v1/jobs",status="201"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("outbox_depth"), "{text}");
}

async fn shutdown_finishes_in_flight_requests(b: Backend) {
    let Some(mut app) = spawn(b).await else {
        return;
    };
    let body = br#"{"title": "In flight"}"#;
    let mut conn = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.key,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The request is in flight (its body half sent) when shutdown begins.
    let stopping = tokio::spawn(async move {
        app.stop().await;
        app
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(&body[5..]).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let app = tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown within 10 s")
        .unwrap();
    let total = app
        .store
        .list_jobs(&app.tenant_id, &Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(total, 1);
    assert!(
        app.client
            .get(app.url("/healthz/live"))
            .send()
            .await
            .is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn the_openapi_document_is_served_and_unchanged() {
    let Some(app) = spawn(Backend::Sqlite).await else {
        return;
    };
    let (s, doc) = send(app.client.get(app.url("/api/v1/openapi.json"))).await;
    assert_eq!(s, 200);
    let (_, alias) = send(app.client.get(app.url("/swagger/v1/swagger.json"))).await;
    assert_eq!(doc, alias);
    assert_eq!(doc["openapi"], "3.1.0");
    let served: Value = serde_json::to_value(hirewire_server::openapi_document()).unwrap();
    assert_eq!(doc, served);
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn the_reference_page_works_offline() {
    let Some(app) = spawn(Backend::Sqlite).await else {
        return;
    };
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        let text = res.text().await.unwrap();
        assert!(
            !text.contains("unpkg.com") && !text.contains("cdn.jsdelivr"),
            "{asset} loads from the internet"
        );
    }
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

//! Prometheus metrics on `METRICS_BIND`, never on the public port.

use serde_json::json;

use crate::helpers::{Space, spawn_app};

#[tokio::test]
async fn metrics_count_requests_operations_and_files_on_their_own_port_only() {
    let s = Space::with(|c| c.metrics_bind = Some("127.0.0.1:0".into())).await;
    let metrics = s
        .app
        .metrics
        .expect("metrics are served when METRICS_BIND is set");
    assert_ne!(metrics, s.app.address);
    s.write(&[("in/a.jpg", b"jpg"), ("in/b.txt", b"text")]);
    let done = s.run("ORGANIZE", "in", json!({})).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let refused = s.app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for wanted in [
        "organizer_http_request_duration_seconds_bucket{",
        "route=\"/graphql\"",
        "organizer_graphql_operations_total{",
        "field=\"me\"",
        "code=\"UNAUTHENTICATED\"",
        "field=\"startOperation\"",
        "organizer_operations_finished_total{",
        "type=\"organize\"",
        "status=\"completed\"",
        "organizer_files_moved_total",
        "organizer_db_pool_connections",
    ] {
        assert!(text.contains(wanted), "{wanted} missing from:\n{text}");
    }
    // The public port knows nothing of them.
    let public = reqwest::get(s.app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!public.contains("organizer_http_request"), "{public}");
}

#[tokio::test]
async fn no_metrics_port_unless_asked() {
    let app = spawn_app().await;
    assert!(app.metrics.is_none());
}

//! Prometheus metrics. Recorded with the `metrics` macros where things happen (HTTP
//! requests, GraphQL operations, operations ending, files moved, bytes hashed, leases lost,
//! sockets and subscriptions); sampled when scraped (queue depth, reclaims, database pool).
//! Rendered as Prometheus text on `METRICS_BIND` only, never on the public port.

use std::{
    net::SocketAddr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub const HTTP_SECONDS: &str = "organizer_http_request_duration_seconds";
pub const GRAPHQL_OPERATIONS: &str = "organizer_graphql_operations_total";
pub const OPERATIONS_FINISHED: &str = "organizer_operations_finished_total";
pub const FILES_MOVED: &str = "organizer_files_moved_total";
pub const BYTES_HASHED: &str = "organizer_bytes_hashed_total";
pub const LEASES_LOST: &str = "organizer_leases_lost_total";
pub const FENCING_REFUSALS: &str = "organizer_fencing_refusals_total";
pub const WEBSOCKETS: &str = "organizer_websocket_connections";
pub const SUBSCRIPTIONS: &str = "organizer_subscriptions";

/// The process's recorder: installed once (the `metrics` recorder is global), whichever
/// of `serve` and `worker` (or a test's many servers) asks first.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(HTTP_SECONDS.into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ],
            )
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Only fails when another recorder is installed already: then that one records.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Times every HTTP request, by route (the pattern, never the path a client chose) and
/// status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |path| match path.as_str() {
            "/graphql" | "/graphql/ws" | "/health" | "/ready" => path.as_str(),
            "/assets/{*name}" => "/assets",
            _ => "other",
        })
        .to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        HTTP_SECONDS,
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` on its own listener.
pub async fn serve(state: AppState, bind: &str) -> anyhow::Result<SocketAddr> {
    use anyhow::Context;
    handle();
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen for metrics on {bind}"))?;
    let address = listener.local_addr()?;
    let router = Router::new()
        .route("/metrics", get(render))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "metrics server stopped");
        }
    });
    tracing::info!(%address, "metrics at http://{address}/metrics");
    Ok(address)
}

async fn render(State(state): State<AppState>) -> impl IntoResponse {
    sample(&state).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
}

/// What is read rather than counted: the queue and the database pool, now.
async fn sample(state: &AppState) {
    if let Ok(Ok(stats)) = tokio::time::timeout(Duration::from_secs(1), state.queue.stats()).await {
        if let Some(depth) = stats.depth {
            metrics::gauge!("organizer_queue_depth").set(depth as f64);
        }
        metrics::gauge!("organizer_queue_reclaims").set(stats.reclaims as f64);
    }
    let (size, idle) = crate::db::pool_use(&state.db);
    metrics::gauge!("organizer_db_pool_connections").set(size as f64);
    metrics::gauge!("organizer_db_pool_idle_connections").set(idle as f64);
}

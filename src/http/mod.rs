//! The HTTP surface: routes, and the tower-http layers around them (request id, tracing,
//! CORS, compression, body limit, timeout).

mod endpoint;
mod files;
mod multipart;
mod request_error;
pub mod web;
mod ws;

use std::{net::SocketAddr, time::Duration};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::GraphQLProtocol;
use axum::{
    Json, Router,
    extract::{ConnectInfo, State, WebSocketUpgrade},
    http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::{
    compression::{CompressionLayer, DefaultPredicate, Predicate},
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    auth::ClientInfo,
    gate,
    graphql::{AppSchema, errors::RequestId},
    state::AppState,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
struct Http {
    state: AppState,
    schema: AppSchema,
    uploads: multipart::Uploads,
    ws_by_address: gate::Gate<String>,
    ws_by_user: gate::Gate<uuid::Uuid>,
}

pub fn router(state: AppState, schema: AppSchema) -> Router {
    let spool_dir = state.storage.spool_dir();
    let config = state.config.clone();
    let routes = Router::new()
        .route("/graphql", get(web::graphiql).post(endpoint::post))
        .route("/assets/{*name}", get(web::asset))
        .route("/favicon.ico", get(web::favicon))
        .route("/graphql/ws", get(graphql_ws))
        // `/files` itself is the web app's page; `/files/` is the whole space as a zip.
        .route("/export", get(files::export))
        .route("/files/", get(files::root))
        .route("/files/{*path}", get(files::get))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(web::app)
        .with_state(Http {
            state,
            schema,
            uploads: multipart::Uploads::new(
                Duration::from_secs(config.upload_idle_secs.max(1)),
                spool_dir,
            ),
            ws_by_address: gate::Gate::new(config.ws_max_connections_per_address, usize::MAX),
            ws_by_user: gate::Gate::new(config.ws_max_connections_per_user, usize::MAX),
        });

    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            // The path only: a query string is never logged.
            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %request.method(), path = request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn_with_state(
            BodyLimits { body: config.max_body_bytes, upload: config.max_upload_bytes },
            limit_body,
        ))
        // A download keeps its own length, ranges and validators.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(|_: StatusCode, _: axum::http::Version, _: &HeaderMap, ext: &axum::http::Extensions| {
                ext.get::<files::Uncompressed>().is_none()
            }),
        ))
        .option_layer(cors(&config.cors_origins));
    // Innermost, so its own 408 response is a plain axum body.
    routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(layers)
}

#[derive(Clone, Copy)]
struct BodyLimits {
    body: usize,
    upload: usize,
}

/// Bounds request bodies: uploads (`multipart/form-data`) by `MAX_UPLOAD_BYTES`, anything
/// else by `MAX_BODY_BYTES`. A declared length over the bound is refused at once (413);
/// an undeclared one is cut off when it passes the bound.
async fn limit_body(
    State(limits): State<BodyLimits>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_upload = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/"));
    let limit = if is_upload {
        limits.upload
    } else {
        limits.body
    };
    if declared_length(request.headers()).is_some_and(|len| len > limit as u64) {
        let id = request_id(request.headers());
        return request_error::RequestError::TooLarge.into_response_with(&id.0);
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// The body length a request declares (`Content-Length`), if it declares a readable one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
                REQUEST_ID,
            ])
            .expose_headers([REQUEST_ID])
            .max_age(Duration::from_secs(600)),
    )
}

fn request_id(headers: &HeaderMap) -> RequestId {
    RequestId(
        headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string(),
    )
}

fn client(http: &Http, peer: SocketAddr, headers: &HeaderMap) -> ClientInfo {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    ClientInfo::from_peer(peer.ip(), forwarded, &http.state.config.trusted_proxies)
}

/// Subscriptions; see `ws.rs`.
async fn graphql_ws(
    State(http): State<Http>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let client = client(&http, peer, &headers);
    let Some(address_slot) = http.ws_by_address.try_enter(client.limit_key()) else {
        return request_error::RequestError::TooManyConnections
            .into_response_with(&request_id(&headers).0);
    };
    let connection = ws::Connection {
        address_slot,
        user_gate: http.ws_by_user.clone(),
        client,
        request_id: request_id(&headers),
        legacy: ws::is_legacy(&headers),
        protocol,
        schema: http.schema,
        state: http.state,
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(ws::MAX_MESSAGE_BYTES)
        .max_frame_size(ws::MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| ws::serve(socket, connection))
}

async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers, and Redis where it is configured.
async fn ready(State(http): State<Http>) -> Response {
    readiness(&http.state).await
}

/// `/health` and `/ready` alone: what a worker process answers on.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(
            "/ready",
            get(|State(state): State<AppState>| async move { readiness(&state).await }),
        )
        .with_state(state)
}

/// How long a probe waits for each dependency: a readiness probe must answer at once, so
/// a database or Redis that does not answer within it counts as away.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

async fn readiness(state: &AppState) -> Response {
    let bounded = |check: futures::future::BoxFuture<'static, anyhow::Result<()>>| async move {
        tokio::time::timeout(PROBE_TIMEOUT, check)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}"))
            .and_then(|r| r)
    };
    let db = state.db.clone();
    let queue = state.queue.clone();
    let redis_configured = queue.backend_name() == "redis";
    let (database, redis) = tokio::join!(
        bounded(Box::pin(async move {
            db.ping().await.map_err(anyhow::Error::from)
        })),
        async {
            if redis_configured {
                Some(bounded(Box::pin(async move { queue.ping().await })).await)
            } else {
                None
            }
        }
    );
    if let Err(err) = &database {
        tracing::warn!(error = %err, "readiness check: database unavailable");
    }
    if let Some(Err(err)) = &redis {
        tracing::warn!(error = %format!("{err:#}"), "readiness check: Redis unavailable");
    }
    let ok = |up: bool| if up { "ok" } else { "unavailable" };
    let mut body = json!({ "database": ok(database.is_ok()) });
    if let Some(redis) = &redis {
        body["redis"] = json!(ok(redis.is_ok()));
    }
    let ready = database.is_ok() && redis.as_ref().is_none_or(Result::is_ok);
    body["status"] = json!(if ready { "ready" } else { "unavailable" });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

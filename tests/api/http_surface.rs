//! The HTTP surface: health, readiness, GraphiQL, request ids, CORS, compression, body
//! limits, batching, and how internal failures look from outside.

use serde_json::json;

use crate::helpers::{assert_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_ready_answer_while_the_database_is_up() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["database"],
        "ok"
    );
}

#[tokio::test]
async fn without_a_database_ready_is_503_and_errors_hide_the_cause() {
    let app = spawn_app().await;
    let ada = app.signup("ada").await;
    app.state.db.clone().close().await.unwrap();

    let ready = app.http.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "liveness does not depend on the database"
    );

    let response = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&ada.access_token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_code(&body, "INTERNAL_SERVER_ERROR");
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"],
        request_id.as_str(),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "internal server error");
    let text = body.to_string().to_lowercase();
    for leak in [
        "pool", "sqlx", "sqlite", "postgres", "database", "/tmp", "closed",
    ] {
        assert!(!text.contains(leak), "{leak} leaked: {body}");
    }
}

/// The first `/assets/….js` a page loads.
fn first_script(html: &str) -> String {
    let start = html
        .find("src=\"/assets/")
        .expect("the page loads a script from /assets")
        + 5;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

#[tokio::test]
async fn graphiql_is_served_with_subscriptions_wired_to_the_websocket() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("GraphiQL"));
    // Its code comes from this server (no CDN), cached for good, and knows the socket.
    let script = first_script(&html);
    let asset = app.http.get(app.url(&script)).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let mut code = asset.text().await.unwrap();
    for line in html.lines().filter(|l| l.contains("modulepreload")) {
        let start = line.find("href=\"").unwrap() + 6;
        let end = start + line[start..].find('"').unwrap();
        code.push_str(
            &app.http
                .get(app.url(&line[start..end]))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    assert!(
        code.contains("/graphql/ws"),
        "subscription endpoint wired in"
    );
}

#[tokio::test]
async fn the_web_app_is_served_at_the_root_and_for_its_routes() {
    let app = spawn_app().await;
    for path in ["/", "/files", "/operations/0190", "/keys"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response.headers().contains_key("content-security-policy"),
            "{path}"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains("<div id=\"root\""), "{path}: {html}");
    }
    let html = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = first_script(&html);
    let asset = app.http.get(app.url(&script)).send().await.unwrap();
    assert_eq!(asset.status(), 200);
    // A missing asset is a 404, not the app's page; other methods are not the app either.
    let missing = app
        .http
        .get(app.url("/assets/missing-123.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let posted = app.http.post(app.url("/files")).send().await.unwrap();
    assert_eq!(posted.status(), 404);
    let icon = app.http.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let generated = app.http.get(app.url("/health")).send().await.unwrap();
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    uuid::Uuid::parse_str(id).expect("a generated request id is a UUID");
    let echoed = app
        .http
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.net").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn large_responses_are_compressed_when_asked() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("Accept-Encoding", "gzip")
        .json(&json!({ "query": "{ __schema { types { name description fields { name description } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_app_with(|c| c.max_body_bytes = 64 * 1024).await;
    let padding = "x".repeat(100 * 1024);
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(json!({ "query": "{ __typename }", "variables": { "pad": padding } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn batched_requests_are_refused() {
    let app = spawn_app().await;
    let (status, _) = app
        .post_graphql(
            None,
            json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]),
        )
        .await;
    assert_eq!(status, 400);
    let (single, body) = app
        .post_graphql(None, json!({ "query": "{ __typename }" }))
        .await;
    assert_eq!(single, 200);
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn malformed_queries_are_bad_user_input() {
    let app = spawn_app().await;
    let syntax = app.gql(None, "{ me { id ", json!({})).await;
    assert_code(&syntax, "BAD_USER_INPUT");
    let unknown_field = app.gql(None, "{ nope }", json!({})).await;
    assert_code(&unknown_field, "BAD_USER_INPUT");
    let wrong_type = app
        .gql(
            None,
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": 42 }),
        )
        .await;
    assert_code(&wrong_type, "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_server_refuses_an_example_jwt_secret() {
    let data = tempfile::tempdir().unwrap();
    let mut config = organizer::config::Config::from_env();
    config.database.data_dir = data.path().to_path_buf();
    config.database.database_url = None;
    config.bind = "127.0.0.1:0".into();
    config.workers = 0;
    for secret in [
        "change-me-to-a-long-random-string-of-32-chars-or-more",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ] {
        config.jwt_secret = Some(secret.into());
        let built = organizer::startup::Application::build(Box::new(config.clone())).await;
        let err = built.err().expect("an example secret is refused");
        assert!(err.to_string().contains("JWT_SECRET"), "{err}");
    }
}

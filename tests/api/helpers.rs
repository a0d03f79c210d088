//! `spawn_app()` and the small client the tests share.

use std::{net::SocketAddr, sync::Arc};

use organizer::{config::Config, db::Backend, startup::Application, state::AppState};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub const TEST_JWT_SECRET: &str = "test-secret-for-integration-tests-0123456789";

pub struct TestApp {
    pub address: SocketAddr,
    pub http: reqwest::Client,
    pub state: AppState,
    pub config: Config,
    pub data_dir: Arc<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub struct Account {
    pub id: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Boots the app with the test defaults, changed by `customize`.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    organizer::telemetry::init_for_tests();
    let data_dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = Config::from_env();
    config.database.data_dir = data_dir.path().to_path_buf();
    config.database.database_url = fresh_postgres_database().await;
    config.bind = "127.0.0.1:0".into();
    config.jwt_secret = Some(TEST_JWT_SECRET.into());
    config.auth_rate_limit_per_ip = 1000;
    config.auth_rate_limit_per_account = 1000;
    config.cors_origins = vec![];
    config.trusted_proxies = vec![];
    config.disable_introspection = false;
    customize(&mut config);
    let app = start(config, data_dir).await;
    let expected = if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    assert_eq!(
        app.state.backend, expected,
        "tests run on the database they were asked for"
    );
    app
}

async fn start(config: Config, data_dir: Arc<TempDir>) -> TestApp {
    let app = Application::build(Box::new(config.clone()))
        .await
        .expect("app builds");
    let address = app.local_addr();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        address,
        http: reqwest::Client::new(),
        state,
        config,
        data_dir,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// With `TEST_DATABASE_URL` (a PostgreSQL server URL), a new empty database per test.
async fn fresh_postgres_database() -> Option<String> {
    let base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("organizer_test_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(&base)
        .await
        .expect("connect to TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (without_query, query) = match base.split_once('?') {
        Some((url, query)) => (url, format!("?{query}")),
        None => (base.as_str(), String::new()),
    };
    let server = without_query
        .rsplit_once('/')
        .map_or(without_query, |(server, _)| server);
    Some(format!("{server}/{name}{query}"))
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the server and boots a new one on the same database and data folder.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".into();
        start(config, self.data_dir.clone()).await
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task ends cleanly");
        }
        self.state.db.clone().close().await.ok();
    }

    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn post_graphql(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self.http.post(self.url("/graphql")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post_graphql(token, json!({ "query": query, "variables": variables }))
            .await
            .1
    }

    pub async fn signup(&self, username: &str) -> Account {
        let email = format!("{username}@example.com");
        let password = format!("password-of-{username}");
        let body = self
            .gql(
                None,
                "mutation($input: SignupInput!) { signup(input: $input) { accessToken refreshToken user { id } } }",
                json!({ "input": { "email": email, "username": username, "password": password } }),
            )
            .await;
        let payload = &body["data"]["signup"];
        assert!(payload.is_object(), "signup failed: {body}");
        Account {
            id: payload["user"]["id"].as_str().unwrap().to_string(),
            password,
            access_token: payload["accessToken"].as_str().unwrap().to_string(),
            refresh_token: payload["refreshToken"].as_str().unwrap().to_string(),
        }
    }

    pub async fn login(&self, login: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresIn user { id username lastLoginAt } } }",
            json!({ "input": { "login": login, "password": password } }),
        )
        .await
    }

    pub async fn me(&self, token: &str) -> Value {
        self.gql(Some(token), "{ me { id email username } }", json!({}))
            .await
    }
}

/// The `extensions.code` of the first error, or "" when there is none.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub fn error_message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[track_caller]
pub fn assert_code(body: &Value, code: &str) {
    assert_eq!(error_code(body), code, "expected {code}, got {body}");
}

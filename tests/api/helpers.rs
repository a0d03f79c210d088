//! `spawn_app()` and the small client the tests share; `Space`, the arrange step of the
//! engine tests; the file trees they share.

mod space;
mod trees;

pub use space::Space;
pub use trees::{SAMPLE_TREE, contents};

use std::{net::SocketAddr, sync::Arc};

use organizer::{config::Config, db::Backend, startup::Application, state::AppState};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

pub const TEST_JWT_SECRET: &str = "test-secret-for-integration-tests-0123456789";

pub struct TestApp {
    pub address: SocketAddr,
    /// Where `/metrics` answers, when the test set `metrics_bind`.
    pub metrics: Option<SocketAddr>,
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
    config.refresh_rate_limit_per_account = 1000;
    config.cors_origins = vec![];
    config.trusted_proxies = vec![];
    config.disable_introspection = false;
    config.storage_url = None;
    config.fault_stop_after_files = None;
    config.workers = 2;
    // Mail goes to the outbox folder unless a test asks for SMTP.
    config.smtp_url = None;
    config.public_url = None;
    config.require_verified_email = false;
    config.admin_emails = vec![];
    // Stopping a test server hands its running operations back after this long.
    config.shutdown_grace_secs = 2;
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
    let metrics = app.metrics_addr();
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
        metrics,
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
    Some(
        crate::postgres::fresh_database(&base, "organizer_test")
            .await
            .unwrap_or_else(|err| panic!("{err}")),
    )
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the server and boots a new one on the same database and data folder.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// `restart`, with the configuration changed by `customize`.
    pub async fn restart_with(mut self, customize: impl FnOnce(&mut Config)) -> TestApp {
        self.stop().await;
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".into();
        customize(&mut config);
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

/// Real files in the user's storage folder (the `fs` backend under the test's data dir).
pub fn user_dir(app: &TestApp, account: &Account) -> std::path::PathBuf {
    app.data_dir
        .path()
        .join("storage")
        .join("users")
        .join(&account.id)
}

/// The entries of a zip, by name. The in-memory reader is the simplest whole-archive
/// check (central directory included); its successor (`read1`) reads the same format.
#[allow(deprecated)]
pub async fn unzip(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    use futures::AsyncReadExt as _;
    let reader = async_zip::base::read::mem::ZipFileReader::new(bytes)
        .await
        .unwrap();
    let mut found = std::collections::BTreeMap::new();
    for index in 0..reader.file().entries().len() {
        let name = reader.file().entries()[index]
            .filename()
            .as_str()
            .unwrap()
            .to_string();
        let mut bytes = Vec::new();
        reader
            .reader_without_entry(index)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        found.insert(name, bytes);
    }
    found
}

/// Writes files (creating folders) under `root`.
pub fn write_tree(root: &std::path::Path, files: &[(&str, &[u8])]) {
    for (path, content) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, content).unwrap();
    }
}

/// Every file under `root` (relative path → SHA-256 of its content).
pub fn snapshot(root: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    use sha2::Digest;
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let digest = sha2::Sha256::digest(std::fs::read(&path).unwrap());
                out.insert(rel, hex::encode(digest));
            }
        }
    }
    out
}

pub const OPERATION_FIELDS: &str = "id type status phase rootPath dryRun filesTotal filesScanned filesProcessed filesSkipped duplicatesFound spaceSavedBytes errorMessage createdAt startedAt completedAt rollbackOf planOf";

impl TestApp {
    /// `startOperation`; returns the whole response.
    pub async fn start_operation(
        &self,
        token: &str,
        kind: &str,
        root: &str,
        dry_run: bool,
        options: Value,
    ) -> Value {
        self.gql(
            Some(token),
            &format!("mutation($i: StartOperationInput!) {{ startOperation(input: $i) {{ {OPERATION_FIELDS} }} }}"),
            json!({ "i": { "type": kind, "rootPath": root, "dryRun": dry_run, "options": options } }),
        )
        .await
    }

    /// Starts an operation and waits for it to end; returns the final operation.
    pub async fn run_operation(
        &self,
        token: &str,
        kind: &str,
        root: &str,
        dry_run: bool,
        options: Value,
    ) -> Value {
        let body = self
            .start_operation(token, kind, root, dry_run, options)
            .await;
        let id = body["data"]["startOperation"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("start failed: {body}"))
            .to_string();
        self.wait_operation(token, &id).await
    }

    pub async fn operation(&self, token: &str, id: &str) -> Value {
        let body = self
            .gql(
                Some(token),
                &format!("query($id: ID!) {{ operation(id: $id) {{ {OPERATION_FIELDS} }} }}"),
                json!({ "id": id }),
            )
            .await;
        body["data"]["operation"].clone()
    }

    /// Polls until the operation is COMPLETED, FAILED or CANCELLED (60 s at most).
    pub async fn wait_operation(&self, token: &str, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let op = self.operation(token, id).await;
            if matches!(
                op["status"].as_str(),
                Some("COMPLETED" | "FAILED" | "CANCELLED")
            ) {
                return op;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "operation {id} did not end: {op}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// A mutation taking an operation id, e.g. `rollbackOperation`; returns the response.
    pub async fn op_mutation(&self, token: &str, field: &str, arg: &str, id: &str) -> Value {
        self.gql(
            Some(token),
            &format!("mutation($id: ID!) {{ {field}({arg}: $id) {{ {OPERATION_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await
    }

    /// A GraphQL multipart request (the spec `curl -F` speaks) uploading `files` to `path`.
    pub async fn upload(&self, token: &str, path: &str, files: &[(&str, &[u8])]) -> Value {
        let form = crate::multipart::upload_form(
            "mutation($path: String!, $files: [Upload!]!) { uploadFiles(path: $path, files: $files) { path name isDir sizeBytes modifiedAt } }",
            json!({ "path": path }),
            files,
        );
        let response = self
            .http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// An upload with each file's own last-modified time, as a browser or curl sends it.
    pub async fn upload_dated(
        &self,
        token: &str,
        folder: &str,
        files: &[(&str, &[u8], Value)],
    ) -> Value {
        let form = crate::multipart::upload_form(
            "mutation($path: String!, $files: [Upload!]!, $times: [DateTime]) { uploadFiles(path: $path, files: $files, modifiedAt: $times) { path modifiedAt } }",
            json!({
                "path": folder,
                "times": files.iter().map(|f| f.2.clone()).collect::<Vec<_>>(),
            }),
            &files.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>(),
        );
        self.http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Changes an account's row directly (what an administrator would do).
    pub async fn update_user(
        &self,
        account: &Account,
        change: impl FnOnce(&mut entity::users::ActiveModel),
    ) {
        use sea_orm::{ActiveModelTrait, EntityTrait};
        let id = uuid::Uuid::parse_str(&account.id).unwrap();
        let user = entity::users::Entity::find_by_id(id)
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("the user exists");
        let mut active: entity::users::ActiveModel = user.into();
        change(&mut active);
        active.update(&self.state.db).await.unwrap();
    }

    /// The original paths of the files a cleanup keeps (its records that are not duplicates).
    pub async fn kept_paths(&self, token: &str, operation: &Value) -> Vec<String> {
        self.records(token, operation["id"].as_str().unwrap())
            .await
            .iter()
            .filter(|r| r["isDuplicate"] == false)
            .map(|r| r["originalPath"].as_str().unwrap().to_string())
            .collect()
    }

    /// Every record of an operation, in order.
    pub async fn records(&self, token: &str, id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let body = self
                .gql(
                    Some(token),
                    "query($id: ID!, $after: String) { fileRecords(operationId: $id, first: 100, after: $after) {
                        totalCount pageInfo { hasNextPage }
                        edges { cursor node { id originalPath newPath fileName fileSizeBytes fileHash category isDuplicate status errorMessage } } } }",
                    json!({ "id": id, "after": after }),
                )
                .await;
            let conn = &body["data"]["fileRecords"];
            let edges = conn["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
            out.extend(edges.iter().map(|e| e["node"].clone()));
            if conn["pageInfo"]["hasNextPage"] != true {
                return out;
            }
            after = edges
                .last()
                .map(|e| e["cursor"].as_str().unwrap().to_string());
        }
    }
}

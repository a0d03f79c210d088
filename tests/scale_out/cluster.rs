//! Processes of one deployment, started from the real binary on loopback: a Redis server
//! of the test's own, a fresh PostgreSQL database, `serve` and `worker` processes sharing a
//! storage folder. Everything is stopped when the test ends.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it holds; fails the test after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "gave up waiting after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `redis-server` of this test, on a free port, that can be stopped and started again.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub async fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.start_again().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn start_again(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        self.child = Some(child);
        let port = self.port;
        wait_until(Duration::from_secs(10), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
    }

    /// SIGSTOP: the server neither answers nor closes its connections, as when its
    /// machine hangs.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT after `freeze`.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Stops it dead (its data is gone, as after a crash without persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct Account {
    pub id: String,
    pub token: String,
}

struct Process {
    child: Child,
    port: u16,
}

pub struct Cluster {
    dir: tempfile::TempDir,
    database_url: String,
    redis_url: String,
    env: HashMap<String, String>,
    processes: Vec<Process>,
    http: reqwest::Client,
}

/// A PostgreSQL server of one test alone, so it can be stopped and started under running
/// processes; made from the machine's server binaries (`initdb`, `pg_ctl`), run as the
/// `postgres` user when the test runs as root (PostgreSQL refuses root).
pub struct OwnPostgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl OwnPostgres {
    /// `Err` with the reason where there are no server binaries or no way to run them.
    pub fn start() -> Result<Self, String> {
        let bin = which_initdb().ok_or("no initdb on PATH or under /usr/lib/postgresql")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if is_root() {
            let owned = Command::new("chown")
                .args(["postgres"])
                .arg(dir.path())
                .status()
                .map_err(|e| e.to_string())?;
            if !owned.success() {
                return Err("no postgres user to run PostgreSQL as".into());
            }
        }
        let pg = Self {
            bin,
            dir,
            port: free_port(),
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
            ],
        )?;
        pg.start_again()?;
        Ok(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(tool);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command
            .args(args)
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-o",
                &options,
                "start",
            ],
        )
    }

    /// A fast shutdown: connections are cut, as in a restart.
    pub fn stop(&self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn which_initdb() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|dir| dir.join("initdb").is_file()));
    on_path.or_else(|| {
        let mut found: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|bin| bin.join("initdb").is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

impl Cluster {
    pub async fn new(redis: &Redis) -> Result<Self, String> {
        let base = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or("TEST_DATABASE_URL is not set")?;
        Self::on_database(redis, &base).await
    }

    /// A cluster on a fresh database of the server `base` names.
    pub async fn on_database(redis: &Redis, base: &str) -> Result<Self, String> {
        let database_url = crate::postgres::fresh_database(base, "organizer_scale").await?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("storage")).unwrap();
        Ok(Self {
            database_url,
            redis_url: redis.url(),
            env: HashMap::new(),
            processes: Vec::new(),
            http: reqwest::Client::new(),
            dir,
        })
    }

    /// An extra setting for every process started from now on.
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.insert(key.into(), value.into());
    }

    fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    async fn spawn(&mut self, args: &[&str]) -> usize {
        let port = free_port();
        let index = self.processes.len();
        let log =
            std::fs::File::create(self.dir.path().join(format!("process-{index}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_organizer"));
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("STORAGE_URL", format!("fs://{}", self.storage().display()))
            .env("DATA_DIR", self.dir.path().join(format!("data-{index}")))
            .env("JWT_SECRET", "scale-out-test-secret-0123456789abcdefghijkl")
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("LEASE_SECS", "3")
            .env("SHUTDOWN_GRACE_SECS", "2")
            .env("AUTH_RATE_LIMIT_PER_IP", "1000")
            .env("AUTH_RATE_LIMIT_PER_ACCOUNT", "1000")
            .env("ADMIN_EMAILS", "ada@example.com")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let child = command.spawn().expect("the organizer binary starts");
        self.processes.push(Process { child, port });
        let http = self.http.clone();
        let ready = wait_ready(&http, port, Duration::from_secs(60)).await;
        assert!(
            ready,
            "process {index} ({args:?}) never became ready; log:\n{}",
            self.log(index)
        );
        index
    }

    pub fn log(&self, index: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("process-{index}.log")))
            .unwrap_or_default()
    }

    /// An API process without workers.
    pub async fn serve(&mut self) -> usize {
        self.spawn(&["serve", "--workers", "0"]).await
    }

    /// A worker process with one worker.
    pub async fn worker(&mut self) -> usize {
        self.spawn(&["worker", "--workers", "1"]).await
    }

    /// An API process that also runs `workers` workers of its own.
    pub async fn serve_with_workers(&mut self, workers: usize) -> usize {
        let workers = workers.to_string();
        self.spawn(&["serve", "--workers", &workers]).await
    }

    /// SIGTERM, as an orchestrator stops a process; waits (up to `limit`) for it to exit.
    /// Whether it exited in time.
    pub async fn terminate(&mut self, index: usize, limit: Duration) -> bool {
        let pid = self.processes[index].child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.processes[index].child.try_wait() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`): a process frozen as a hung machine freezes
    /// it, and woken again.
    pub fn freeze(&self, index: usize, frozen: bool) {
        let pid = self.processes[index].child.id().to_string();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success());
    }

    /// SIGKILL: no chance to hand anything back.
    pub fn kill(&mut self, index: usize) {
        let child = &mut self.processes[index].child;
        let _ = child.kill();
        let _ = child.wait();
    }

    fn url(&self, server: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.processes[server].port)
    }

    pub async fn ready(&self, server: usize) -> u16 {
        match self
            .http
            .get(self.url(server, "/ready"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }

    pub async fn anonymous(&self, server: usize, query: &str) -> Value {
        self.http
            .post(self.url(server, "/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn gql(
        &self,
        server: usize,
        account: &Account,
        query: &str,
        variables: Value,
    ) -> Value {
        self.http
            .post(self.url(server, "/graphql"))
            .bearer_auth(&account.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn signup(&self, server: usize, name: &str) -> Account {
        let body: Value = self
            .http
            .post(self.url(server, "/graphql"))
            .json(&json!({
                "query": "mutation($i: SignupInput!) { signup(input: $i) { accessToken user { id } } }",
                "variables": { "i": { "email": format!("{name}@example.com"), "username": name, "password": format!("password of {name}") } }
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let payload = &body["data"]["signup"];
        Account {
            id: payload["user"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_string(),
            token: payload["accessToken"].as_str().unwrap().to_string(),
        }
    }

    /// Uploads files into a folder of the user's space, through the API.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    pub async fn upload(
        &self,
        server: usize,
        account: &Account,
        folder: &str,
        files: &[(String, Vec<u8>)],
    ) -> Value {
        let form = crate::multipart::upload_form(
            "mutation($path: String!, $files: [Upload!]!) { uploadFiles(path: $path, files: $files) { path } }",
            json!({ "path": folder }),
            &files
                .iter()
                .map(|(name, content)| (name.as_str(), content.as_slice()))
                .collect::<Vec<_>>(),
        );
        self.http
            .post(self.url(server, "/graphql"))
            .bearer_auth(&account.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many entries a folder of the user's space has, through the API.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    pub async fn count(&self, server: usize, account: &Account, folder: &str) -> i64 {
        let body = self
            .gql(
                server,
                account,
                "query($p: String) { files(path: $p) { totalCount } }",
                json!({ "p": folder }),
            )
            .await;
        body["data"]["files"]["totalCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{body}"))
    }

    fn user_dir(&self, account: &Account) -> PathBuf {
        self.storage().join("users").join(&account.id)
    }

    /// `count` small distinct text files under `folder`, in 20 sub-folders.
    pub fn write_tree(&self, account: &Account, folder: &str, count: usize) {
        let root = self.user_dir(account).join(folder);
        for i in 0..count {
            let dir = root.join(format!("d{}", i % 20));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join(format!("file {i}.txt")),
                format!("{folder} content {i}"),
            )
            .unwrap();
        }
    }

    /// Every file of the user's space: path → content.
    pub fn tree(&self, account: &Account) -> BTreeMap<String, String> {
        let root = self.user_dir(account);
        let mut out = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    out.insert(rel, std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        out
    }

    /// `startOperation`; the new operation's id (the test fails if it was refused).
    pub async fn start(&self, server: usize, account: &Account, input: Value) -> String {
        let body = self
            .gql(
                server,
                account,
                "mutation($i: StartOperationInput!) { startOperation(input: $i) { id } }",
                input,
            )
            .await;
        body["data"]["startOperation"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not started: {body}"))
            .to_string()
    }

    /// `rollbackOperation` of `id`; the rollback's id (the test fails if it was refused).
    pub async fn rollback(&self, server: usize, account: &Account, id: &str) -> String {
        let body = self
            .gql(
                server,
                account,
                "mutation($id: ID!) { rollbackOperation(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        body["data"]["rollbackOperation"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no rollback: {body}"))
            .to_string()
    }

    /// The operation as the API shows it now.
    pub async fn operation(&self, server: usize, account: &Account, id: &str) -> Value {
        let body = self
            .gql(server, account, "query($id: ID!) { operation(id: $id) { id status phase filesTotal filesProcessed filesSkipped errorMessage startedAt completedAt } }", json!({ "id": id }))
            .await;
        body["data"]["operation"].clone()
    }

    /// Polls the operation until `done` holds for it; the operation then. Fails the test
    /// (with the processes' logs) after `limit`.
    pub async fn wait_for(
        &self,
        server: usize,
        account: &Account,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let op = self.operation(server, account, id).await;
            if done(&op) {
                return op;
            }
            assert!(
                Instant::now() < deadline,
                "operation {id}: still waiting after {limit:?}: {op}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls the operation until it ends; the final operation.
    pub async fn wait(&self, server: usize, account: &Account, id: &str, limit: Duration) -> Value {
        self.wait_for(server, account, id, limit, |op| {
            matches!(
                op["status"].as_str(),
                Some("COMPLETED" | "FAILED" | "CANCELLED")
            )
        })
        .await
    }

    fn logs(&self) -> String {
        (0..self.processes.len())
            .map(|i| format!("--- process {i}\n{}", tail(&self.log(i), 40)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `operationProgress` over a real WebSocket, until the server completes it.
    pub async fn watch(&self, server: usize, account: &Account, id: &str) -> Vec<Value> {
        let mut request = format!("ws://127.0.0.1:{}/graphql/ws", self.processes[server].port)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let send = |v: Value| tungstenite::Message::Text(v.to_string().into());
        socket
            .send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", account.token) } })))
            .await
            .unwrap();
        socket
            .send(send(json!({ "id": "1", "type": "subscribe", "payload": {
                "query": "subscription($id: ID!) { operationProgress(id: $id) { status phase percent filesProcessed } }",
                "variables": { "id": id } } })))
            .await
            .unwrap();
        let mut events = Vec::new();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(120), socket.next())
                .await
                .expect("progress within two minutes");
            let Some(Ok(tungstenite::Message::Text(text))) = frame else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).unwrap();
            match message["type"].as_str() {
                Some("next") => {
                    events.push(message["payload"]["data"]["operationProgress"].clone())
                }
                Some("complete") => return events,
                Some("error") => panic!("{message}"),
                _ => {}
            }
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn wait_ready(http: &reqwest::Client, port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{port}/ready"))
            .send()
            .await
            && response.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
    }
}

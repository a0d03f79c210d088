//! Organizer processes started for one run: embedded (`serve` on SQLite and the local
//! queue) or a cluster (`serve --workers 0` and `worker` processes on a fresh PostgreSQL
//! database and Redis). Every process is killed, and the database dropped, when the
//! `Deployment` is dropped, on success, error, panic or Ctrl-C alike.

use std::{
    collections::BTreeMap,
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use rand::RngCore;

/// Every setting `organizer` reads from the environment: none may leak in from the shell
/// that runs the benchmark.
const ORGANIZER_ENV: &[&str] = &[
    "DATABASE_URL",
    "DATA_DIR",
    "BIND",
    "JWT_SECRET",
    "CORS_ORIGINS",
    "STORAGE_URL",
    "MAX_UPLOAD_BYTES",
    "ORGANIZER_FAULT_STOP_AFTER_FILES",
    "WORKERS",
    "TRUSTED_PROXIES",
    "DISABLE_INTROSPECTION",
    "AUTH_RATE_LIMIT_PER_IP",
    "AUTH_RATE_LIMIT_PER_ACCOUNT",
    "REQUEST_TIMEOUT_SECS",
    "REDIS_URL",
    "LEASE_SECS",
    "SHUTDOWN_GRACE_SECS",
    "MAX_BODY_BYTES",
    "WS_MAX_CONNECTIONS_PER_USER",
    "WS_MAX_CONNECTIONS_PER_ADDRESS",
    "RUST_LOG",
];

pub enum Backend {
    Embedded,
    Cluster {
        database_url: String,
        redis_url: String,
        api_procs: usize,
        worker_procs: usize,
        /// Leave the database behind (named on stderr) to look at its plans afterwards.
        keep_database: bool,
    },
}

pub struct Proc {
    pub role: String,
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

pub struct Deployment {
    bin: PathBuf,
    pub procs: Vec<Proc>,
    /// `<work>/run-<id>`: data folders, logs and the storage; removed at the end.
    pub run_dir: PathBuf,
    /// The storage root (`users/<id>/…` below it).
    pub storage: PathBuf,
    /// What runs: "embedded (SQLite, …)" or "cluster (PostgreSQL, Redis, …)".
    pub label: String,
    database: Option<Database>,
    redis_url: Option<String>,
}

struct Database {
    admin_url: String,
    name: String,
    keep: bool,
}

impl Deployment {
    pub async fn start(bin: &Path, work: &Path, backend: &Backend) -> Result<Self> {
        if !bin.is_file() {
            bail!(
                "no organizer binary at {} (build it with `cargo build --release`, or set ORGANIZER_BIN / --organizer)",
                bin.display()
            );
        }
        let run_dir = work.join(format!("run-{}", uuid::Uuid::now_v7().simple()));
        fs::create_dir_all(&run_dir)?;
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let mut env: Vec<(String, String)> = vec![
            ("JWT_SECRET".into(), hex::encode(secret)),
            // Generous limits: the benchmark measures the engine and the API, not the
            // abuse guards (a 429 would be counted as an error).
            ("AUTH_RATE_LIMIT_PER_IP".into(), "1000000".into()),
            ("AUTH_RATE_LIMIT_PER_ACCOUNT".into(), "1000000".into()),
            ("WS_MAX_CONNECTIONS_PER_USER".into(), "5000".into()),
            ("WS_MAX_CONNECTIONS_PER_ADDRESS".into(), "5000".into()),
            ("REQUEST_TIMEOUT_SECS".into(), "300".into()),
            // The transfer section uploads one 1 GiB file (plus its multipart framing).
            ("MAX_UPLOAD_BYTES".into(), (2u64 << 30).to_string()),
            ("RUST_LOG".into(), "info".into()),
            ("NO_COLOR".into(), "1".into()),
        ];
        let mut deployment = Self {
            bin: bin.to_path_buf(),
            procs: Vec::new(),
            storage: PathBuf::new(),
            label: String::new(),
            database: None,
            redis_url: None,
            run_dir,
        };
        match backend {
            Backend::Embedded => {
                // The defaults: SQLite and `fs` storage under the data folder.
                deployment.storage = deployment.run_dir.join("data/storage");
                deployment.label =
                    "embedded (SQLite, in-process queue and bus, fs storage, 2 workers)".into();
                let data = deployment.run_dir.join("data");
                deployment.spawn("serve", &["serve"], &env, &data).await?;
            }
            Backend::Cluster {
                database_url,
                redis_url,
                api_procs,
                worker_procs,
                keep_database,
            } => {
                let name = format!("organizer_bench_{}", uuid::Uuid::now_v7().simple());
                psql(database_url, &format!("CREATE DATABASE \"{name}\""))?;
                deployment.database = Some(Database {
                    admin_url: database_url.clone(),
                    name: name.clone(),
                    keep: *keep_database,
                });
                let redis = redis_with_db(redis_url);
                clear_redis(&redis);
                deployment.redis_url = Some(redis.clone());
                deployment.storage = deployment.run_dir.join("storage");
                fs::create_dir_all(&deployment.storage)?;
                deployment.label = format!(
                    "cluster (PostgreSQL, Redis {}, fs storage; {api_procs} × serve --workers 0, {worker_procs} × worker)",
                    redact(&redis)
                );
                env.extend([
                    ("DATABASE_URL".into(), with_database(database_url, &name)),
                    ("REDIS_URL".into(), redis),
                    (
                        "STORAGE_URL".into(),
                        format!("fs://{}", deployment.storage.display()),
                    ),
                ]);
                // One at a time: the first runs the migrations.
                for i in 0..(*api_procs).max(1) {
                    let data = deployment.run_dir.join(format!("data-serve-{i}"));
                    deployment
                        .spawn(
                            &format!("serve-{i}"),
                            &["serve", "--workers", "0"],
                            &env,
                            &data,
                        )
                        .await?;
                }
                for i in 0..*worker_procs {
                    let data = deployment.run_dir.join(format!("data-worker-{i}"));
                    deployment
                        .spawn(&format!("worker-{i}"), &["worker"], &env, &data)
                        .await?;
                }
            }
        }
        Ok(deployment)
    }

    async fn spawn(
        &mut self,
        role: &str,
        args: &[&str],
        env: &[(String, String)],
        data: &Path,
    ) -> Result<()> {
        fs::create_dir_all(data)?;
        let port = free_port()?;
        let log = self.run_dir.join(format!("{role}.log"));
        let out = fs::File::create(&log)?;
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            // No stray `.env` is read from the folder the benchmark was started in.
            .current_dir(&self.run_dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for key in ORGANIZER_ENV {
            command.env_remove(key);
        }
        command
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("DATA_DIR", data)
            .env("BIND", format!("127.0.0.1:{port}"));
        let child = command.spawn().context("start organizer")?;
        self.procs.push(Proc {
            role: role.into(),
            child,
            port,
            log,
        });
        let index = self.procs.len() - 1;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.procs[index].child.try_wait() {
                bail!(
                    "{role} exited at start ({status}); its log:\n{}",
                    self.log_tail(index, 30)
                );
            }
            if let Ok(response) = http
                .get(format!("http://127.0.0.1:{port}/ready"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && response.status() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{role} was not ready after two minutes; its log:\n{}",
                    self.log_tail(index, 30)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_tail(&self, index: usize, lines: usize) -> String {
        let text = fs::read_to_string(&self.procs[index].log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Ports of the processes that serve the API.
    pub fn api_ports(&self) -> Vec<u16> {
        self.procs
            .iter()
            .filter(|p| p.role.starts_with("serve"))
            .map(|p| p.port)
            .collect()
    }

    /// Fails when a process has died (with the end of its log).
    pub fn check_alive(&mut self) -> Result<()> {
        for i in 0..self.procs.len() {
            if let Ok(Some(status)) = self.procs[i].child.try_wait() {
                bail!(
                    "{} died ({status}); its log:\n{}",
                    self.procs[i].role,
                    self.log_tail(i, 30)
                );
            }
        }
        Ok(())
    }

    /// Starts a new peak-memory window for every process (`VmHWM` back to the current
    /// resident size), so that each phase reports its own peak.
    pub fn reset_peaks(&self) {
        for p in &self.procs {
            let _ = fs::write(format!("/proc/{}/clear_refs", p.pid()), "5");
        }
    }

    /// Peak resident memory of every process since the last reset, in MiB.
    pub fn peaks(&self) -> BTreeMap<String, f64> {
        self.procs
            .iter()
            .map(|p| {
                let mib = status_kib(p.pid(), "VmHWM:").map_or(f64::NAN, |k| k / 1024.0);
                (p.role.clone(), mib)
            })
            .collect()
    }

    /// Resident memory of every process now, in MiB.
    pub fn rss_now(&self) -> BTreeMap<String, f64> {
        self.procs
            .iter()
            .map(|p| {
                let mib = status_kib(p.pid(), "VmRSS:").map_or(f64::NAN, |k| k / 1024.0);
                (p.role.clone(), mib)
            })
            .collect()
    }

    pub fn user_dir(&self, user_id: &str) -> PathBuf {
        self.storage.join("users").join(user_id)
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        if let Some(db) = self.database.as_ref().filter(|db| db.keep) {
            eprintln!("the database {} is kept", db.name);
        } else if let Some(db) = &self.database
            && let Err(e) = psql(
                &db.admin_url,
                &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", db.name),
            )
        {
            eprintln!("could not drop the database {}: {e:#}", db.name);
        }
        if let Some(redis) = &self.redis_url {
            clear_redis(redis);
        }
        // Never delete a lent tree: if one is still here, leave everything for the next
        // run to bring back.
        let lent = fs::read_dir(self.storage.join("users"))
            .map(|users| users.flatten().any(|u| u.path().join("tree").exists()))
            .unwrap_or(false);
        if lent {
            eprintln!(
                "the tree is still in {}; the next run brings it back",
                self.storage.display()
            );
        } else if std::env::var_os("BENCH_KEEP_RUN").is_none() {
            let _ = fs::remove_dir_all(&self.run_dir);
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM:` the peak, `VmRSS:` now).
fn status_kib(pid: u32, field: &str) -> Option<f64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .context("run psql (install postgresql-client)")?;
    if !output.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// The URL of database `name` on the server of `url` (its query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{server}/{name}{query}")
}

/// Redis database 7 unless the URL names one: Organizer's keys are fixed
/// (`organizer:jobs`, …), so a database of its own keeps the benchmark's queue apart from
/// anything else on that server (pub/sub channels are shared, but events carry ids).
fn redis_with_db(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let has_db = rest
        .split_once('/')
        .is_some_and(|(_, db)| !db.is_empty() && !db.starts_with('?'));
    if has_db {
        url.to_string()
    } else {
        match url.split_once('?') {
            Some((base, query)) => format!("{}/7?{query}", base.trim_end_matches('/')),
            None => format!("{}/7", url.trim_end_matches('/')),
        }
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:<redacted>@{host}")
        }
        _ => url.to_string(),
    }
}

/// Deletes Organizer's keys in the benchmark's Redis database (before the run, in case
/// an earlier one was killed, and after it), with `redis-cli` when it is installed.
fn clear_redis(url: &str) {
    let keys = Command::new("redis-cli")
        .args(["-u", url, "--scan", "--pattern", "organizer:*"])
        .output();
    let Ok(keys) = keys else {
        eprintln!("redis-cli is not installed: Organizer's keys stay in {url}");
        return;
    };
    let keys: Vec<String> = String::from_utf8_lossy(&keys.stdout)
        .lines()
        .filter(|k| !k.is_empty())
        .map(String::from)
        .collect();
    for chunk in keys.chunks(500) {
        let _ = Command::new("redis-cli")
            .args(["-u", url, "DEL"])
            .args(chunk)
            .stdout(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:55432/postgres", "x"),
            "postgres://postgres@127.0.0.1:55432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }

    #[test]
    fn redis_urls() {
        assert_eq!(
            redis_with_db("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379/7"
        );
        assert_eq!(
            redis_with_db("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/7"
        );
        assert_eq!(
            redis_with_db("redis://127.0.0.1:6379/3"),
            "redis://127.0.0.1:6379/3"
        );
        assert_eq!(redact("redis://:pw@h:1/7"), "redis://:<redacted>@h:1/7");
        assert_eq!(redact("redis://h:1/7"), "redis://h:1/7");
        assert_eq!(redact("redis://u:pw@h:1/7"), "redis://u:<redacted>@h:1/7");
    }
}

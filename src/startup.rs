//! `Application`: builds everything `serve` runs (database, migrations, keys, schema,
//! router, listener) so that tests boot exactly what production boots.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    auth::{jwt::JwtKeys, rate_limit::RateLimiter, secrets},
    config::Config,
    db,
    engine::worker,
    graphql, http,
    jobs::{bus::ProgressBus, queue::JobQueue},
    state::AppState,
    storage::Storage,
};

pub const MIN_JWT_SECRET_LEN: usize = 32;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    /// The in-process workers: stopped and handed back when the server stops.
    workers: Vec<tokio::task::JoinHandle<()>>,
    /// Where metrics are served (`METRICS_BIND`), if anywhere.
    metrics: Option<SocketAddr>,
}

impl Application {
    pub async fn build(config: Box<Config>) -> anyhow::Result<Self> {
        let state = build_state(config).await?;
        let mut workers = if state.config.workers > 0 {
            worker::spawn_workers(&state.engine(), state.config.workers)
        } else {
            Vec::new()
        };
        workers.extend(crate::operations::trash::spawn_retention(state.clone()));
        let metrics = match &state.config.metrics_bind {
            Some(bind) => Some(crate::metrics::serve(state.clone(), bind).await?),
            None => None,
        };
        let schema = graphql::build(state.clone());
        let router = http::router(state.clone(), schema);
        let listener = TcpListener::bind(&state.config.bind)
            .await
            .with_context(|| format!("could not listen on {}", state.config.bind))?;
        let address = listener.local_addr()?;
        tracing::info!(
            %address,
            database = state.backend.name(),
            storage = state.storage.description(),
            queue = state.queue.backend_name(),
            bus = state.bus.backend_name(),
            rate_limits = state.limiter.backend_name(),
            workers = state.config.workers,
            web_app = if http::web::embedded() { "embedded" } else { "not built (see cargo build warnings)" },
            "listening: the app at http://{address}/, GraphiQL at http://{address}/graphql"
        );
        Ok(Self {
            listener,
            router,
            state,
            workers,
            metrics,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Where `/metrics` answers, when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then stops the workers as `worker` does: no new
    /// jobs, the current ones get `SHUTDOWN_GRACE_SECS`, and what still runs is handed back.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("server error");
        stop_workers(&self.state, self.workers).await;
        served
    }
}

/// What `serve` and `worker` share: logging of the configuration, process limits, the
/// database (migrated), keys, storage, and the queue, bus and limiter (in-process, or on
/// Redis with `REDIS_URL`).
pub async fn build_state(config: Box<Config>) -> anyhow::Result<AppState> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), config = ?config, "starting organizer");
    raise_open_file_limit();
    keep_files_private(&config.database.data_dir);
    let (db, backend) = db::connect(&config.database).await?;
    db::migrate(&db).await?;
    let secret = jwt_secret(&config)?;
    let storage = Storage::from_url(config.storage_url.as_deref(), &config.database.data_dir)?;
    let (queue, bus, limiter) = match config.redis_url.as_deref().filter(|u| !u.is_empty()) {
        None => (
            JobQueue::in_process(),
            ProgressBus::in_process(),
            RateLimiter::in_process(),
        ),
        Some(url) => {
            let client = crate::redis::client(url).await?;
            (
                JobQueue::redis(
                    client.clone(),
                    std::time::Duration::from_secs(config.reclaim_idle_secs.max(1)),
                )
                .await,
                ProgressBus::redis(url, client.clone()).await?,
                RateLimiter::redis(client),
            )
        }
    };
    bus.hub().spawn_resync(db.clone());
    let subscriptions = crate::gate::Gate::new(config.max_subscriptions_per_user, usize::MAX);
    Ok(AppState {
        db,
        backend,
        subscriptions,
        keys: Arc::new(JwtKeys::new(secret.as_bytes())),
        links: Arc::new(crate::auth::links::LinkKey::derive(secret.as_bytes())),
        rotation: Arc::new(crate::auth::rotation::RotationKey::derive(
            secret.as_bytes(),
        )),
        limiter: Arc::new(limiter),
        users: Arc::default(),
        sessions: Arc::default(),
        outbox: crate::mail::Outbox::from_config(&config)?,
        config: Arc::new(*config),
        storage,
        queue,
        bus,
        process: Arc::new(crate::state::Process::new()),
    })
}

/// `organizer worker`: workers only, until SIGTERM; then no new jobs are taken, the jobs
/// in hand get `SHUTDOWN_GRACE_SECS` to finish, and what is still running is handed back
/// (it resumes on another worker from its records). `/health` and `/ready` answer on
/// `BIND` for orchestrators.
pub async fn run_worker(config: Box<Config>) -> anyhow::Result<()> {
    let state = build_state(config).await?;
    if state.queue.backend_name() == "in-process" {
        tracing::warn!(
            "no REDIS_URL: this worker only sees jobs queued in its own process (none); set REDIS_URL to share the queue with `serve`"
        );
    }
    let mut workers = worker::spawn_workers(&state.engine(), state.config.workers.max(1));
    workers.extend(crate::operations::trash::spawn_retention(state.clone()));
    if let Some(bind) = &state.config.metrics_bind {
        crate::metrics::serve(state.clone(), bind).await?;
    }
    let listener = TcpListener::bind(&state.config.bind)
        .await
        .with_context(|| format!("could not listen on {}", state.config.bind))?;
    tracing::info!(
        address = %listener.local_addr()?,
        name = %state.process.name,
        workers = state.config.workers.max(1),
        queue = state.queue.backend_name(),
        "worker running; /health and /ready answer here"
    );
    let probes = axum::serve(
        listener,
        http::probes(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    );
    tokio::select! {
        result = probes => result.context("probe server error")?,
        () = shutdown_signal() => {}
    }
    stop_workers(&state, workers).await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Stops taking jobs; lets the current ones finish for `SHUTDOWN_GRACE_SECS`, then hands
/// them back (they resume elsewhere, or here at the next start, from their records).
async fn stop_workers(state: &AppState, workers: Vec<tokio::task::JoinHandle<()>>) {
    if workers.is_empty() {
        return;
    }
    let grace = std::time::Duration::from_secs(state.config.shutdown_grace_secs);
    tracing::info!(grace_secs = grace.as_secs(), "stopping: no new jobs");
    let _ = state.process.stopping.send(true);
    let all = futures::future::join_all(workers);
    if tokio::time::timeout(grace + std::time::Duration::from_secs(5), all)
        .await
        .is_err()
    {
        tracing::warn!("workers did not stop in time; leaving (their leases run out)");
    }
}

/// Raises the soft limit on open files to the hard limit, where the OS allows: each
/// connection, upload in flight and database handle costs a descriptor, and the common
/// default soft limit (1024) is far below what a busy server needs.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let before = limit.current;
            limit.current = limit.maximum;
            match setrlimit(Resource::Nofile, limit) {
                Ok(()) => {
                    tracing::info!(from = ?before, to = ?limit.current, "raised the open-file limit")
                }
                Err(err) => tracing::warn!(error = %err, "could not raise the open-file limit"),
            }
        }
    }
}

/// Everything the server creates (database, WAL, secret, users' files) is readable by its
/// owner only: a umask of 077 for the process, and the data folder itself made 0700 when
/// this process's user owns it.
fn keep_files_private(data_dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
        if std::fs::create_dir_all(data_dir).is_ok()
            && let Ok(meta) = std::fs::metadata(data_dir)
            && meta.permissions().mode() & 0o077 != 0
            && rustix::process::geteuid().as_raw() == std::os::unix::fs::MetadataExt::uid(&meta)
        {
            let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700));
        }
    }
}

/// Example secrets from documentation and compose files: anyone could sign tokens with them.
fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    [
        "change-me",
        "changeme",
        "replace-me",
        "your-secret",
        "example",
        "placeholder",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || secret
            .chars()
            .all(|c| c == secret.chars().next().unwrap_or('x'))
}

/// `JWT_SECRET`, or the secret kept in the data folder, generated on first start.
fn jwt_secret(config: &Config) -> anyhow::Result<String> {
    if let Some(secret) = &config.jwt_secret {
        anyhow::ensure!(
            secret.len() >= MIN_JWT_SECRET_LEN,
            "JWT_SECRET must be at least {MIN_JWT_SECRET_LEN} characters"
        );
        anyhow::ensure!(
            !is_placeholder(secret),
            "JWT_SECRET is an example value; generate one, e.g. `openssl rand -hex 32`"
        );
        return Ok(secret.clone());
    }
    let path = config.database.data_dir.join("jwt_secret");
    if path.exists() {
        let secret = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?
            .trim()
            .to_string();
        anyhow::ensure!(
            secret.len() >= MIN_JWT_SECRET_LEN,
            "{} must hold at least {MIN_JWT_SECRET_LEN} characters",
            path.display()
        );
        return Ok(secret);
    }
    let secret = secrets::random_alphanumeric(64);
    write_private(&path, &secret)?;
    tracing::warn!(path = %path.display(), "generated a new JWT secret; set JWT_SECRET to share one between processes");
    Ok(secret)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

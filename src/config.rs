//! Configuration: command-line flags with environment fallbacks (and `.env`, read by
//! `main`). `Config` is what `serve` runs with; `Debug` redacts secrets, so it is safe
//! to log.

use std::{net::IpAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "organizer",
    version,
    about = "Organizer: sort, deduplicate and un-do changes to your files, over GraphQL."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app and the GraphQL API (HTTP and WebSocket), with `--workers`
    /// in-process workers. Runs pending migrations first.
    Serve(Box<Config>),
    /// Run workers only (`--workers` of them), for scaling out beside `serve --workers 0`;
    /// needs `REDIS_URL` to share the job queue. Answers `/health` and `/ready` on `BIND`.
    Worker(Box<Config>),
    /// Run pending database migrations, then exit.
    Migrate(DatabaseArgs),
    /// Print the GraphQL schema (SDL) to standard output.
    Schema,
}

/// Where the data lives; shared by every command that touches the database.
#[derive(Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    /// Default: a SQLite file `organizer.db` in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Folder for the embedded defaults: the SQLite database and the generated JWT secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

impl DatabaseArgs {
    /// The URL to connect to, falling back to the SQLite file in the data folder
    /// (`mode=rwc` creates it on first start).
    pub fn effective_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("organizer.db").display()
            ),
        }
    }
}

impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseArgs")
            .field("database_url", &redact_url(&self.effective_url()))
            .field("data_dir", &self.data_dir)
            .finish()
    }
}

/// Everything `organizer serve` runs with.
#[derive(Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address to listen on. Port 0 picks a free port.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,

    /// Secret for signing access tokens (at least 32 characters). Processes of one
    /// deployment must share it. Default: generated once into `<data-dir>/jwt_secret`.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Comma-separated origins allowed by CORS (`*` for any). Default: none (same origin only).
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Where users' files live: `fs:///absolute/path`, `memory://` (lost on exit), or
    /// `s3://bucket?endpoint=…&region=…` (with the `s3` build feature). Default: `fs` under
    /// `<data-dir>/storage`.
    #[arg(long, env = "STORAGE_URL")]
    pub storage_url: Option<String>,

    /// Largest accepted upload request (all files of one `uploadFiles`), in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Testing aid, hidden: a worker stops dead, as if killed, once this many files of a
    /// run have been claimed (written ahead), at the point `fault_stop_at` names.
    #[arg(long, env = "ORGANIZER_FAULT_STOP_AFTER_FILES", hide = true)]
    pub fault_stop_after_files: Option<u64>,

    /// Testing aid, hidden: where that worker stops: before the claimed files move, or
    /// after they moved but before their outcomes are written.
    #[arg(long, env = "ORGANIZER_FAULT_STOP_AT", hide = true, value_enum, default_value_t = FaultPoint::Claimed)]
    pub fault_stop_at: FaultPoint,

    /// Number of in-process workers that run operations (0: API only).
    #[arg(long, env = "WORKERS", default_value_t = 2)]
    pub workers: usize,

    /// Comma-separated addresses of reverse proxies whose `X-Forwarded-For` is believed.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Turn off schema introspection and "did you mean" suggestions in errors.
    #[arg(long, env = "DISABLE_INTROSPECTION")]
    pub disable_introspection: bool,

    /// Attempts per minute at signup, login and refreshToken from one client address
    /// (each operation counted on its own).
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_IP", default_value_t = 30)]
    pub auth_rate_limit_per_ip: u32,

    /// Attempts per minute at signup, login and refreshToken for one account (email, login
    /// name or session).
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_ACCOUNT", default_value_t = 10)]
    pub auth_rate_limit_per_account: u32,

    /// Operations with more files than this do not update the search index file by file
    /// (at a million files on SQLite that made a rollback several times slower); the
    /// user's index is built again, from one walk, on the next search.
    #[arg(long, env = "SEARCH_FOLLOW_MAX_MOVES", default_value_t = 20_000)]
    pub search_follow_max_moves: i64,

    /// On PostgreSQL, a search with at most this many hits reads, counts and sorts them
    /// all at once; one with more counts names from an index and reads its page in name
    /// order (sorting every hit of a common word took most of a second at a million files).
    #[arg(long, env = "SEARCH_SORT_MAX_HITS", default_value_t = 30_000)]
    pub search_sort_max_hits: u64,

    /// refreshToken calls per minute for one account. Higher than the sign-in limit: a
    /// refresh needs a live refresh token, and every tab a person opens refreshes once.
    #[arg(long, env = "REFRESH_RATE_LIMIT_PER_ACCOUNT", default_value_t = 60)]
    pub refresh_rate_limit_per_account: u32,

    /// Seconds before a request (other than a WebSocket) is cut off.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Redis (`redis://[:password@]host:6379/0`): shares the job queue (Streams), the
    /// progress bus (pub/sub) and the rate limits between processes. Default: all three
    /// in-process (one process only).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Seconds a worker holds an operation without renewing its lease; a worker that
    /// died is taken over after this long.
    #[arg(long, env = "LEASE_SECS", default_value_t = 30)]
    pub lease_secs: u64,

    /// Seconds a stopping worker (SIGTERM) lets its current operation run before handing
    /// it back to the queue (it resumes elsewhere from its records).
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Largest accepted request body for queries and mutations, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Open WebSocket connections allowed per signed-in user.
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", default_value_t = 256)]
    pub ws_max_connections_per_user: usize,

    /// Open WebSocket connections allowed per client address (per /64 for IPv6).
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 512)]
    pub ws_max_connections_per_address: usize,

    /// Live subscriptions allowed per user, across all of their connections.
    #[arg(long, env = "MAX_SUBSCRIPTIONS_PER_USER", default_value_t = 1000)]
    pub max_subscriptions_per_user: usize,

    /// Seconds an upload may send nothing before it is cut off.
    #[arg(long, env = "UPLOAD_IDLE_SECS", default_value_t = 10)]
    pub upload_idle_secs: u64,

    /// Where to serve Prometheus metrics (`/metrics`), e.g. `127.0.0.1:9100`; off unless
    /// set. Never the public port: put it where only the scraper reaches.
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,

    /// Seconds a job delivered to a worker may go unacknowledged before another worker
    /// takes it (a worker that died between reading and acknowledging it). For tests.
    #[arg(
        long,
        env = "ORGANIZER_RECLAIM_IDLE_SECS",
        hide = true,
        default_value_t = 60
    )]
    pub reclaim_idle_secs: u64,

    /// Email addresses of the server's administrators (as is the first account): they
    /// list and manage accounts and see deployment-wide figures in `serverStatus`.
    #[arg(long, env = "ADMIN_EMAILS", value_delimiter = ',')]
    pub admin_emails: Vec<String>,

    /// Operations a user may have queued or running at once.
    #[arg(long, env = "MAX_ACTIVE_OPERATIONS_PER_USER", default_value_t = 20)]
    pub max_active_operations_per_user: u64,

    /// Days a file stays in the trash before it is deleted for good; unset (the default):
    /// until its owner empties the trash.
    #[arg(long, env = "TRASH_RETENTION_DAYS")]
    pub trash_retention_days: Option<u32>,

    /// Where mail goes: `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://…:465` (TLS) or `smtp://host:25` (plain, for a relay on the same machine).
    /// Unset: each message is written to `<data-dir>/outbox/` as an `.eml` file.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of the server's mail.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Organizer <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// The address people reach the web app at, for links in mail (e.g.
    /// `https://files.example.com`). Unset: `http://localhost:<port of BIND>`.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Refuse to run operations for an account whose email address is not verified.
    #[arg(long, env = "REQUIRE_VERIFIED_EMAIL", default_value_t = false)]
    pub require_verified_email: bool,
}

impl Config {
    /// The configuration with every default, ignoring flags (environment variables still
    /// apply). Tests start from this and override what they need.
    pub fn from_env() -> Self {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        Wrapper::try_parse_from(["organizer"])
            .expect("defaults parse")
            .config
    }

    /// Whether this address belongs to an operator (`ADMIN_EMAILS`, case-insensitive).
    pub fn is_admin_email(&self, email: &str) -> bool {
        self.admin_emails
            .iter()
            .any(|admin| admin.trim().eq_ignore_ascii_case(email))
    }

    /// The web app's address for links in mail, without a trailing `/`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let port = self.bind.rsplit(':').next().unwrap_or("8080");
                format!("http://localhost:{port}")
            }
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database)
            .field("bind", &self.bind)
            .field(
                "jwt_secret",
                &self
                    .jwt_secret
                    .as_ref()
                    .map(|_| "<redacted>")
                    .unwrap_or("<from data dir>"),
            )
            .field("cors_origins", &self.cors_origins)
            .field("storage_url", &self.storage_url.as_deref().map(redact_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("lease_secs", &self.lease_secs)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("workers", &self.workers)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("disable_introspection", &self.disable_introspection)
            .field("auth_rate_limit_per_ip", &self.auth_rate_limit_per_ip)
            .field(
                "auth_rate_limit_per_account",
                &self.auth_rate_limit_per_account,
            )
            .field(
                "refresh_rate_limit_per_account",
                &self.refresh_rate_limit_per_account,
            )
            .field("search_follow_max_moves", &self.search_follow_max_moves)
            .field("search_sort_max_hits", &self.search_sort_max_hits)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_body_bytes", &self.max_body_bytes)
            .field(
                "ws_max_connections_per_user",
                &self.ws_max_connections_per_user,
            )
            .field(
                "ws_max_connections_per_address",
                &self.ws_max_connections_per_address,
            )
            .field(
                "max_subscriptions_per_user",
                &self.max_subscriptions_per_user,
            )
            .field("upload_idle_secs", &self.upload_idle_secs)
            .field("metrics_bind", &self.metrics_bind)
            .field("reclaim_idle_secs", &self.reclaim_idle_secs)
            .field("admin_emails", &self.admin_emails.len())
            .field(
                "max_active_operations_per_user",
                &self.max_active_operations_per_user,
            )
            .field("trash_retention_days", &self.trash_retention_days)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("public_url", &self.public_url)
            .field("require_verified_email", &self.require_verified_email)
            .finish()
    }
}

/// Hides the password of a URL such as `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/organizer"),
            "postgres://app:<redacted>@db:5432/organizer"
        );
        assert_eq!(
            redact_url("postgres://app@db/organizer"),
            "postgres://app@db/organizer"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }

    #[test]
    fn debug_output_never_shows_the_jwt_secret() {
        let mut config = Config::from_env();
        config.jwt_secret = Some("a-very-secret-value-that-must-not-leak".into());
        config.database.database_url = Some("postgres://u:pw123@h/db".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("a-very-secret"));
        assert!(!shown.contains("pw123"));
    }
}

/// Where a worker stopped by `fault_stop_after_files` stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultPoint {
    /// Its batch's destinations claimed (written ahead), no file moved.
    #[default]
    Claimed,
    /// Its batch's files moved, their outcomes not written.
    Moved,
}

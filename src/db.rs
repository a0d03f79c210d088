//! The database: connecting (SQLite or PostgreSQL from one URL) and migrating.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::{DatabaseArgs, redact_url};

/// Which database a URL names; the rest of the code rarely needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got {})",
                redact_url(url)
            )
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }
}

/// Connects, creating the data folder for the embedded SQLite default.
///
/// SQLite runs in WAL mode (readers never wait for the writer) with foreign keys on and a
/// busy timeout, so concurrent requests queue for the write lock instead of failing.
pub async fn connect(args: &DatabaseArgs) -> anyhow::Result<(DatabaseConnection, Backend)> {
    let url = args.effective_url();
    let backend = Backend::of_url(&url)?;
    if args.database_url.is_none() {
        std::fs::create_dir_all(&args.data_dir).with_context(|| {
            format!(
                "could not create the data folder {}",
                args.data_dir.display()
            )
        })?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    match backend {
        Backend::Sqlite => {
            // A connection to a local file does not go stale: skip sqlx's ping (a round
            // trip to the connection's thread) before each query.
            options.max_connections(8).test_before_acquire(false);
            options.map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        Backend::Postgres => {
            options.max_connections(20);
            // A process frozen in the middle of a transaction (SIGSTOP, a hung machine)
            // would hold its locks until its connection died; the server ends such a
            // session instead, so a worker that takes over is not held up for long.
            options.map_sqlx_postgres_opts(|opts| {
                opts.options([("idle_in_transaction_session_timeout", "10s")])
            });
        }
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("could not connect to the database at {}", redact_url(&url)))?;
    Ok((db, backend))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// `organizer migrate`.
pub async fn migrate_command(args: &DatabaseArgs) -> anyhow::Result<()> {
    let (db, backend) = connect(args).await?;
    migrate(&db).await?;
    tracing::info!(backend = backend.name(), "migrations applied");
    Ok(())
}

/// Connections the pool holds, and how many of them are idle (for metrics).
pub fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// SQLite's `SQLITE_BUSY_SNAPSHOT` (517): in WAL mode a write that began reading an older
/// snapshot than the latest commit is refused at once (the busy timeout does not apply,
/// since waiting cannot help that statement). Running the statement again can.
fn is_stale_snapshot(err: &sea_orm::DbErr) -> bool {
    let text = err.to_string();
    text.contains("(code: 517)") || text.contains("(code: 261)")
}

/// Runs an autocommit write, again (up to four more times, a few milliseconds apart) when
/// SQLite refused it for a stale snapshot. Not for a statement inside a transaction: the
/// whole transaction would have to run again.
pub async fn retry_stale<T, F, Fut>(mut write: F) -> Result<T, sea_orm::DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sea_orm::DbErr>>,
{
    let mut delay = Duration::from_millis(5);
    for _ in 0..4 {
        match write().await {
            Err(err) if is_stale_snapshot(&err) => {
                tracing::debug!(error = %err, "a write met a stale snapshot; running it again");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
    write().await
}

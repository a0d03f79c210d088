//! Finding files by name across a user's whole space without reading it: an index of
//! every file (`search_entries`) that uploads and operations keep up to date, searched by
//! trigrams (SQLite FTS5, PostgreSQL `pg_trgm`) and narrow indexes, sorted and paged by the
//! database.
//! A user's index is built from one walk of the space on their first search.

mod build;
mod ids;
pub mod maintain;
mod ordered;
mod postgres;
mod sort_key;
mod sqlite;

use chrono::{DateTime, Utc};
use entity::search_indexes;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Statement, Value,
};
use uuid::Uuid;

pub use build::ensure;
pub use sort_key::sort_key;

use crate::storage::FileMeta;

/// How a listing is ordered: folders always first, then by this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Natural and case-insensitive: `file 2` before `File 10`.
    #[default]
    Name,
    NameDesc,
    Size,
    SizeDesc,
    Modified,
    ModifiedDesc,
}

/// Bounds on a file's size and modified time, each optional.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds {
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
    pub modified_after: Option<DateTime<Utc>>,
    pub modified_before: Option<DateTime<Utc>>,
}

impl Bounds {
    pub fn admit(&self, file: &FileMeta) -> bool {
        self.min_size.is_none_or(|min| file.size >= min)
            && self.max_size.is_none_or(|max| file.size <= max)
            && self
                .modified_after
                .is_none_or(|t| file.modified.is_some_and(|m| m >= t))
            && self
                .modified_before
                .is_none_or(|t| file.modified.is_some_and(|m| m < t))
    }
}

/// A search: the files under `folder` whose name holds `words` (lower-cased), in any case.
pub struct Query<'a> {
    pub words: &'a str,
    pub folder: &'a str,
    pub bounds: Bounds,
    pub sort: Sort,
    /// The most hits read, counted and sorted at once (PostgreSQL; see `postgres`).
    pub sort_max_hits: u64,
}

/// Which of the matches to read: a page (offset and count) or all of them.
#[derive(Clone, Copy)]
pub enum Window {
    Page { offset: u64, limit: u64 },
    All,
}

#[derive(FromQueryResult)]
struct Found {
    path: String,
    size_bytes: i64,
    modified_at: Option<DateTime<Utc>>,
    total: i64,
}

/// Whether the user's index is complete.
pub async fn ready(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<bool> {
    Ok(search_indexes::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some())
}

/// The matches in `window` and how many there are in all. The caller has made sure the
/// index is ready.
pub async fn find(
    db: &DatabaseConnection,
    user_id: Uuid,
    query: &Query<'_>,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    match db.get_database_backend() {
        DbBackend::Sqlite => sqlite::find(db, user_id, query, window).await,
        _ => postgres::find(db, user_id, query, window).await,
    }
}

/// The conditions of a query's folder and bounds on the joined row `e`.
fn filters(sql: &mut Sql, query: &Query<'_>) -> String {
    let mut filter = String::new();
    if !query.folder.is_empty() {
        filter += &format!(
            " AND e.path LIKE {} ESCAPE '\\'",
            sql.bind(format!("{}/%", escape_like(query.folder)))
        );
    }
    let bounds = query.bounds;
    if let Some(min) = bounds.min_size {
        filter += &format!(" AND e.size_bytes >= {}", sql.bind(min as i64));
    }
    if let Some(max) = bounds.max_size {
        filter += &format!(
            " AND e.size_bytes <= {}",
            sql.bind(max.min(i64::MAX as u64) as i64)
        );
    }
    if let Some(after) = bounds.modified_after {
        filter += &format!(" AND e.modified_at >= {}", sql.bind(after));
    }
    if let Some(before) = bounds.modified_before {
        filter += &format!(" AND e.modified_at < {}", sql.bind(before));
    }
    filter
}

/// The rows of `filter` (a `FROM … WHERE …` over `e`) in `window`, sorted, and how many
/// there are in all: one pass gives the page and, beside each row, the total.
async fn page(
    db: &impl ConnectionTrait,
    mut sql: Sql,
    filter: String,
    order: String,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    let backend = sql.backend;
    let count_values = sql.values.clone();
    let mut select = format!(
        "SELECT e.path, e.size_bytes, e.modified_at, COUNT(*) OVER () AS total {filter} ORDER BY {order}"
    );
    if let Window::Page { offset, limit } = window {
        select += &format!(
            " LIMIT {} OFFSET {}",
            sql.bind(limit as i64),
            sql.bind(offset as i64)
        );
    }
    let found =
        Found::find_by_statement(Statement::from_sql_and_values(backend, select, sql.values))
            .all(db)
            .await?;
    let total = match found.first() {
        Some(row) => row.total as u64,
        // A page past the end holds no row to tell the total: count.
        None => db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT COUNT(*) AS n {filter}"),
                count_values,
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0) as u64,
    };
    let files = found
        .into_iter()
        .map(|f| FileMeta {
            path: f.path,
            is_dir: false,
            size: f.size_bytes.max(0) as u64,
            modified: f.modified_at,
        })
        .collect();
    Ok((files, total))
}

/// The `ORDER BY` of a sort, ties by name and then path so pages never overlap.
fn order(backend: DbBackend, sort: Sort) -> String {
    // PostgreSQL would compare by the database's collation; the key is meant as bytes.
    let key = match backend {
        DbBackend::Postgres => "e.sort_key COLLATE \"C\"",
        _ => "e.sort_key",
    };
    let path = match backend {
        DbBackend::Postgres => "e.path COLLATE \"C\"",
        _ => "e.path",
    };
    match sort {
        Sort::Name => format!("{key}, {path}"),
        Sort::NameDesc => format!("{key} DESC, {path} DESC"),
        Sort::Size => format!("e.size_bytes, {key}, {path}"),
        Sort::SizeDesc => format!("e.size_bytes DESC, {key}, {path}"),
        Sort::Modified => format!("e.modified_at, {key}, {path}"),
        Sort::ModifiedDesc => format!("e.modified_at DESC, {key}, {path}"),
    }
}

/// `%`, `_` and the escape itself (`\`) taken literally in a `LIKE` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A statement's text and values, placeholders numbered for the backend.
struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_string(),
        }
    }
}

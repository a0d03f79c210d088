//! PostgreSQL: names are matched on `folded` (the name lower-cased by the database, a
//! generated column) and live files told from the trash by `in_trash`. For a first page by
//! name, a word of three characters or more that the planner expects to be rare is found
//! by the trigram index, its hits (up to `Query::sort_max_hits`) counted and sorted in one
//! statement. Any other word is counted from the narrow `(user_id, in_trash, folded)`
//! index, read index-only with `strpos`, which no trigram index answers (a trigram index
//! must read each candidate row again, its matches being approximate: for a common word
//! that costs more than reading every name; and it cannot find words under three
//! characters), and its page read in name order from `(user_id, in_trash, sort_key, path)
//! INCLUDE (folded)`, index-only, until the page is full. Other searches join and sort
//! every hit. Each search runs in one transaction planned for its own words.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
    Value,
};
use uuid::Uuid;

use super::{Bounds, Query, Sort, Sql, Window, escape_like, filters, order, page};
use crate::storage::FileMeta;

/// The trigram index is asked when the planner expects fewer hits than this (its
/// estimates are rough: a word estimated at 10,000 had 13,566).
const TRIGRAM_BELOW: f64 = 20_000.0;

/// The live rows of the user whose name holds `$2`.
const LIVE: &str = "FROM search_entries WHERE user_id = $1 AND NOT in_trash";

/// Matched by the trigram index.
const BY_TRIGRAMS: &str = "folded LIKE lower($2)";
/// Matched by reading names (`$2` the words themselves): `strpos` is the same match as
/// `LIKE '%words%'`, and no trigram index can answer it, so the plan reads the narrow
/// index instead.
const BY_NAMES: &str = "strpos(folded, lower($2)) > 0";

#[derive(FromQueryResult)]
struct Row {
    path: String,
    size_bytes: i64,
    modified_at: Option<DateTime<Utc>>,
}

impl Row {
    fn file(self) -> FileMeta {
        FileMeta {
            path: self.path,
            is_dir: false,
            size: self.size_bytes.max(0) as u64,
            modified: self.modified_at,
        }
    }
}

pub async fn find(
    db: &DatabaseConnection,
    user_id: Uuid,
    query: &Query<'_>,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    // PostgreSQL text cannot hold NUL, and no name holds a control character.
    if query.words.chars().any(char::is_control) {
        return Ok((Vec::new(), 0));
    }
    let pattern = format!("%{}%", escape_like(query.words));
    let txn = db.begin().await?;
    // A prepared statement reused with a generic plan would not know the words: one plan
    // for `e` and for `zqxjv` is wrong for one of them.
    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
        .await?;
    let found = match window {
        Window::Page { offset, limit }
            if query.folder.is_empty()
                && query.bounds == Bounds::default()
                && query.sort == Sort::Name =>
        {
            by_name(&txn, user_id, query, &pattern, offset, limit).await?
        }
        _ => joined(&txn, user_id, &pattern, query, window).await?,
    };
    txn.commit().await?;
    Ok(found)
}

async fn by_name(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    query: &Query<'_>,
    pattern: &str,
    offset: u64,
    limit: u64,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    let rare = query.words.chars().count() >= 3
        && expected_hits(db, user_id, pattern).await? < TRIGRAM_BELOW;
    let most = query.sort_max_hits.min(i64::MAX as u64 - 1) as i64;
    if rare && let Some(found) = few(db, user_id, pattern, most, offset, limit).await? {
        return Ok(found);
    }
    let total = count(db, user_id, query.words).await?;
    let files = if offset < total {
        in_name_order(db, user_id, query.words, offset, limit).await?
    } else {
        Vec::new()
    };
    Ok((files, total))
}

/// The planner's estimate of the hits (from the column's statistics).
async fn expected_hits(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    pattern: &str,
) -> anyhow::Result<f64> {
    let plan = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("EXPLAIN (FORMAT JSON) SELECT 1 {LIVE} AND {BY_TRIGRAMS}"),
            [user_id.into(), pattern.into()],
        ))
        .await?
        .map(|row| row.try_get_by_index::<serde_json::Value>(0))
        .transpose()?;
    Ok(plan
        .as_ref()
        .and_then(|p| p.pointer("/0/Plan/Plan Rows"))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::INFINITY))
}

#[derive(FromQueryResult)]
struct FewRow {
    total: i64,
    path: Option<String>,
    size_bytes: Option<i64>,
    modified_at: Option<DateTime<Utc>>,
}

/// Every hit, found by the trigram index, counted and sorted, and the page of them; None
/// when there are more than `most`.
async fn few(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    pattern: &str,
    most: i64,
    offset: u64,
    limit: u64,
) -> anyhow::Result<Option<(Vec<FileMeta>, u64)>> {
    // One row even when the page is empty, to carry the total.
    let rows = FewRow::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "WITH hits AS MATERIALIZED (SELECT id {LIVE} AND {BY_TRIGRAMS} LIMIT $5), \
             page AS (SELECT e.path, e.sort_key, e.size_bytes, e.modified_at \
               FROM hits JOIN search_entries e ON e.id = hits.id \
               ORDER BY e.sort_key COLLATE \"C\", e.path COLLATE \"C\" LIMIT $3 OFFSET $4) \
             SELECT (SELECT COUNT(*) FROM hits) AS total, page.path, page.size_bytes, page.modified_at \
             FROM (SELECT 1) AS one LEFT JOIN page ON true \
             ORDER BY page.sort_key COLLATE \"C\", page.path COLLATE \"C\""
        ),
        [
            user_id.into(),
            pattern.into(),
            (limit as i64).into(),
            (offset as i64).into(),
            (most + 1).into(),
        ],
    ))
    .all(db)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    if total > most {
        return Ok(None);
    }
    let files = rows
        .into_iter()
        .filter_map(|r| {
            Some(Row {
                path: r.path?,
                size_bytes: r.size_bytes?,
                modified_at: r.modified_at,
            })
        })
        .map(Row::file)
        .collect();
    Ok(Some((files, total as u64)))
}

/// How many live names hold the words, from the narrow index.
async fn count(db: &impl ConnectionTrait, user_id: Uuid, words: &str) -> anyhow::Result<u64> {
    // With every row of one user matching `user_id`, the planner prices a parallel read of
    // the table below the narrow index, which is faster (80 ms against 130 at 1M).
    db.execute_unprepared("SET LOCAL enable_seqscan = off")
        .await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n {LIVE} AND {BY_NAMES}"),
            [user_id.into(), words.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0) as u64)
}

/// The live hits from `offset` in name order: their paths from the order index, then
/// their rows.
async fn in_name_order(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    words: &str,
    offset: u64,
    limit: u64,
) -> anyhow::Result<Vec<FileMeta>> {
    let values: [Value; 4] = [
        user_id.into(),
        words.into(),
        (limit as i64).into(),
        (offset as i64).into(),
    ];
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "WITH hits AS (SELECT path, sort_key {LIVE} AND {BY_NAMES} \
               ORDER BY sort_key COLLATE \"C\", path COLLATE \"C\" LIMIT $3 OFFSET $4) \
             SELECT e.path, e.size_bytes, e.modified_at FROM hits \
             JOIN search_entries e ON e.user_id = $1 AND e.path = hits.path \
             ORDER BY hits.sort_key COLLATE \"C\", hits.path COLLATE \"C\""
        ),
        values,
    ))
    .all(db)
    .await?;
    Ok(rows.into_iter().map(Row::file).collect())
}

/// Any search: every hit filtered, sorted and paged by the database.
async fn joined(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    pattern: &str,
    query: &Query<'_>,
    window: Window,
) -> anyhow::Result<(Vec<FileMeta>, u64)> {
    let mut sql = Sql::new(DbBackend::Postgres);
    let from = format!(
        "FROM search_entries e WHERE e.user_id = {} AND NOT e.in_trash AND e.folded LIKE lower({})",
        sql.bind(user_id),
        sql.bind(pattern),
    );
    let filter = format!("{from}{}", filters(&mut sql, query));
    page(
        db,
        sql,
        filter,
        order(DbBackend::Postgres, query.sort),
        window,
    )
    .await
}

//! PostgreSQL: names are matched on `folded` (the name lower-cased by the database, a
//! generated column) and live files told from the trash by `in_trash`. A first page by
//! name walks `(user_id, in_trash, sort_key, path) INCLUDE (folded)` in order, index-only,
//! until it has its hits (or the planner takes the trigram index and sorts the few hits
//! of a rare word). The count reads the trigram index when the planner expects few hits,
//! else every live name from the narrow `(user_id, in_trash, folded)` index: a trigram
//! index must read each candidate row again (its matches are approximate), and for a
//! common word that costs more than reading every name. Other searches join and sort
//! every hit. Each search runs in one transaction planned for its own words.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
};
use uuid::Uuid;

use super::{Bounds, Query, Sort, Sql, Window, escape_like, filters, order, page};
use crate::storage::FileMeta;

/// Below this many expected hits the trigram index counts (a hit costs it about a
/// microsecond); above it, reading every live name from the narrow index is cheaper.
const FEW_HITS: f64 = 30_000.0;

#[derive(FromQueryResult)]
struct Row {
    path: String,
    size_bytes: i64,
    modified_at: Option<chrono::DateTime<chrono::Utc>>,
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
            let files = first_by_name(&txn, user_id, &pattern, offset, limit).await?;
            // A short page tells the count, unless it is past the end.
            let total = if (files.len() as u64) < limit && (!files.is_empty() || offset == 0) {
                offset + files.len() as u64
            } else {
                let short = query.words.chars().count() < 3;
                count(&txn, user_id, &pattern, short).await?
            };
            (files, total)
        }
        _ => joined(&txn, user_id, &pattern, query, window).await?,
    };
    txn.commit().await?;
    Ok(found)
}

/// The live hits from `offset` in name order: their paths from the order index, then
/// their rows.
async fn first_by_name(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    pattern: &str,
    offset: u64,
    limit: u64,
) -> anyhow::Result<Vec<FileMeta>> {
    let rows = Row::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "WITH hits AS (SELECT path, sort_key FROM search_entries \
           WHERE user_id = $1 AND NOT in_trash AND folded LIKE lower($2) \
           ORDER BY sort_key COLLATE \"C\", path COLLATE \"C\" LIMIT $3 OFFSET $4) \
         SELECT e.path, e.size_bytes, e.modified_at FROM hits \
         JOIN search_entries e ON e.user_id = $1 AND e.path = hits.path \
         ORDER BY hits.sort_key COLLATE \"C\", hits.path COLLATE \"C\"",
        [
            user_id.into(),
            pattern.into(),
            (limit as i64).into(),
            (offset as i64).into(),
        ],
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FileMeta {
            path: r.path,
            is_dir: false,
            size: r.size_bytes.max(0) as u64,
            modified: r.modified_at,
        })
        .collect())
}

/// How many live names hold the words. A trigram index cannot find `short` words (under
/// three characters).
async fn count(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    pattern: &str,
    short: bool,
) -> anyhow::Result<u64> {
    let hits = "FROM search_entries WHERE user_id = $1 AND NOT in_trash";
    let values = || [user_id.into(), pattern.into()];
    let expected = if short {
        f64::INFINITY
    } else {
        expected_hits(db, hits, values()).await?
    };
    // `COLLATE "C"` (the same match for these patterns) keeps the trigram index, built
    // for the default collation, out of the plan.
    let matched = if expected < FEW_HITS {
        "folded LIKE lower($2)"
    } else {
        "folded COLLATE \"C\" LIKE lower($2)"
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n {hits} AND {matched}"),
            values(),
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0) as u64)
}

/// The planner's estimate of the hits (from the column's statistics).
async fn expected_hits(
    db: &impl ConnectionTrait,
    hits: &str,
    values: [sea_orm::Value; 2],
) -> anyhow::Result<f64> {
    let plan = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("EXPLAIN (FORMAT JSON) SELECT 1 {hits} AND folded LIKE lower($2)"),
            values,
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

//! SQLite: a build numbers the user's live files in name order, so that the first hits
//! of a search in id order are its first hits by name. The walk stages the files
//! (`search_staging`, keyed by name order); they are then copied in that order, a chunk
//! per transaction, each chunk's ids following the last.

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionSession, TransactionTrait, Value};
use uuid::Uuid;

use super::{
    ids,
    sort_key::{letters, sort_key},
};
use crate::storage::{FileMeta, paths};

/// Files copied per transaction.
const CHUNK: i64 = 10_000;

/// Rows per staging statement (seven values each).
const STAGE_ROWS: usize = 1000;

/// Forgets what an earlier build left staged.
pub async fn clear(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "DELETE FROM search_staging WHERE user_id = ?",
        [user_id.into()],
    ))
    .await?;
    Ok(())
}

/// Stages live files met by the walk.
pub async fn stage(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    files: &[FileMeta],
) -> anyhow::Result<()> {
    for chunk in files.chunks(STAGE_ROWS) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for file in chunk {
            let name = paths::name(&file.path);
            values.extend([
                user_id.into(),
                file.path.clone().into(),
                name.to_string().into(),
                sort_key(name).into(),
                (file.size as i64).into(),
                file.modified.into(),
                letters(name).into(),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!(
                "INSERT INTO search_staging (user_id, path, name, sort_key, size_bytes, modified_at, letters) \
                 VALUES {rows} ON CONFLICT DO NOTHING"
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Copies the staged files into the index in name order. Returns the first and last ids
/// given, or `(0, 0)` when none were or another row came between them (an upload while
/// the copy ran: the order then holds nowhere, and searches sort every hit).
pub async fn number(
    db: &(impl ConnectionTrait + TransactionTrait),
    user_id: Uuid,
) -> anyhow::Result<(i64, i64)> {
    let owner = ids::owner(db, user_id).await?;
    let live = owner.live;
    let mut first = None;
    let mut copied = 0u64;
    loop {
        let txn = db.begin().await?;
        if first.is_none() {
            first = Some(last_id(&txn, live).await? + 1);
        }
        let inserted = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "INSERT INTO search_entries (id, user_id, path, name, sort_key, size_bytes, modified_at, letters) \
                     SELECT {} + row_number() OVER (ORDER BY sort_key, path), \
                     user_id, path, name, sort_key, size_bytes, modified_at, letters \
                     FROM (SELECT * FROM search_staging WHERE user_id = ? \
                     ORDER BY sort_key, path LIMIT {CHUNK}) \
                     WHERE true ON CONFLICT (user_id, path) DO NOTHING",
                    live.last_taken()
                ),
                [user_id.into()],
            ))
            .await?
            .rows_affected();
        let taken = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "DELETE FROM search_staging WHERE user_id = ?1 AND (sort_key, path) IN \
                     (SELECT sort_key, path FROM search_staging WHERE user_id = ?1 \
                     ORDER BY sort_key, path LIMIT {CHUNK})"
                ),
                [user_id.into()],
            ))
            .await?
            .rows_affected();
        txn.commit().await?;
        copied += inserted;
        if taken == 0 {
            break;
        }
    }
    let (Some(first), true) = (first, copied > 0) else {
        return Ok((0, 0));
    };
    let last = last_id(db, live).await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM search_entries WHERE id >= ? AND id <= ?",
            [first.into(), last.into()],
        ))
        .await?;
    let between = row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(if between as u64 == copied {
        (first, last)
    } else {
        (0, 0)
    })
}

async fn last_id(db: &impl ConnectionTrait, span: ids::Span) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT {} AS id", span.last_taken()),
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "id"))
        .transpose()?
        .unwrap_or(span.lo))
}

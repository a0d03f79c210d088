//! Keeping the index true as files change: uploads add rows, every move an operation
//! makes (organize, cleanup into the trash, rollback, move, delete, restore) moves its
//! row in the same transaction as the move's record, and a purge drops rows. Never at
//! the cost of the change itself: a failing index write is logged and the user's index
//! is marked incomplete (the next search builds it again).

use entity::{search_entries, search_indexes};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
    TransactionSession, TransactionTrait, Value,
};
use uuid::Uuid;

use super::sort_key::sort_key;
use crate::storage::{FileMeta, paths};

/// Rows per statement (SQLite allows 32,766 parameters; a moved row takes four).
const CHUNK: usize = 2000;

/// A new row for a file.
pub(super) fn row(user_id: Uuid, file: &FileMeta) -> search_entries::ActiveModel {
    let name = paths::name(&file.path);
    search_entries::ActiveModel {
        user_id: sea_orm::Set(user_id),
        path: sea_orm::Set(file.path.clone()),
        name: sea_orm::Set(name.to_string()),
        sort_key: sea_orm::Set(sort_key(name)),
        size_bytes: sea_orm::Set(file.size as i64),
        modified_at: sea_orm::Set(file.modified),
        ..Default::default()
    }
}

/// Inserts rows (a row already there for a path is left as it is) and, on SQLite, their
/// names into the trigram table.
pub(super) async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    files: &[FileMeta],
) -> anyhow::Result<()> {
    for chunk in files.chunks(CHUNK / 2) {
        let first_new = next_id(db).await?;
        search_entries::Entity::insert_many(chunk.iter().map(|f| row(user_id, f)))
            .on_conflict_do_nothing_on([
                search_entries::Column::UserId,
                search_entries::Column::Path,
            ])
            .exec(db)
            .await?;
        add_names(db, user_id, first_new).await?;
    }
    Ok(())
}

/// The id the next inserted row gets at the least (ids only grow).
async fn next_id(db: &impl ConnectionTrait) -> anyhow::Result<i64> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(0);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT COALESCE(MAX(id), 0) + 1 AS next FROM search_entries",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "next"))
        .transpose()?
        .unwrap_or(1))
}

/// SQLite: the names of the user's rows from `first_id` on into the trigram table (on
/// PostgreSQL the GIN index follows the table by itself).
pub(super) async fn add_names(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    first_id: i64,
) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO search_names(rowid, name) SELECT id, name FROM search_entries \
         WHERE id >= ? AND user_id = ?",
        [first_id.into(), user_id.into()],
    ))
    .await?;
    Ok(())
}

/// Files stored by an upload.
pub async fn added(db: &impl TransactionTrait, user_id: Uuid, files: &[FileMeta]) {
    let files: Vec<FileMeta> = files.iter().filter(|f| !f.is_dir).cloned().collect();
    if files.is_empty() {
        return;
    }
    let written = async {
        let txn = db.begin().await?;
        insert(&txn, user_id, &files).await?;
        txn.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(err) = written {
        lost_track(db, user_id, err).await;
    }
}

/// Files moved from the first path to the second, inside the caller's transaction (a
/// savepoint keeps a failure here from undoing the caller's work).
pub async fn moved(txn: &impl TransactionTrait, user_id: Uuid, moves: &[(String, String)]) {
    if moves.is_empty() {
        return;
    }
    let written = async {
        let savepoint = txn.begin().await?;
        for chunk in moves.chunks(CHUNK) {
            // A move never replaces a file: a row already at a destination is stale.
            search_entries::Entity::delete_many()
                .filter(search_entries::Column::UserId.eq(user_id))
                .filter(search_entries::Column::Path.is_in(chunk.iter().map(|(_, to)| to)))
                .exec(&savepoint)
                .await?;
            savepoint
                .execute_raw(move_statement(&savepoint, user_id, chunk))
                .await?;
        }
        savepoint.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(err) = written {
        lost_track(txn, user_id, err).await;
    }
}

/// One statement that moves a chunk of rows: the moves as a `VALUES` list joined on
/// `(user_id, path)`. SQLite is told to use that index (without it, it read the whole
/// table once per chunk).
fn move_statement(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    chunk: &[(String, String)],
) -> Statement {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 4 + 1);
    let mut rows = Vec::with_capacity(chunk.len());
    for (i, (from, to)) in chunk.iter().enumerate() {
        let name = paths::name(to);
        values.extend([
            from.clone().into(),
            to.clone().into(),
            name.to_string().into(),
            sort_key(name).into(),
        ]);
        rows.push(match backend {
            DbBackend::Postgres => {
                let n = i * 4;
                format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4)
            }
            _ => "(?, ?, ?, ?)".to_string(),
        });
    }
    values.push(user_id.into());
    let rows = rows.join(", ");
    let sql = match backend {
        DbBackend::Postgres => format!(
            "UPDATE search_entries AS e SET path = v.new, name = v.name, sort_key = v.key \
             FROM (VALUES {rows}) AS v(old, new, name, key) \
             WHERE e.user_id = ${} AND e.path = v.old",
            chunk.len() * 4 + 1
        ),
        _ => format!(
            "WITH v(old, new, name, key) AS (VALUES {rows}) \
             UPDATE search_entries INDEXED BY idx_search_entries_user_id_path \
             SET path = v.new, name = v.name, sort_key = v.key FROM v \
             WHERE search_entries.user_id = ? AND search_entries.path = v.old"
        ),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// A large operation is moving files: the user's index is no longer complete (one small
/// statement per batch, in the batch's transaction), and the next search builds it again.
pub async fn outgrown(txn: &impl TransactionTrait, user_id: Uuid) {
    if let Err(err) = forget(txn, user_id).await {
        tracing::warn!(error = %err, %user_id, "could not mark the search index incomplete");
    }
}

/// Files deleted for good.
pub async fn removed(db: &impl TransactionTrait, user_id: Uuid, paths: &[String]) {
    if paths.is_empty() {
        return;
    }
    let written = async {
        let txn = db.begin().await?;
        for chunk in paths.chunks(CHUNK) {
            search_entries::Entity::delete_many()
                .filter(search_entries::Column::UserId.eq(user_id))
                .filter(search_entries::Column::Path.is_in(chunk))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(err) = written {
        lost_track(db, user_id, err).await;
    }
}

/// The index could not follow a change: it is no longer complete, and the next search
/// builds it again rather than answer from it.
async fn lost_track(db: &impl TransactionTrait, user_id: Uuid, err: anyhow::Error) {
    tracing::warn!(error = %format!("{err:#}"), %user_id, "search index not updated; it will be rebuilt");
    if let Err(err) = forget(db, user_id).await {
        tracing::error!(error = %err, %user_id, "could not mark the search index incomplete");
    }
}

/// Deletes the user's `search_indexes` row (the index is incomplete), in a transaction of
/// its own or a savepoint of the caller's.
async fn forget(db: &impl TransactionTrait, user_id: Uuid) -> Result<(), sea_orm::DbErr> {
    let txn = db.begin().await?;
    search_indexes::Entity::delete_by_id(user_id)
        .exec(&txn)
        .await?;
    txn.commit().await
}

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

use super::{
    ids,
    sort_key::{letters, sort_key},
};
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
        letters: sea_orm::Set(letters(name)),
        ..Default::default()
    }
}

/// Inserts rows (a row already there for a path is left as it is); on SQLite with ids
/// in the user's spans, and a trigger adds each name to the trigram table.
pub(super) async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    files: &[FileMeta],
) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        for chunk in files.chunks(CHUNK / 2) {
            search_entries::Entity::insert_many(chunk.iter().map(|f| row(user_id, f)))
                .on_conflict_do_nothing_on([
                    search_entries::Column::UserId,
                    search_entries::Column::Path,
                ])
                .exec(db)
                .await?;
        }
        return Ok(());
    }
    let owner = ids::owner(db, user_id).await?;
    let (trash, live): (Vec<&FileMeta>, Vec<&FileMeta>) =
        files.iter().partition(|f| ids::in_trash(&f.path));
    for (span, files) in [(owner.live, live), (owner.trash, trash)] {
        for chunk in files.chunks(CHUNK / 2) {
            db.execute_raw(insert_statement(user_id, span, chunk))
                .await?;
        }
    }
    Ok(())
}

/// SQLite: one statement inserting files after the last id taken in `span`.
fn insert_statement(user_id: Uuid, span: ids::Span, files: &[&FileMeta]) -> Statement {
    let mut values: Vec<Value> = vec![user_id.into()];
    let mut rows = Vec::with_capacity(files.len());
    for (n, file) in files.iter().enumerate() {
        let name = paths::name(&file.path);
        rows.push(format!("({}, ?, ?, ?, ?, ?, ?)", n + 1));
        values.extend([
            file.path.clone().into(),
            name.to_string().into(),
            sort_key(name).into(),
            (file.size as i64).into(),
            file.modified.into(),
            letters(name).into(),
        ]);
    }
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!(
            "INSERT INTO search_entries (id, user_id, path, name, sort_key, size_bytes, modified_at, letters) \
             SELECT {} + v.column1, ?, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7 \
             FROM (VALUES {}) AS v WHERE true ON CONFLICT (user_id, path) DO NOTHING",
            span.last_taken(),
            rows.join(", ")
        ),
        values,
    )
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
            if savepoint.get_database_backend() == DbBackend::Sqlite {
                move_sqlite(&savepoint, user_id, chunk).await?;
            } else {
                savepoint
                    .execute_raw(move_statement(DbBackend::Postgres, chunk, user_id))
                    .await?;
            }
        }
        savepoint.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(err) = written {
        lost_track(txn, user_id, err).await;
    }
}

/// SQLite: a move that keeps the name and the half (live or trash) keeps its id, and so
/// its place in the name order; a rename, a trashing or a restore takes a new id after
/// the last in its destination's half.
async fn move_sqlite(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    chunk: &[(String, String)],
) -> anyhow::Result<()> {
    let owner = ids::owner(db, user_id).await?;
    let (mut keep, mut to_live, mut to_trash) = (Vec::new(), Vec::new(), Vec::new());
    for (from, to) in chunk {
        let span = owner.span_of(to);
        if span == owner.span_of(from) && paths::name(from) == paths::name(to) {
            keep.push((from.clone(), to.clone()));
        } else if span == owner.trash {
            to_trash.push((from.clone(), to.clone()));
        } else {
            to_live.push((from.clone(), to.clone()));
        }
    }
    if !keep.is_empty() {
        db.execute_raw(move_statement(DbBackend::Sqlite, &keep, user_id))
            .await?;
    }
    for (span, moves) in [(owner.live, to_live), (owner.trash, to_trash)] {
        if moves.is_empty() {
            continue;
        }
        let mut values: Vec<Value> = Vec::with_capacity(moves.len() * 4 + 1);
        let mut rows = Vec::with_capacity(moves.len());
        for (n, (from, to)) in moves.iter().enumerate() {
            let name = paths::name(to);
            rows.push(format!("({}, ?, ?, ?, ?, ?)", n + 1));
            values.extend([
                from.clone().into(),
                to.clone().into(),
                name.to_string().into(),
                sort_key(name).into(),
                letters(name).into(),
            ]);
        }
        values.push(user_id.into());
        let sql = format!(
            "WITH v(n, old, new, name, key, letters) AS (VALUES {}) \
             UPDATE search_entries INDEXED BY idx_search_entries_user_id_path \
             SET id = {} + v.n, path = v.new, name = v.name, sort_key = v.key, letters = v.letters FROM v \
             WHERE search_entries.user_id = ? AND search_entries.path = v.old",
            rows.join(", "),
            span.last_taken()
        );
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// One statement that moves a chunk of rows: the moves as a `VALUES` list joined on
/// `(user_id, path)`. SQLite is told to use that index (without it, it read the whole
/// table once per chunk).
fn move_statement(backend: DbBackend, chunk: &[(String, String)], user_id: Uuid) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 5 + 1);
    let mut rows = Vec::with_capacity(chunk.len());
    for (i, (from, to)) in chunk.iter().enumerate() {
        let name = paths::name(to);
        values.extend([
            from.clone().into(),
            to.clone().into(),
            name.to_string().into(),
            sort_key(name).into(),
            letters(name).into(),
        ]);
        rows.push(match backend {
            DbBackend::Postgres => {
                let n = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${}::bigint)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                )
            }
            _ => "(?, ?, ?, ?, ?)".to_string(),
        });
    }
    values.push(user_id.into());
    let rows = rows.join(", ");
    let sql = match backend {
        DbBackend::Postgres => format!(
            "UPDATE search_entries AS e SET path = v.new, name = v.name, sort_key = v.key, \
             letters = v.letters FROM (VALUES {rows}) AS v(old, new, name, key, letters) \
             WHERE e.user_id = ${} AND e.path = v.old",
            chunk.len() * 5 + 1
        ),
        _ => format!(
            "WITH v(old, new, name, key, letters) AS (VALUES {rows}) \
             UPDATE search_entries INDEXED BY idx_search_entries_user_id_path \
             SET path = v.new, name = v.name, sort_key = v.key, letters = v.letters FROM v \
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

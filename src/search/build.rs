//! Building a user's index from one walk of their space: on the first search, and again
//! after the index lost track of a change. Files that moved while the walk ran would be
//! indexed where they were, so a build that overlapped a moving operation is not marked
//! complete (that search reads the folder instead; the next one builds again).

use std::{collections::HashSet, sync::Mutex};

use chrono::Utc;
use entity::{
    operations::{self, OperationStatus},
    search_entries, search_indexes,
};
use futures::TryStreamExt;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, Set, TransactionTrait, sea_query::OnConflict,
};
use uuid::Uuid;

use super::{ids, maintain, ordered};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    storage::FileMeta,
};

/// How long a search waits for a build before it reads the folder instead (the build goes
/// on; later searches use the index once it is complete).
const BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Files written per transaction while building.
const BUILD_CHUNK: usize = 10_000;

/// Builds of at least this many files are followed by a VACUUM on PostgreSQL.
const SETTLE_AFTER: i64 = 10_000;

/// Users whose index this process is building now.
static BUILDING: Mutex<Option<HashSet<Uuid>>> = Mutex::new(None);

/// Whether the user's index is ready to answer, building it first when it is not. False
/// when it cannot be built now (files are moving, or this process is building it) or the
/// build takes longer than `BUILD_WAIT`: the caller then reads the folder.
pub async fn ensure(state: &AppState, user_id: Uuid) -> AppResult<bool> {
    if super::ready(&state.db, user_id).await? {
        return Ok(true);
    }
    if !claim(user_id) {
        return Ok(false);
    }
    // Its own task: a search that stops waiting, times out or goes away does not stop a
    // build halfway.
    let state = state.clone();
    let building = tokio::spawn(async move {
        let built = build(&state, user_id).await;
        release(user_id);
        built
    });
    match tokio::time::timeout(BUILD_WAIT, building).await {
        Ok(built) => built.map_err(|err| AppError::Internal(err.into()))?,
        Err(_) => Ok(false),
    }
}

fn claim(user_id: Uuid) -> bool {
    let mut building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    building.get_or_insert_with(HashSet::new).insert(user_id)
}

fn release(user_id: Uuid) {
    let mut building = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(building) = building.as_mut() {
        building.remove(&user_id);
    }
}

async fn build(state: &AppState, user_id: Uuid) -> AppResult<bool> {
    let started = Utc::now();
    if moving(state, user_id, started).await? {
        return Ok(false);
    }
    let db = &state.db;
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    search_entries::Entity::delete_many()
        .filter(search_entries::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if sqlite {
        ordered::clear(db, user_id)
            .await
            .map_err(AppError::Internal)?;
    }
    let space = state.storage.space(user_id);
    let mut files = std::pin::pin!(space.walk(""));
    let mut chunk: Vec<FileMeta> = Vec::with_capacity(BUILD_CHUNK);
    let mut entries = 0i64;
    loop {
        let next = files.try_next().await?;
        let last = next.is_none();
        if let Some(file) = next.filter(|f| !f.is_dir) {
            chunk.push(file);
        }
        if chunk.len() >= BUILD_CHUNK || (last && !chunk.is_empty()) {
            let txn = db.begin().await?;
            if sqlite {
                // Live files wait to be numbered in name order; the trash needs no order.
                let (trash, live): (Vec<FileMeta>, Vec<FileMeta>) =
                    chunk.drain(..).partition(|f| ids::in_trash(&f.path));
                maintain::insert(&txn, user_id, &trash)
                    .await
                    .map_err(AppError::Internal)?;
                ordered::stage(&txn, user_id, &live)
                    .await
                    .map_err(AppError::Internal)?;
                entries += (trash.len() + live.len()) as i64;
            } else {
                maintain::insert(&txn, user_id, &chunk)
                    .await
                    .map_err(AppError::Internal)?;
                entries += chunk.len() as i64;
                chunk.clear();
            }
            txn.commit().await?;
        }
        if last {
            break;
        }
    }
    let (ordered_from, ordered_until) = if sqlite {
        ordered::number(db, user_id)
            .await
            .map_err(AppError::Internal)?
    } else {
        (0, 0)
    };
    if !sqlite && entries >= SETTLE_AFTER {
        settle(db).await;
    }
    if moving(state, user_id, started).await? {
        tracing::info!(%user_id, "files moved while the search index was built; not using it yet");
        return Ok(false);
    }
    search_indexes::Entity::insert(search_indexes::ActiveModel {
        user_id: Set(user_id),
        built_at: Set(Utc::now()),
        entries: Set(entries),
        ordered_from: Set(ordered_from),
        ordered_until: Set(ordered_until),
    })
    .on_conflict(
        OnConflict::column(search_indexes::Column::UserId)
            .update_columns([
                search_indexes::Column::BuiltAt,
                search_indexes::Column::Entries,
                search_indexes::Column::OrderedFrom,
                search_indexes::Column::OrderedUntil,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    tracing::info!(%user_id, entries, seconds = (Utc::now() - started).num_milliseconds() as f64 / 1000.0, "search index built");
    Ok(true)
}

/// PostgreSQL, after many rows were written: statistics for the planner (which index a
/// search takes depends on how common its words are) and the visibility map (without
/// which the index-only scans visit every row) are brought up to date now rather than
/// when autovacuum comes by. VACUUM skips the pages it already knows to be settled, so
/// a large table with one new user costs about that user's pages.
async fn settle(db: &DatabaseConnection) {
    if let Err(err) = db
        .execute_unprepared("VACUUM (ANALYZE) search_entries")
        .await
    {
        tracing::warn!(error = %err, "could not vacuum the search index after a build");
    }
}

/// Whether an operation of the user that moves files is running, or ended after `since`.
async fn moving(state: &AppState, user_id: Uuid, since: chrono::DateTime<Utc>) -> AppResult<bool> {
    let n = operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .filter(operations::Column::IsDryRun.eq(false))
        .filter(
            Condition::any()
                .add(operations::Column::Status.is_in(OperationStatus::ACTIVE))
                .add(operations::Column::CompletedAt.gte(since)),
        )
        .count(&state.db)
        .await?;
    Ok(n > 0)
}

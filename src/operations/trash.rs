//! The trash, as people see it: every file a delete or a duplicate cleanup put in
//! `.trash/`, still there to restore, until it is emptied. An item is the `done` record
//! that moved it there (of an operation whose trash was not purged); restoring makes it
//! `reverted`, emptying makes it `purged`.

use chrono::{Duration, Utc};
use entity::{
    file_records, operations,
    states::{OperationType, RecordStatus},
    users,
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    engine::{TRASH_DIR, relocate::Entry},
    error::{AppError, AppResult},
    operations::actions,
    paging::Page,
    state::AppState,
};

/// A file in the trash, and what put it there.
pub struct TrashItem {
    pub record: file_records::Model,
    pub operation_type: OperationType,
}

/// The records that are the user's trash items.
fn in_trash(user_id: Uuid) -> Condition {
    let operations_with_trash = Query::select()
        .column(operations::Column::Id)
        .from(operations::Entity)
        .and_where(operations::Column::UserId.eq(user_id))
        .and_where(
            operations::Column::OperationType
                .is_in([OperationType::Delete, OperationType::DuplicateCleanup]),
        )
        .and_where(operations::Column::IsDryRun.eq(false))
        .and_where(operations::Column::TrashPurgedAt.is_null())
        .to_owned();
    Condition::all()
        .add(file_records::Column::OperationId.in_subquery(operations_with_trash))
        .add(file_records::Column::Status.eq(RecordStatus::Done))
        .add(file_records::Column::NewPath.starts_with(format!("{TRASH_DIR}/")))
}

/// Newest first; the cursor is the item's id.
pub async fn list(
    state: &AppState,
    user_id: Uuid,
    first: u64,
    after: Option<Uuid>,
) -> AppResult<Page<TrashItem>> {
    let filter = in_trash(user_id);
    let total = file_records::Entity::find()
        .filter(filter.clone())
        .count(&state.db)
        .await?;
    let mut query = file_records::Entity::find().filter(filter);
    if let Some(after) = after {
        query = query.filter(file_records::Column::Id.lt(after));
    }
    let mut records = query
        .order_by_desc(file_records::Column::Id)
        .limit(first + 1)
        .all(&state.db)
        .await?;
    let has_next = records.len() as u64 > first;
    records.truncate(first as usize);
    let kinds: std::collections::HashMap<Uuid, OperationType> = operations::Entity::find()
        .select_only()
        .column(operations::Column::Id)
        .column(operations::Column::OperationType)
        .filter(operations::Column::Id.is_in(records.iter().map(|r| r.operation_id)))
        .into_tuple::<(Uuid, OperationType)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let items = records
        .into_iter()
        .map(|record| TrashItem {
            operation_type: kinds
                .get(&record.operation_id)
                .copied()
                .unwrap_or(OperationType::Delete),
            record,
        })
        .collect();
    Ok(Page {
        items,
        has_next,
        total,
    })
}

/// The chosen items of the user's trash, or `NOT_FOUND` if one is not one of them.
async fn chosen(
    state: &AppState,
    user_id: Uuid,
    ids: &[Uuid],
) -> AppResult<Vec<file_records::Model>> {
    if ids.is_empty() {
        return Err(AppError::bad_input("ids", "choose at least one item"));
    }
    crate::operations::chosen_records(
        &state.db,
        in_trash(user_id),
        ids,
        "ids",
        ("trash item", "items"),
    )
    .await
}

/// Puts the chosen items back where they were (a `RESTORE` operation); a place taken
/// since gets the next free ` (n)` name, never overwritten.
pub async fn restore(
    state: &AppState,
    user_id: Uuid,
    ids: &[Uuid],
) -> AppResult<operations::Model> {
    let entries = chosen(state, user_id, ids)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(Entry {
                from: r.new_path?,
                to: Some(r.original_path),
                record: Some(r.id),
            })
        })
        .collect();
    actions::start(state, user_id, OperationType::Restore, entries).await
}

/// Deletes items for good: the chosen ones, or those in the trash for longer than
/// `older_than_days`, or (neither given) everything. Returns how many went; the
/// storage used drops by what was really deleted.
pub async fn empty(
    state: &AppState,
    user_id: Uuid,
    ids: Option<&[Uuid]>,
    older_than_days: Option<i32>,
) -> AppResult<u64> {
    let records = match (ids, older_than_days) {
        (Some(ids), _) => chosen(state, user_id, ids).await?,
        (None, days) => {
            let mut query = file_records::Entity::find().filter(in_trash(user_id));
            if let Some(days) = days {
                if !(0..=36_500).contains(&days) {
                    return Err(AppError::bad_input(
                        "olderThanDays",
                        "olderThanDays must be between 0 and 36500",
                    ));
                }
                let before = Utc::now() - Duration::days(i64::from(days));
                query = query.filter(file_records::Column::UpdatedAt.lt(before));
            }
            query.all(&state.db).await?
        }
    };
    purge(state, user_id, records).await
}

/// Deletes the files of trash records and marks them `purged`.
pub async fn purge(
    state: &AppState,
    user_id: Uuid,
    records: Vec<file_records::Model>,
) -> AppResult<u64> {
    let (ids, paths): (Vec<Uuid>, Vec<String>) = records
        .into_iter()
        .filter_map(|r| Some((r.id, r.new_path?)))
        .unzip();
    let freed = delete_for_good(state, user_id, &paths).await?;
    for ids in ids.chunks(500) {
        file_records::Entity::update_many()
            .col_expr(
                file_records::Column::Status,
                Expr::value(RecordStatus::Purged),
            )
            .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(file_records::Column::Id.is_in(ids.iter().copied()))
            .filter(file_records::Column::Status.eq(RecordStatus::Done))
            .exec(&state.db)
            .await?;
    }
    let folders: std::collections::BTreeSet<String> = paths
        .iter()
        .map(|p| crate::storage::paths::parent(p).to_string())
        .collect();
    state
        .storage
        .space(user_id)
        .prune_empty_dirs(folders.into_iter().collect(), "")
        .await;
    tracing::info!(%user_id, items = ids.len(), freed, "trash emptied");
    Ok(ids.len() as u64)
}

/// Deletes trashed files for good, and lowers the user's storage used by what was really
/// deleted: what is there now is what is freed; a file already gone frees nothing.
pub async fn delete_for_good(state: &AppState, user_id: Uuid, paths: &[String]) -> AppResult<i64> {
    let space = state.storage.space(user_id);
    let mut freed = 0i64;
    let mut deleted = Vec::new();
    let outcome: AppResult<()> = async {
        for path in paths {
            if let Some(file) = space.stat(path).await?.filter(|f| !f.is_dir) {
                space.delete(&file.path).await?;
                freed += file.size as i64;
                deleted.push(file.path);
            }
        }
        Ok(())
    }
    .await;
    crate::search::maintain::removed(&state.db, user_id, &deleted).await;
    outcome?;
    if freed > 0 {
        users::Entity::update_many()
            .col_expr(
                users::Column::StorageUsedBytes,
                Expr::col(users::Column::StorageUsedBytes).sub(freed),
            )
            .filter(users::Column::Id.eq(user_id))
            .exec(&state.db)
            .await?;
        state.users.forget(user_id);
    }
    Ok(freed)
}

/// How often the retention sweep runs.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// With `TRASH_RETENTION_DAYS` set: deletes for good, once at start and then every hour,
/// what has been in anyone's trash for longer. Several processes may run it: an item is
/// purged once (a second purge finds its record no longer in the trash).
pub fn spawn_retention(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let days = state.config.trash_retention_days?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        // Stops with the process's workers.
        let mut stopping = state.process.stopping.subscribe();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            if *stopping.borrow() {
                return;
            }
            match purge_expired(&state, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(items = n, days, "trash past its retention deleted"),
                Err(err) => {
                    tracing::warn!(error = %err, "trash retention sweep failed; trying again later")
                }
            }
        }
    }))
}

/// Empties every user's trash of items older than `days`.
pub async fn purge_expired(state: &AppState, days: u32) -> AppResult<u64> {
    let users: Vec<Uuid> = operations::Entity::find()
        .select_only()
        .column(operations::Column::UserId)
        .distinct()
        .filter(
            operations::Column::OperationType
                .is_in([OperationType::Delete, OperationType::DuplicateCleanup]),
        )
        .filter(operations::Column::TrashPurgedAt.is_null())
        .into_tuple()
        .all(&state.db)
        .await?;
    let days = Ord::min(i32::try_from(days).unwrap_or(36_500), 36_500);
    let mut purged = 0;
    for user_id in users {
        purged += empty(state, user_id, None, Some(days)).await?;
    }
    Ok(purged)
}

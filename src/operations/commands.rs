//! Starting and steering operations.

use anyhow::Context;
use chrono::Utc;
use entity::{
    file_records, operations,
    states::{OperationStatus, OperationType, Phase, RecordStatus},
    users,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    engine::{Options, Source, TRASH_DIR, trash_path},
    error::{AppError, AppResult},
    jobs::bus::ProgressEvent,
    operations::find_owned,
    state::AppState,
    storage::paths,
};

pub struct StartInput {
    pub op_type: OperationType,
    pub root_path: String,
    pub dry_run: bool,
    pub options: Options,
}

/// Checks the input, records a `pending` operation and queues it.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn start(
    state: &AppState,
    user_id: Uuid,
    input: StartInput,
) -> AppResult<operations::Model> {
    if input.op_type == OperationType::Rollback {
        return Err(AppError::bad_input(
            "type",
            "start a rollback with rollbackOperation(id)",
        ));
    }
    let root = paths::normalize("rootPath", &input.root_path)?;
    let options = input.options.validate()?;
    let space = state.storage.space(user_id);
    match space.stat(&root).await? {
        Some(meta) if meta.is_dir => {}
        Some(_) => {
            return Err(AppError::bad_input(
                "rootPath",
                "rootPath is a file, not a folder",
            ));
        }
        None => return Err(AppError::bad_input("rootPath", "rootPath does not exist")),
    }
    if paths::is_within(&root, TRASH_DIR) {
        return Err(AppError::bad_input(
            "rootPath",
            "the trash folder cannot be organized",
        ));
    }
    create(
        state,
        user_id,
        input.op_type,
        root,
        input.dry_run,
        options,
        Source::Scan,
    )
    .await
}

async fn create(
    state: &AppState,
    user_id: Uuid,
    op_type: OperationType,
    root: String,
    dry_run: bool,
    options: Options,
    source: Source,
) -> AppResult<operations::Model> {
    let active = operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .all(&state.db)
        .await?;
    // Two operations on overlapping folders would move the same files.
    if let Some(other) = active
        .iter()
        .find(|o| paths::is_within(&root, &o.root_path) || paths::is_within(&o.root_path, &root))
    {
        return Err(AppError::Conflict(format!(
            "operation {} is still working on an overlapping folder; wait for it or cancel it",
            other.id
        )));
    }
    let now = Utc::now();
    let op = operations::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        operation_type: Set(op_type),
        status: Set(OperationStatus::Pending),
        phase: Set(Phase::Queued),
        root_path: Set(root),
        is_dry_run: Set(dry_run),
        files_total: Set(None),
        files_scanned: Set(0),
        files_processed: Set(0),
        files_skipped: Set(0),
        duplicates_found: Set(0),
        space_saved_bytes: Set(0),
        error_message: Set(None),
        metadata: Set(options.to_metadata()?),
        rollback_of: Set(source.rollback_of()),
        plan_of: Set(source.plan_of()),
        cancel_requested: Set(false),
        trash_purged_at: Set(None),
        created_at: Set(now),
        started_at: Set(None),
        completed_at: Set(None),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    state.queue.push(op.id).await?;
    state.bus.publish(ProgressEvent::from(&op));
    tracing::info!(operation_id = %op.id, kind = ?op.operation_type, dry_run, "operation queued");
    Ok(op)
}

/// Stops an operation: a pending one at once, a running one at its next batch of files.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn cancel(state: &AppState, user_id: Uuid, id: Uuid) -> AppResult<operations::Model> {
    let op = find_owned(&state.db, user_id, id).await?;
    if op.status.is_terminal() {
        return Err(AppError::Conflict(format!(
            "the operation already ended ({})",
            op.status.to_value()
        )));
    }
    let now = Utc::now();
    operations::Entity::update_many()
        .col_expr(operations::Column::CancelRequested, Expr::value(true))
        .col_expr(operations::Column::UpdatedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    // Not yet taken by a worker: it ends here.
    let stopped = operations::Entity::update_many()
        .col_expr(
            operations::Column::Status,
            Expr::value(OperationStatus::Cancelled),
        )
        .col_expr(operations::Column::Phase, Expr::value(Phase::Done))
        .col_expr(operations::Column::ErrorMessage, Expr::value("cancelled"))
        .col_expr(operations::Column::CompletedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .filter(operations::Column::Status.eq(OperationStatus::Pending))
        .exec(&state.db)
        .await?;
    let op = find_owned(&state.db, user_id, id).await?;
    if stopped.rows_affected == 1 {
        state
            .bus
            .publish(ProgressEvent::of(&op, Some("cancelled".into())));
    }
    Ok(op)
}

/// Starts a rollback of a finished, real (not dry-run) operation.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn rollback(state: &AppState, user_id: Uuid, id: Uuid) -> AppResult<operations::Model> {
    let op = find_owned(&state.db, user_id, id).await?;
    if op.is_dry_run {
        return Err(AppError::bad_input(
            "id",
            "a dry run moved nothing; there is nothing to roll back",
        ));
    }
    if !op.status.is_terminal() {
        return Err(AppError::Conflict(
            "the operation is still running; cancel it or wait for it to end".into(),
        ));
    }
    if op.trash_purged_at.is_some() {
        return Err(AppError::Conflict(
            "this cleanup's trash was purged; its files are gone for good".into(),
        ));
    }
    let earlier = operations::Entity::find()
        .filter(operations::Column::RollbackOf.eq(id))
        .filter(operations::Column::Status.ne(OperationStatus::Failed))
        .filter(operations::Column::Status.ne(OperationStatus::Cancelled))
        .count(&state.db)
        .await?;
    if earlier > 0 {
        return Err(AppError::Conflict(
            "this operation was already rolled back".into(),
        ));
    }
    create(
        state,
        user_id,
        OperationType::Rollback,
        op.root_path.clone(),
        false,
        Options::default(),
        Source::RollbackOf(id),
    )
    .await
}

/// Runs exactly what a dry run planned, as a new operation.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn apply_plan(state: &AppState, user_id: Uuid, id: Uuid) -> AppResult<operations::Model> {
    let op = find_owned(&state.db, user_id, id).await?;
    if !op.is_dry_run {
        return Err(AppError::bad_input(
            "id",
            "only a dry run has a plan to apply",
        ));
    }
    if op.status != OperationStatus::Completed {
        return Err(AppError::Conflict(
            "the dry run has not completed; its plan is not whole".into(),
        ));
    }
    let applied = operations::Entity::find()
        .filter(operations::Column::PlanOf.eq(id))
        .filter(operations::Column::Status.ne(OperationStatus::Failed))
        .filter(operations::Column::Status.ne(OperationStatus::Cancelled))
        .count(&state.db)
        .await?;
    if applied > 0 {
        return Err(AppError::Conflict("this plan was already applied".into()));
    }
    let options = Options::from_metadata(&op.metadata)
        .with_context(|| format!("options of operation {id}"))?;
    create(
        state,
        user_id,
        op.operation_type,
        op.root_path.clone(),
        false,
        options,
        Source::PlanOf(id),
    )
    .await
}

/// Deletes a finished cleanup's trashed duplicates for good.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn purge_trash(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<operations::Model> {
    let op = find_owned(&state.db, user_id, id).await?;
    if op.operation_type != OperationType::DuplicateCleanup || op.is_dry_run {
        return Err(AppError::bad_input(
            "operationId",
            "only a duplicate cleanup that ran (not a dry run) has trash",
        ));
    }
    if !op.status.is_terminal() {
        return Err(AppError::Conflict("the cleanup is still running".into()));
    }
    if op.trash_purged_at.is_some() {
        return Err(AppError::Conflict("the trash was already purged".into()));
    }
    let rolled_back = operations::Entity::find()
        .filter(operations::Column::RollbackOf.eq(id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .count(&state.db)
        .await?;
    if rolled_back > 0 {
        return Err(AppError::Conflict(
            "a rollback of this cleanup is running".into(),
        ));
    }
    let space = state.storage.space(user_id);
    let trashed: Vec<(String, i64)> = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::NewPath)
        .column(file_records::Column::FileSizeBytes)
        .filter(file_records::Column::OperationId.eq(id))
        .filter(file_records::Column::Status.eq(RecordStatus::Done))
        .filter(file_records::Column::IsDuplicate.eq(true))
        .filter(file_records::Column::NewPath.is_not_null())
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut freed = 0i64;
    for (path, size) in &trashed {
        if let Some(file) = space.stat(path).await?.filter(|f| !f.is_dir) {
            space.delete(&file.path).await?;
            freed += size;
        }
    }
    space.remove_all(&trash_path(id, "")).await?;
    let now = Utc::now();
    operations::Entity::update_many()
        .col_expr(operations::Column::TrashPurgedAt, Expr::value(now))
        .col_expr(operations::Column::UpdatedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    users::Entity::update_many()
        .col_expr(
            users::Column::StorageUsedBytes,
            Expr::col(users::Column::StorageUsedBytes).sub(freed),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(&state.db)
        .await?;
    find_owned(&state.db, user_id, id).await
}

//! Starting and steering operations.

use anyhow::Context;
use chrono::Utc;
use entity::{
    file_records, operations,
    states::{OperationStatus, OperationType, RecordStatus},
    users,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    engine::{Options, Source, TRASH_DIR, edits::PlanEdits, options, relocate, trash_path},
    error::{AppError, AppResult},
    jobs::bus::ProgressEvent,
    lifecycle::{self, CancelTaken, NewOperation},
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
    match input.op_type {
        OperationType::Organize | OperationType::DuplicateCleanup => {}
        OperationType::Rollback => {
            return Err(AppError::bad_input(
                "type",
                "start a rollback with rollbackOperation(id)",
            ));
        }
        OperationType::Move | OperationType::Delete | OperationType::Restore => {
            return Err(AppError::bad_input(
                "type",
                "use renameEntry, moveEntries, deleteEntries or restoreEntries",
            ));
        }
    }
    if state.config.require_verified_email
        && !state
            .users
            .get(&state.db, user_id)
            .await?
            .is_some_and(|user| user.is_verified)
    {
        return Err(AppError::Forbidden(
            "confirm your email address before running operations (see requestEmailVerification)"
                .into(),
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
    if options::is_reserved(&root) {
        return Err(AppError::bad_input(
            "rootPath",
            "the trash folder cannot be organized",
        ));
    }
    if input.op_type == OperationType::Organize {
        options.check_destination(&root)?;
    }
    create(
        state,
        user_id,
        Creation {
            op_type: input.op_type,
            root,
            dry_run: input.dry_run,
            metadata: options.to_metadata()?,
            source: Source::Scan,
        },
    )
    .await
}

/// Takes this user's lock for a check-then-act: a write to the user's row first thing in
/// the transaction, so PostgreSQL locks the row and SQLite takes its write lock before
/// anything is read. Concurrent calls of one user run one after another; other users'
/// calls are not held up on PostgreSQL.
async fn lock_user(txn: &DatabaseTransaction, user_id: Uuid) -> AppResult<()> {
    users::Entity::update_many()
        .col_expr(
            users::Column::UpdatedAt,
            Expr::col(users::Column::UpdatedAt),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(txn)
        .await
        .context("lock the user's row")?;
    Ok(())
}

/// What an operation built from earlier records needs of its source, checked under the
/// user's lock so two concurrent requests cannot both pass.
async fn check_source(txn: &DatabaseTransaction, user_id: Uuid, source: Source) -> AppResult<()> {
    let not_failed = |query: sea_orm::Select<operations::Entity>| {
        query
            .filter(operations::Column::Status.ne(OperationStatus::Failed))
            .filter(operations::Column::Status.ne(OperationStatus::Cancelled))
    };
    match source {
        Source::Scan => Ok(()),
        Source::RollbackOf(id) => {
            let op = find_owned(txn, user_id, id).await?;
            if op.trash_purged_at.is_some() {
                return Err(AppError::Conflict(
                    "this cleanup's trash was purged; its files are gone for good".into(),
                ));
            }
            // A partial rollback (`only`) leaves the rest to undo; a whole one, nothing.
            let earlier = not_failed(
                operations::Entity::find().filter(operations::Column::RollbackOf.eq(id)),
            )
            .all(txn)
            .await?;
            let whole = |o: &operations::Model| {
                PlanEdits::of(&o.metadata).is_ok_and(|edits| edits.only.is_empty())
            };
            if earlier.iter().any(whole) {
                return Err(AppError::Conflict(
                    "this operation was already rolled back".into(),
                ));
            }
            Ok(())
        }
        Source::PlanOf(id) => {
            let applied =
                not_failed(operations::Entity::find().filter(operations::Column::PlanOf.eq(id)))
                    .count(txn)
                    .await?;
            if applied > 0 {
                return Err(AppError::Conflict("this plan was already applied".into()));
            }
            Ok(())
        }
    }
}

/// What a new operation is, for `create`.
pub(crate) struct Creation {
    pub op_type: OperationType,
    /// Shown as its folder; for an operation on named paths, their common folder.
    pub root: String,
    pub dry_run: bool,
    pub metadata: serde_json::Value,
    pub source: Source,
}

/// The paths an operation works on: its folder, or for an operation on named paths,
/// each of them and where it goes.
fn covered(op_type: OperationType, root: &str, metadata: &serde_json::Value) -> Vec<String> {
    match op_type {
        OperationType::Move | OperationType::Delete | OperationType::Restore => {
            relocate::entries_of(metadata)
                .map(|entries| {
                    entries
                        .into_iter()
                        .flat_map(|e| std::iter::once(e.from).chain(e.to))
                        .collect()
                })
                .unwrap_or_else(|_| vec![root.to_string()])
        }
        _ => vec![root.to_string()],
    }
}

/// Records a `pending` operation and queues it, unless the user has as many active as
/// they may, or one of them works on an overlapping path (`CONFLICT`).
pub(crate) async fn create(
    state: &AppState,
    user_id: Uuid,
    new: Creation,
) -> AppResult<operations::Model> {
    let Creation {
        op_type,
        root,
        dry_run,
        metadata,
        source,
    } = new;
    let txn = state.db.begin().await?;
    lock_user(&txn, user_id).await?;
    check_source(&txn, user_id, source).await?;
    let active = operations::Entity::find()
        .filter(operations::Column::UserId.eq(user_id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .all(&txn)
        .await?;
    let most = state.config.max_active_operations_per_user;
    if active.len() as u64 >= most {
        return Err(AppError::Conflict(format!(
            "at most {most} operations may be queued or running at once; wait for one to end or cancel it"
        )));
    }
    // Two operations on overlapping paths would move the same files.
    let mine = covered(op_type, &root, &metadata);
    let overlaps = |a: &str, b: &str| paths::is_within(a, b) || paths::is_within(b, a);
    if let Some(other) = active.iter().find(|o| {
        covered(o.operation_type, &o.root_path, &o.metadata)
            .iter()
            .any(|theirs| mine.iter().any(|p| overlaps(p, theirs)))
    }) {
        return Err(AppError::Conflict(format!(
            "operation {} is still working on an overlapping folder; wait for it or cancel it",
            other.id
        )));
    }
    let requeue_after =
        chrono::Duration::from_std(crate::engine::worker::REQUEUE_AFTER).unwrap_or_default();
    let op = lifecycle::create(
        &txn,
        NewOperation {
            user_id,
            operation_type: op_type,
            root_path: root,
            is_dry_run: dry_run,
            metadata,
            rollback_of: source.rollback_of(),
            plan_of: source.plan_of(),
            // Queued now: the sweeper queues it again only if no worker took it by then.
            requeue_at: Utc::now() + requeue_after,
        },
    )
    .await?;
    txn.commit().await?;
    // The operation is accepted once it is in the database: if the queue is unreachable
    // now (Redis down), the sweeper queues it when it is back.
    if let Err(err) = state.queue.push(op.id).await {
        tracing::warn!(operation_id = %op.id, error = %format!("{err:#}"), "operation stored but not queued yet; the sweeper will queue it");
    }
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
    let taken = lifecycle::cancel(&state.db, id).await?;
    let op = find_owned(&state.db, user_id, id).await?;
    match taken {
        CancelTaken::Ended => state
            .bus
            .publish(ProgressEvent::of(&op, Some("cancelled".into()))),
        CancelTaken::Requested => {}
        // It ended between the read above and the request.
        CancelTaken::TooLate => {
            return Err(AppError::Conflict(format!(
                "the operation already ended ({})",
                op.status.to_value()
            )));
        }
    }
    Ok(op)
}

/// Starts a rollback of a finished, real (not dry-run) operation.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn rollback(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
    only: Option<&[Uuid]>,
) -> AppResult<operations::Model> {
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
    let mut edits = PlanEdits::default();
    if let Some(only) = only {
        if only.is_empty() {
            return Err(AppError::bad_input(
                "only",
                "choose at least one record to undo",
            ));
        }
        let records = chosen_seqs(
            state,
            id,
            only,
            "only",
            &[RecordStatus::Done],
            "only files the operation moved, and not undone yet, can be undone",
        )
        .await?;
        edits.only = records.iter().map(|r| r.seq).collect();
    }
    let mut metadata = Options::default().to_metadata()?;
    edits.store(&mut metadata)?;
    create(
        state,
        user_id,
        Creation {
            op_type: OperationType::Rollback,
            root: op.root_path.clone(),
            dry_run: false,
            metadata,
            source: Source::RollbackOf(id),
        },
    )
    .await
}

/// The `seq` of each chosen record of operation `source`, checked: each one of its records
/// (`NOT_FOUND` otherwise) and in one of `statuses` (`BAD_USER_INPUT` naming `field`).
async fn chosen_seqs(
    state: &AppState,
    source: Uuid,
    ids: &[Uuid],
    field: &str,
    statuses: &[RecordStatus],
    why: &str,
) -> AppResult<Vec<file_records::Model>> {
    let records = crate::operations::chosen_records(
        &state.db,
        sea_orm::Condition::all().add(file_records::Column::OperationId.eq(source)),
        ids,
        field,
        ("file record", "records"),
    )
    .await?;
    if let Some(record) = records.iter().find(|r| !statuses.contains(&r.status)) {
        return Err(AppError::bad_input(
            field,
            format!("{}: {why}", record.original_path),
        ));
    }
    Ok(records)
}

/// Runs exactly what a dry run planned, as a new operation.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn apply_plan(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
    exclude: &[Uuid],
    keep: &[Uuid],
) -> AppResult<operations::Model> {
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
    let options = Options::from_metadata(&op.metadata)
        .with_context(|| format!("options of operation {id}"))?;
    let mut edits = PlanEdits::default();
    if !exclude.is_empty() {
        let records = chosen_seqs(
            state,
            id,
            exclude,
            "exclude",
            &[RecordStatus::Planned],
            "only files the plan would move can be left out",
        )
        .await?;
        edits.exclude = records.iter().map(|r| r.seq).collect();
    }
    if !keep.is_empty() {
        if op.operation_type != OperationType::DuplicateCleanup {
            return Err(AppError::bad_input(
                "keep",
                "only a duplicate cleanup's plan has copies to keep",
            ));
        }
        let records = chosen_seqs(
            state,
            id,
            keep,
            "keep",
            &[RecordStatus::Planned, RecordStatus::Kept],
            "only a copy in a duplicate group can be kept",
        )
        .await?;
        let mut groups = std::collections::BTreeSet::new();
        for record in &records {
            let Some(hash) = record
                .file_hash
                .as_ref()
                .filter(|_| record.is_duplicate || record.status == RecordStatus::Kept)
            else {
                return Err(AppError::bad_input(
                    "keep",
                    format!(
                        "{}: only a copy in a duplicate group can be kept",
                        record.original_path
                    ),
                ));
            };
            if !groups.insert(hash.clone()) {
                return Err(AppError::bad_input(
                    "keep",
                    "choose one copy to keep per duplicate group",
                ));
            }
            if edits.exclude.contains(&record.seq) {
                return Err(AppError::bad_input(
                    "keep",
                    format!("{} is both left out and kept", record.original_path),
                ));
            }
        }
        edits.keep = records.iter().map(|r| r.seq).collect();
    }
    let mut metadata = options.to_metadata()?;
    edits.store(&mut metadata)?;
    create(
        state,
        user_id,
        Creation {
            op_type: op.operation_type,
            root: op.root_path.clone(),
            dry_run: false,
            metadata,
            source: Source::PlanOf(id),
        },
    )
    .await
}

/// Deletes a finished cleanup's trashed duplicates for good. The purge is claimed first
/// (under the user's lock, so a rollback cannot start in between and a second purge
/// sees it claimed); then each file is deleted, a file already gone counting as deleted,
/// and the storage used drops by what was really deleted.
#[tracing::instrument(skip_all, fields(%user_id, operation_id = %id))]
pub async fn purge_trash(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
) -> AppResult<operations::Model> {
    let txn = state.db.begin().await?;
    lock_user(&txn, user_id).await?;
    let op = find_owned(&txn, user_id, id).await?;
    let has_trash = matches!(
        op.operation_type,
        OperationType::DuplicateCleanup | OperationType::Delete
    );
    if !has_trash || op.is_dry_run {
        return Err(AppError::bad_input(
            "operationId",
            "only a duplicate cleanup that ran (not a dry run) or a delete has trash",
        ));
    }
    if !op.status.is_terminal() {
        return Err(AppError::Conflict("the cleanup is still running".into()));
    }
    if op.trash_purged_at.is_some() {
        return Err(AppError::Conflict("the trash was already purged".into()));
    }
    let rolling_back = operations::Entity::find()
        .filter(operations::Column::RollbackOf.eq(id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .count(&txn)
        .await?;
    if rolling_back > 0 {
        return Err(AppError::Conflict(
            "a rollback of this cleanup is running".into(),
        ));
    }
    if !lifecycle::mark_trash_purged(&txn, id).await? {
        return Err(AppError::Conflict("the trash was already purged".into()));
    }
    txn.commit().await?;

    let trashed: Vec<String> = file_records::Entity::find()
        .select_only()
        .column(file_records::Column::NewPath)
        .filter(file_records::Column::OperationId.eq(id))
        .filter(file_records::Column::Status.eq(RecordStatus::Done))
        // In the trash (an applied plan's copies are under the dry run's id).
        .filter(file_records::Column::NewPath.starts_with(format!("{TRASH_DIR}/")))
        .into_tuple()
        .all(&state.db)
        .await?;
    let freed = crate::operations::trash::delete_for_good(state, user_id, &trashed).await?;
    let space = state.storage.space(user_id);
    space.remove_all(&trash_path(id, "")).await?;
    tracing::info!(files = trashed.len(), freed, "trash purged");
    find_owned(&state.db, user_id, id).await
}

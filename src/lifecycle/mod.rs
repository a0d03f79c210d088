//! The one owner of an operation's life: every write to the `operations` table is made
//! here — create, claim, renew, release, cancel, progress, finish, re-queue, take over,
//! and the few marks a finished operation gets. The engine, the operations service and
//! the sweeper ask this module; none of them builds an update of `operations` itself.
//!
//! * `transition` — which status and phase changes are legal (one place, typed);
//! * `fence` — the epoch every write of a run carries, so a worker that lost its lease
//!   changes nothing;
//! * `lease` — claim (one conditional update, `RETURNING` the row), renew, release,
//!   re-queue and take over;
//! * `progress` — counters and measured progress written by a run, and its ending.
//!
//! Reads stay with their readers (`operations::queries`, the hub, the engine's cancel
//! watch): they change nothing.

pub mod fence;
pub mod lease;
pub mod progress;
pub mod transition;

use chrono::{DateTime, Utc};
use entity::{
    operations,
    states::{OperationStatus, OperationType, Phase},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

pub use fence::{Fence, Fenced, is_fenced};
pub use transition::{Ending, Transition};

/// What a new operation is.
pub struct NewOperation {
    pub user_id: Uuid,
    pub operation_type: OperationType,
    pub root_path: String,
    pub is_dry_run: bool,
    pub metadata: serde_json::Value,
    pub rollback_of: Option<Uuid>,
    pub plan_of: Option<Uuid>,
    /// When the sweeper should queue it again if no worker has taken it by then.
    pub requeue_at: DateTime<Utc>,
}

/// Records a `pending` operation, waiting in the queue.
pub async fn create(
    conn: &impl ConnectionTrait,
    new: NewOperation,
) -> Result<operations::Model, DbErr> {
    let now = Utc::now();
    operations::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(new.user_id),
        operation_type: Set(new.operation_type),
        status: Set(OperationStatus::Pending),
        phase: Set(Phase::Queued),
        root_path: Set(new.root_path),
        is_dry_run: Set(new.is_dry_run),
        files_total: Set(None),
        files_scanned: Set(0),
        files_processed: Set(0),
        files_skipped: Set(0),
        duplicates_found: Set(0),
        space_saved_bytes: Set(0),
        error_message: Set(None),
        metadata: Set(new.metadata),
        rollback_of: Set(new.rollback_of),
        plan_of: Set(new.plan_of),
        cancel_requested: Set(false),
        lease_owner: Set(None),
        lease_expires_at: Set(Some(new.requeue_at)),
        moves_reach_seq: Set(None),
        lease_epoch: Set(0),
        percent: Set(None),
        files_per_second: Set(None),
        seconds_left: Set(None),
        phase_done: Set(None),
        phase_total: Set(None),
        trash_purged_at: Set(None),
        created_at: Set(now),
        started_at: Set(None),
        completed_at: Set(None),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
}

/// How a cancel request was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelTaken {
    /// No worker had it: it is `cancelled` now.
    Ended,
    /// A worker runs it: the run stops at its next batch of files (it reads the flag).
    Requested,
    /// It had already ended.
    TooLate,
}

/// Asks an operation to stop: flags it for the worker running it, and ends it at once
/// if no worker has taken it yet.
pub async fn cancel(conn: &impl ConnectionTrait, id: Uuid) -> Result<CancelTaken, DbErr> {
    let now = Utc::now();
    let flagged = operations::Entity::update_many()
        .col_expr(operations::Column::CancelRequested, Expr::value(true))
        .col_expr(operations::Column::UpdatedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .filter(operations::Column::Status.is_in(OperationStatus::ACTIVE))
        .exec(conn)
        .await?;
    if flagged.rows_affected == 0 {
        return Ok(CancelTaken::TooLate);
    }
    let ended = Transition::CancelQueued
        .guard(operations::Entity::update_many())
        .col_expr(operations::Column::Phase, Expr::value(Phase::Done))
        .col_expr(operations::Column::ErrorMessage, Expr::value("cancelled"))
        .col_expr(operations::Column::CompletedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(if ended.rows_affected == 1 {
        CancelTaken::Ended
    } else {
        CancelTaken::Requested
    })
}

/// Marks a finished cleanup's trash as deleted for good: a rollback can no longer bring
/// it back. `false` when it was already marked (another purge came first).
pub async fn mark_trash_purged(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    let marked = operations::Entity::update_many()
        .col_expr(operations::Column::TrashPurgedAt, Expr::value(now))
        .col_expr(operations::Column::UpdatedAt, Expr::value(now))
        .filter(operations::Column::Id.eq(id))
        .filter(operations::Column::TrashPurgedAt.is_null())
        .filter(operations::Column::Status.is_not_in(OperationStatus::ACTIVE))
        .exec(conn)
        .await?;
    Ok(marked.rows_affected == 1)
}

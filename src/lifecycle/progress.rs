//! What a run writes about itself: its counters and measured progress, how far its
//! files may move, and how it ended. Every write here carries the run's fence.

use anyhow::Context;
use chrono::Utc;
use entity::{operations, states::Phase};
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::Expr};

use super::{Ending, Fence, Transition, transition::phase_may_follow};

/// A phase change the lifecycle does not allow.
#[derive(Debug, thiserror::Error)]
#[error("illegal phase change of operation {operation_id}: {from:?} to {to:?}")]
pub struct IllegalPhase {
    pub operation_id: uuid::Uuid,
    pub from: Phase,
    pub to: Phase,
}

/// Moves the run's copy of the row to `phase`, if that is legal; written at the next
/// `record`.
pub fn enter_phase(op: &mut operations::Model, phase: Phase) -> Result<(), IllegalPhase> {
    if !phase_may_follow(op.phase, phase) {
        return Err(IllegalPhase {
            operation_id: op.id,
            from: op.phase,
            to: phase,
        });
    }
    op.phase = phase;
    Ok(())
}

/// Writes the run's counters and measured progress (`op`, the run's copy of the row,
/// which gets the time of the write).
pub async fn record(
    conn: &impl ConnectionTrait,
    fence: Fence,
    op: &mut operations::Model,
) -> anyhow::Result<()> {
    op.updated_at = Utc::now();
    let op = &*op;
    let rows = crate::db::retry_stale(|| fence.guard(counters(op)).exec(conn))
        .await
        .context("write the operation's counters")?
        .rows_affected;
    fence.expect_row(rows)
}

/// Records how the run ended, with its last counters; `op` gets the ending too.
pub async fn finish(
    conn: &impl ConnectionTrait,
    fence: Fence,
    op: &mut operations::Model,
    ending: Ending,
    message: Option<String>,
) -> anyhow::Result<()> {
    op.status = ending.status();
    op.phase = Phase::Done;
    op.error_message = message.clone();
    op.updated_at = Utc::now();
    op.completed_at = Some(op.updated_at);
    let op = &*op;
    let rows = crate::db::retry_stale(|| {
        fence
            .guard(Transition::Finish(ending).guard(counters(op)))
            .col_expr(
                operations::Column::ErrorMessage,
                Expr::value(message.clone()),
            )
            .col_expr(
                operations::Column::CompletedAt,
                Expr::value(op.completed_at),
            )
            .exec(conn)
    })
    .await
    .context("record how the operation ended")?
    .rows_affected;
    fence.expect_row(rows)
}

/// Records that files may move up to `seq` (in the order the run applies its records):
/// written before any of them is claimed, so a resumed run knows where to look.
pub async fn extend_moves_reach(
    conn: &impl ConnectionTrait,
    fence: Fence,
    seq: i64,
) -> anyhow::Result<()> {
    let rows = crate::db::retry_stale(|| {
        fence
            .guard(
                operations::Entity::update_many()
                    .col_expr(operations::Column::MovesReachSeq, Expr::value(seq)),
            )
            .exec(conn)
    })
    .await
    .context("write how far files may move")?
    .rows_affected;
    fence.expect_row(rows)
}

/// The update of every counter and measurement a run keeps with the row.
fn counters(op: &operations::Model) -> sea_orm::UpdateMany<operations::Entity> {
    use operations::Column as C;
    operations::Entity::update_many()
        .col_expr(C::Phase, Expr::value(op.phase))
        .col_expr(C::FilesTotal, Expr::value(op.files_total))
        .col_expr(C::FilesScanned, Expr::value(op.files_scanned))
        .col_expr(C::FilesProcessed, Expr::value(op.files_processed))
        .col_expr(C::FilesSkipped, Expr::value(op.files_skipped))
        .col_expr(C::DuplicatesFound, Expr::value(op.duplicates_found))
        .col_expr(C::SpaceSavedBytes, Expr::value(op.space_saved_bytes))
        .col_expr(C::Percent, Expr::value(op.percent))
        .col_expr(C::FilesPerSecond, Expr::value(op.files_per_second))
        .col_expr(C::SecondsLeft, Expr::value(op.seconds_left))
        .col_expr(C::PhaseDone, Expr::value(op.phase_done))
        .col_expr(C::PhaseTotal, Expr::value(op.phase_total))
        .col_expr(C::UpdatedAt, Expr::value(op.updated_at))
}

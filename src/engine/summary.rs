//! An operation's counters as sums over its records, so they are true whatever happened
//! on the way (a crash, a resume, a cancel).

use anyhow::Context;
use entity::{
    file_records,
    states::{OperationType, RecordStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::engine::tracker::Tracker;

#[derive(FromQueryResult)]
struct Sums {
    status: RecordStatus,
    is_duplicate: bool,
    files: i64,
    bytes: Option<i64>,
}

/// Sets the tracker's counters from the records and writes them. Returns how many
/// records failed.
pub async fn summarize(tracker: &mut Tracker) -> anyhow::Result<i64> {
    let rows = sums(tracker.db(), tracker.op.id).await?;
    let count = |pred: &dyn Fn(&Sums) -> bool| {
        rows.iter()
            .filter(|r| pred(r))
            .map(|r| r.files)
            .sum::<i64>()
    };
    let bytes = |pred: &dyn Fn(&Sums) -> bool| {
        rows.iter()
            .filter(|r| pred(r))
            .filter_map(|r| r.bytes)
            .sum::<i64>()
    };
    let dry = tracker.op.is_dry_run;
    let acted = |r: &Sums| {
        if dry {
            r.status == RecordStatus::Planned
        } else {
            matches!(r.status, RecordStatus::Done | RecordStatus::Reverted)
        }
    };
    let op = &mut tracker.op;
    op.files_processed = count(&acted);
    op.files_skipped = count(&|r| r.status == RecordStatus::Skipped);
    if op.operation_type == OperationType::DuplicateCleanup {
        op.duplicates_found = count(&|r| r.is_duplicate && acted(r));
        op.space_saved_bytes = bytes(&|r| r.is_duplicate && acted(r));
    }
    // Files to act on: the copies a cleanup keeps are not (they are reported as kept).
    op.files_total = Some(count(&|r| r.status != RecordStatus::Kept));
    let failed = count(&|r| r.status == RecordStatus::Failed);
    tracker.flush().await?;
    Ok(failed)
}

async fn sums(db: &impl ConnectionTrait, operation_id: Uuid) -> anyhow::Result<Vec<Sums>> {
    file_records::Entity::find()
        .select_only()
        .column(file_records::Column::Status)
        .column(file_records::Column::IsDuplicate)
        .column_as(file_records::Column::Id.count(), "files")
        .column_as(
            Expr::col(file_records::Column::FileSizeBytes)
                .sum()
                .cast_as("BIGINT"),
            "bytes",
        )
        .filter(file_records::Column::OperationId.eq(operation_id))
        .group_by(file_records::Column::Status)
        .group_by(file_records::Column::IsDuplicate)
        .into_model::<Sums>()
        .all(db)
        .await
        .context("sum the operation's records")
}

//! Records copied from an earlier operation: a dry run's plan as it was planned
//! (`applyPlan`), or a finished operation's done records reversed (a rollback: from
//! where each file went back to where it was). Each copy keeps its source's `seq`; a
//! rollback applies them newest first.

use anyhow::Context;
use entity::{file_records, states::RecordStatus};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::engine::{
    failure::Failure,
    records::{INSERT_BATCH, NewRecord, RecordSink},
    tracker::Tracker,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The plan as it was: planned records to do, skipped and kept ones with their reasons.
    AsPlanned,
    /// Done moves, undone: from `new_path` back to `original_path`.
    Reversed,
}

pub async fn copy_records(
    tracker: &mut Tracker,
    source: Uuid,
    direction: Direction,
) -> Result<(), Failure> {
    let of_source =
        || file_records::Entity::find().filter(file_records::Column::OperationId.eq(source));
    // What is copied: records of these statuses (with a destination, for a rollback).
    let (statuses, with_destination): (&[RecordStatus], bool) = match direction {
        Direction::Reversed => (&[RecordStatus::Done], true),
        Direction::AsPlanned => (
            &[
                RecordStatus::Planned,
                RecordStatus::Skipped,
                RecordStatus::Kept,
            ],
            false,
        ),
    };
    let wanted = |row: &file_records::Model| {
        statuses.contains(&row.status) && (!with_destination || row.new_path.is_some())
    };
    let mut counted =
        of_source().filter(file_records::Column::Status.is_in(statuses.iter().copied()));
    if with_destination {
        counted = counted.filter(file_records::Column::NewPath.is_not_null());
    }
    tracker.work.expected = Some(
        counted
            .count(tracker.db())
            .await
            .context("count the source operation's records")? as i64,
    );
    let mut after = 0i64;
    let mut sink = RecordSink::new(tracker);
    loop {
        // By `seq` alone, the status checked here: with the status in SQL, PostgreSQL
        // (before it has statistics) read every record of that status through the status
        // index and sorted them, once per batch.
        let rows = of_source()
            .filter(file_records::Column::Seq.gt(after))
            .order_by_asc(file_records::Column::Seq)
            .limit(INSERT_BATCH as u64)
            .all(sink.tracker.db())
            .await
            .context("read the source operation's records")?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        sink.tracker.stop_if_cancelled()?;
        for row in rows.into_iter().filter(wanted) {
            sink.tracker.op.files_scanned += 1;
            let seq = row.seq;
            sink.push_with_seq(seq, copy_of(row, direction)?).await?;
        }
    }
    sink.flush().await?;
    Ok(())
}

fn copy_of(row: file_records::Model, direction: Direction) -> anyhow::Result<NewRecord> {
    let (from, to, status, note) = match direction {
        Direction::Reversed => (
            row.new_path
                .context("a done record without a destination")?,
            Some(row.original_path),
            // A reversed record is always to do.
            RecordStatus::Planned,
            None,
        ),
        Direction::AsPlanned => (row.original_path, row.new_path, row.status, row.error),
    };
    Ok(NewRecord {
        original_path: from,
        new_path: to,
        size: row.file_size_bytes.max(0) as u64,
        modified: row.file_modified_at,
        hash: row.file_hash,
        category: row.category,
        is_duplicate: row.is_duplicate,
        status,
        note,
    })
}

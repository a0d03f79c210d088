//! Carrying out planned records, a batch at a time:
//! 1. *prepare* each file: check it is still what the record says, and claim its
//!    destination (an empty placeholder created only if nothing is there);
//! 2. record the claimed destinations (`moving`) — the write-ahead step;
//! 3. move each file onto its placeholder;
//! 4. record each outcome: `done`, `skipped` with the reason, or `failed` with the error.
//!
//! A worker that dies anywhere in this loop leaves records from which a resumed run can
//! tell what happened to each file: `planned` ones were not touched; for `moving` ones,
//! the file is either still at its source (move it onto the recorded placeholder) or
//! already at the destination (mark it done).

use anyhow::Context;
use chrono::Utc;
use entity::file_records;
use futures::StreamExt;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{CaseStatement, Expr},
};
use uuid::Uuid;

use crate::{
    engine::{
        RecordStatus,
        plan::sha256,
        runner::{Failure, Tracker},
    },
    state::AppState,
    storage::{IN_FLIGHT, UserSpace},
};

/// Records per round trip; also how often a running operation notices a cancel.
const BATCH: u64 = 128;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// An organize or cleanup applying the plan it just made.
    Fresh,
    /// `applyPlan`: each file must be unchanged since the dry run (size and time).
    Plan,
    /// A rollback: each file must still be what the source operation left (size, and
    /// content where a hash is known), and its original place must be free.
    Rollback { source: Uuid },
}

enum Outcome {
    Done(String),
    Skipped(String),
    Failed(String),
}

enum Prepared {
    Move { to: String },
    Finished(Outcome),
}

pub async fn apply(state: &AppState, tracker: &mut Tracker, mode: Mode) -> Result<(), Failure> {
    let op = tracker.op.clone();
    let space = state.storage.space(op.user_id);
    let newest_first = matches!(mode, Mode::Rollback { .. });
    let mut claimed_total = 0u64;
    loop {
        let cancelled = tracker.cancel_requested().await?;
        let mut query = file_records::Entity::find()
            .filter(file_records::Column::OperationId.eq(op.id))
            .filter(file_records::Column::Status.is_in([
                RecordStatus::Planned.as_str(),
                RecordStatus::Moving.as_str(),
            ]));
        query = if newest_first {
            query.order_by_desc(file_records::Column::Seq)
        } else {
            query.order_by_asc(file_records::Column::Seq)
        };
        let batch = query.limit(BATCH).all(tracker.db()).await?;
        if batch.is_empty() {
            return Ok(());
        }
        if cancelled {
            skip_remaining(tracker, op.id).await?;
            return Ok(());
        }

        let prepared: Vec<(file_records::Model, Prepared)> = futures::stream::iter(batch)
            .map(|record| {
                let space = &space;
                async move {
                    let prepared = prepare(space, &record, mode).await.unwrap_or_else(|err| {
                        tracing::warn!(error = %format!("{err:#}"), path = %record.original_path, "could not prepare a move");
                        Prepared::Finished(Outcome::Failed(storage_error(&err)))
                    });
                    (record, prepared)
                }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;

        // Write ahead: the claimed destinations are on record before any file moves.
        let claimed: Vec<(Uuid, Option<String>)> = prepared
            .iter()
            .filter_map(|(record, prepared)| match prepared {
                Prepared::Move { to } => Some((record.id, Some(to.clone()))),
                Prepared::Finished(_) => None,
            })
            .collect();
        set_records(
            tracker.db(),
            RecordStatus::Moving,
            file_records::Column::NewPath,
            claimed,
        )
        .await?;
        claimed_total += prepared
            .iter()
            .filter(|(_, p)| matches!(p, Prepared::Move { .. }))
            .count() as u64;
        if state
            .config
            .fault_stop_after_files
            .is_some_and(|n| claimed_total >= n)
        {
            return Err(Failure::SimulatedCrash);
        }

        let outcomes: Vec<(file_records::Model, Outcome)> = futures::stream::iter(prepared)
            .map(|(record, prepared)| {
                let space = &space;
                async move {
                    let outcome = match prepared {
                        Prepared::Finished(outcome) => outcome,
                        Prepared::Move { to } => match space.move_onto_claimed(&record.original_path, &to, record.file_size_bytes as u64).await {
                            Ok(()) => Outcome::Done(to),
                            Err(err) => {
                                tracing::warn!(error = %format!("{err:#}"), path = %record.original_path, "move failed");
                                space.release(&to).await;
                                Outcome::Failed(storage_error(&err))
                            }
                        },
                    };
                    (record, outcome)
                }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;

        let (mut done, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        let mut reverted = Vec::new();
        for (record, outcome) in outcomes {
            match outcome {
                Outcome::Done(to) => {
                    tracker.op.files_processed += 1;
                    if record.is_duplicate {
                        tracker.op.duplicates_found += 1;
                        tracker.op.space_saved_bytes += record.file_size_bytes;
                    }
                    reverted.push(record.seq);
                    done.push((record.id, Some(to)));
                }
                Outcome::Skipped(reason) => {
                    tracker.op.files_skipped += 1;
                    skipped.push((record.id, Some(reason)));
                }
                Outcome::Failed(error) => failed.push((record.id, Some(error))),
            }
        }
        let txn = tracker.db().begin().await?;
        set_records(
            &txn,
            RecordStatus::Done,
            file_records::Column::NewPath,
            done,
        )
        .await?;
        set_records(
            &txn,
            RecordStatus::Skipped,
            file_records::Column::Error,
            skipped,
        )
        .await?;
        set_records(
            &txn,
            RecordStatus::Failed,
            file_records::Column::Error,
            failed,
        )
        .await?;
        if let Mode::Rollback { source } = mode
            && !reverted.is_empty()
        {
            file_records::Entity::update_many()
                .col_expr(
                    file_records::Column::Status,
                    Expr::value(RecordStatus::Reverted.as_str()),
                )
                .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(file_records::Column::OperationId.eq(source))
                .filter(file_records::Column::Seq.is_in(reverted))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        tracker.tick().await?;
    }
}

/// What the client may read about a storage failure: the kind, never a server path.
fn storage_error(err: &anyhow::Error) -> String {
    let kind = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<opendal::Error>())
        .map(|e| e.kind());
    match kind {
        Some(opendal::ErrorKind::NotFound) => "file not found".into(),
        Some(opendal::ErrorKind::PermissionDenied) => "permission denied by storage".into(),
        Some(kind) => format!("storage error: {kind}"),
        None if err.to_string().contains("symbolic link") => {
            "path leads outside the user's space".into()
        }
        None => "storage error".into(),
    }
}

/// Gives records one status and each its own value of `column`, in one statement
/// (`CASE id WHEN … THEN … END`), so a batch costs a round trip, not one per file.
async fn set_records(
    db: &impl sea_orm::ConnectionTrait,
    status: RecordStatus,
    column: file_records::Column,
    values: Vec<(Uuid, Option<String>)>,
) -> anyhow::Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = values.iter().map(|(id, _)| *id).collect();
    let per_record = values
        .into_iter()
        .fold(CaseStatement::new(), |case, (id, value)| {
            case.case(file_records::Column::Id.eq(id), Expr::val(value))
        })
        .finally(Expr::col(column));
    file_records::Entity::update_many()
        .col_expr(file_records::Column::Status, Expr::value(status.as_str()))
        .col_expr(column, per_record.into())
        .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(file_records::Column::Id.is_in(ids))
        .exec(db)
        .await
        .context("update file records")?;
    Ok(())
}

/// On cancel, what was not started ends `skipped`, so every record has an outcome.
async fn skip_remaining(tracker: &mut Tracker, operation_id: Uuid) -> anyhow::Result<()> {
    let result = file_records::Entity::update_many()
        .col_expr(
            file_records::Column::Status,
            Expr::value(RecordStatus::Skipped.as_str()),
        )
        .col_expr(
            file_records::Column::Error,
            Expr::value("operation cancelled before this file"),
        )
        .col_expr(file_records::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(file_records::Column::OperationId.eq(operation_id))
        .filter(file_records::Column::Status.eq(RecordStatus::Planned.as_str()))
        .exec(tracker.db())
        .await?;
    tracker.op.files_skipped += result.rows_affected as i64;
    Ok(())
}

async fn prepare(
    space: &UserSpace,
    record: &file_records::Model,
    mode: Mode,
) -> anyhow::Result<Prepared> {
    let skip = |reason: &str| Ok(Prepared::Finished(Outcome::Skipped(reason.to_string())));
    let Some(wanted) = record.new_path.clone() else {
        return skip("nothing to do");
    };
    let expected = record.file_size_bytes.max(0) as u64;
    let source = space
        .stat(&record.original_path)
        .await?
        .filter(|f| !f.is_dir);
    let resuming = record.status == RecordStatus::Moving.as_str();

    let Some(source) = source else {
        // Gone from its source: if a dead worker already moved it, that move is done.
        if resuming
            && let Some(dest) = space
                .stat(&wanted)
                .await?
                .filter(|f| !f.is_dir && f.size == expected)
        {
            return Ok(Prepared::Finished(Outcome::Done(dest.path)));
        }
        return skip("the file is no longer there");
    };
    if resuming && let Some(dest) = space.stat(&wanted).await? {
        // Our placeholder from before the crash (empty), still ours to move onto.
        if !dest.is_dir && dest.size == 0 {
            return Ok(Prepared::Move { to: wanted });
        }
    }

    match mode {
        Mode::Fresh => {}
        Mode::Plan => {
            let same_time = match (source.modified, record.file_modified_at) {
                (Some(now), Some(then)) => now.timestamp_millis() == then.timestamp_millis(),
                (None, None) => true,
                _ => false,
            };
            if source.size != expected || !same_time {
                return skip("changed since it was planned (size or modified time differs)");
            }
        }
        Mode::Rollback { .. } => {
            if source.size != expected {
                return skip("changed since the operation (size differs)");
            }
            if let Some(hash) = &record.file_hash
                && &sha256(space, &record.original_path).await? != hash
            {
                return skip("changed since the operation (content differs)");
            }
            // Back to exactly where it was, or not at all.
            return if space.claim(&wanted).await? {
                Ok(Prepared::Move { to: wanted })
            } else {
                skip("its original place is taken by another file")
            };
        }
    }
    let to = space.claim_free_name(&wanted).await?;
    Ok(Prepared::Move { to })
}
